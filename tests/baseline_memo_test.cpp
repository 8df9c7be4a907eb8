// The observed baseline judged again only where an inventory edit can change it, and address
// groups and set digests taken from the last compilation when their content is the same (CompileMemo)
// gives exactly what judging every edge gives, edit after edit.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "support/inventory_edits.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/policy/compile.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/service/status.hpp"

using namespace wardgate;

namespace {

std::vector<std::string> described(const Policy& p) {
    std::vector<std::string> out;
    for (const auto& h : p.pinholes)
        out.push_back(fmt::format("pinhole {} {} -> {} {} {}:{} | {} | {}", h.src_name, h.src.to_string(), h.dst_name,
                                  h.dst.to_string(), static_cast<int>(h.protocol), h.port, h.why.source, h.why.detail));
    for (const auto& r : p.refused)
        out.push_back(fmt::format("refused {} {} {} -> {} {} {}:{} | {} | {}", to_string(r.reason), r.src_name,
                                  r.src.to_string(), r.dst_name, r.dst.to_string(), static_cast<int>(r.protocol), r.port,
                                  r.detail, r.connections));
    out.push_back(fmt::format("unrouted {}", p.unrouted_flows));
    return out;
}

}  // namespace

TEST_CASE("the baseline kept from the last compilation, judged again only where an edit reaches, equals a fresh one",
          "[policy][baseline][cache]") {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    const Pipeline loaded = run_pipeline(testing::kExampleSite, o);
    Site site = *loaded.site;
    // Every stage keeps its baseline, with evidence thresholds the captures both meet and miss.
    for (Lifecycle l : {Lifecycle::support, Lifecycle::limited_support, Lifecycle::end_of_support}) {
        Stance& s = site.stances[l];
        s.baseline = true;
        s.baseline_min_days = 2;
        s.baseline_min_connections = 5;
    }
    // An endpoint known only by a DNS name, approved for TCP from anywhere: its address moves
    // from answer to answer without any inventory edit.
    Endpoint cloud;
    cloud.name = "vendor-cloud";
    cloud.kind = "vendor-support";
    cloud.role = "vendor-support";
    cloud.dns_names = {"cloud.vendor.example"};
    site.endpoints.push_back(cloud);
    REQUIRE(!site.approvals.empty());
    Approval to_cloud = site.approvals.front();
    to_cloud.id = "to-cloud";
    to_cloud.from = *PeerRef::parse("any");
    to_cloud.to = *PeerRef::parse("endpoint:vendor-cloud");
    to_cloud.service = Service{Protocol::tcp, {}, {}};
    to_cloud.expires.reset();
    site.approvals.push_back(to_cloud);
    auto prev_site = std::make_shared<Site>(site);
    auto prev_book = std::make_unique<AddressBook>(*prev_site);
    Date prev_today = o.today;
    std::vector<ClassifiedEdge> prev_edges = classify_edges(testing::observed_of(loaded.edges), *prev_book, o.today);
    std::vector<IpAddress> seen;
    for (const auto& c : prev_edges) {
        seen.push_back(c.observed.key.initiator);
        seen.push_back(c.observed.key.responder);
    }
    std::vector<IpAddress> tcp_responders;
    for (const auto& c : prev_edges)
        if (c.observed.key.protocol == Protocol::tcp) tcp_responders.push_back(c.observed.key.responder);
    DnsAnswers dns;
    auto answer = [&](const IpAddress& a) { dns["cloud.vendor.example"] = DnsAnswer{{a}, 300, {}}; };
    answer(tcp_responders.front());
    CompileMemo memo;
    nft::SetDigests digests;
    EdgeLineage lineage{1, 0, {}};
    auto compile = [&](const AddressBook& book, const std::vector<ClassifiedEdge>& edges, const Date& today,
                       CompileMemo* m) {
        return compile_policy(book, [&] { return ObservedView{&edges, &lineage}; }, today, dns, m);
    };
    const Policy first = compile(*prev_book, prev_edges, prev_today, &memo);
    REQUIRE(!memo.baseline.reused);
    REQUIRE(first.pinholes.size() > 3);
    REQUIRE(first.refused.size() > 3);

    std::mt19937 rng(20261206);
    size_t reused = 0, judged = 0, pinholes_changed = 0, groups_kept = 0, groups_built = 0, sets_kept = 0;
    std::vector<std::string> last = described(first);
    for (int round = 0; round < 200; ++round) {
        INFO("round " << round);
        auto next = std::make_shared<Site>(*prev_site);
        for (int i = 0, n = 1 + round % 3; i < n; ++i) testing::edit_inventory(*next, rng, seen);
        Date today = prev_today;
        // Now and then something the memo cannot carry over: a stance, the day, the approvals.
        if (round % 20 == 9) next->stances[Lifecycle::support].baseline_min_connections = 1 + round % 7;
        if (round % 20 == 13) today = Date{std::chrono::sys_days{today} + std::chrono::days{200}};
        if (round % 20 == 17) next->approvals.front().reason += " (renewed)";
        if (round % 3 == 1) answer(tcp_responders[rng() % tcp_responders.size()]);
        auto book = std::make_unique<AddressBook>(*next);
        Reclassification what;
        auto edges = reclassify_edges(prev_edges, *prev_site, prev_today, *book, today, {}, &what);
        lineage = EdgeLineage{lineage.list + 1, what.carried ? lineage.list : 0, what.edited};
        const Policy kept = compile(*book, edges, today, &memo);
        const Policy fresh = compile_policy(*book, edges, today, dns);
        if (memo.baseline.reused) {
            ++reused;
            judged += memo.baseline.judged;
        }
        groups_kept += memo.groups.found();
        groups_built += memo.groups.missed();
        const auto a = described(kept), f = described(fresh);
        CHECK(a == f);
        CHECK(service::policy_version(nft::lower_policy(kept), &digests) ==
              service::policy_version(nft::lower_policy(fresh)));
        sets_kept += digests.found();
        REQUIRE(kept.groups.size() == fresh.groups.size());
        for (size_t g = 0; g < kept.groups.size(); ++g) {
            INFO("group " << fresh.groups[g].name);
            CHECK(kept.groups[g].name == fresh.groups[g].name);
            CHECK(kept.groups[g].label == fresh.groups[g].label);
            CHECK(kept.groups[g].members == fresh.groups[g].members);
            CHECK(kept.groups[g].prefixes == fresh.groups[g].prefixes);
        }
        pinholes_changed += f != last;
        last = f;
        prev_site = std::move(next);
        prev_book = std::move(book);
        prev_edges = std::move(edges);
        prev_today = today;
    }
    // The memo was used for most edits, judged a small part of the edges each time, and the
    // edits did change the baseline.
    CHECK(reused > 120);
    CHECK(judged < reused * prev_edges.size() / 4);
    CHECK(pinholes_changed > 50);
    // Most groups and sets were taken from the memo, and some had to be built again.
    CHECK(groups_kept > 2 * groups_built);
    CHECK(groups_built > 100);
    CHECK(sets_kept > 200);
}
