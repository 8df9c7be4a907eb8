// Classifying the same observations again after an inventory edit, keeping what did not
// change, gives exactly what classifying them from scratch gives.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "support/inventory_edits.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"

using namespace wardgate;

namespace {

std::string entity_text(const Entity& e) {
    return fmt::format("{}#{}@{}/{}", static_cast<int>(e.kind), e.index, e.address.to_string(), e.segment);
}

// Every field of a classification; pointers as the positions they name in `site`.
std::string described(const ClassifiedEdge& c, const Site& site) {
    std::string out = fmt::format("{} -> {} {}:{} unrouted {}", entity_text(c.initiator), entity_text(c.responder),
                                  static_cast<int>(c.observed.key.protocol), c.observed.key.responder_port, c.unrouted);
    for (const auto& d : c.declared) {
        auto profile = d.profile - site.profiles.data();
        REQUIRE((profile >= 0 && static_cast<size_t>(profile) < site.profiles.size()));
        out += fmt::format(" declared {}.{}", profile, d.flow - d.profile->flows.data());
    }
    for (const auto* a : c.approvals) out += fmt::format(" approval {}", a - site.approvals.data());
    for (const auto* a : c.expired) out += fmt::format(" expired {}", a - site.approvals.data());
    out += fmt::format(" connections {}", c.observed.stats.connections);
    return out;
}

}  // namespace

TEST_CASE("reclassifying after inventory edits gives what classifying from scratch gives", "[graph][classify]") {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    const Pipeline loaded = run_pipeline(testing::kExampleSite, o);
    // The example's approvals name devices, roles and endpoints; one more names a tag.
    Site base_site = *loaded.site;
    REQUIRE(!base_site.approvals.empty());
    Approval tagged = base_site.approvals.front();
    tagged.id = "tagged";
    tagged.from = *PeerRef::parse("tag:ward-1");
    tagged.to = *PeerRef::parse("any");
    base_site.approvals.push_back(tagged);
    for (size_t i = 0; i < base_site.devices.size(); i += 3) base_site.devices[i].tags.push_back("ward-1");
    const AddressBook base_book(base_site);
    struct {
        const Site* site;
        Date today;
        std::vector<ClassifiedEdge> edges;
    } base{&base_site, loaded.today, classify_edges(testing::observed_of(loaded.edges), base_book, loaded.today)};
    REQUIRE(base.edges.size() > 20);
    std::vector<IpAddress> seen;
    size_t declared = 0, approved = 0, tagged_edges = 0;
    for (const auto& c : base.edges) {
        seen.push_back(c.observed.key.initiator);
        seen.push_back(c.observed.key.responder);
        declared += !c.declared.empty();
        approved += !c.approvals.empty();
        for (const auto* a : c.approvals) tagged_edges += a->id == "tagged";
    }
    REQUIRE(declared > 0);
    REQUIRE(approved > 0);
    REQUIRE(tagged_edges > 0);

    std::mt19937 rng(20261205);
    for (int round = 0; round < 300; ++round) {
        Site site = *base.site;
        const int edits = 1 + round % 4;
        for (int i = 0; i < edits; ++i) testing::edit_inventory(site, rng, seen);
        Date today = base.today;
        if (round % 25 == 7) site.approvals.front().reason += " (renewed)";  // not an inventory edit
        if (round % 25 == 11) site.profiles.back().flows.pop_back();
        if (round % 25 == 13) today = *parse_date("2027-06-01");               // approvals expire
        const AddressBook book(site);
        auto again = reclassify_edges(base.edges, *base.site, base.today, book, today);
        auto fresh = classify_edges(testing::observed_of(base.edges), book, today);
        INFO("round " << round);
        REQUIRE(again.size() == fresh.size());
        size_t differing = 0;
        for (size_t i = 0; i < fresh.size(); ++i) {
            std::string a = described(again[i], site), f = described(fresh[i], site);
            if (a != f && differing++ < 3) CHECK(a == f);
        }
        CHECK(differing == 0);
    }
}

TEST_CASE("an inventory edit served from the flow cache compiles to what a fresh run compiles", "[pipeline][cache][classify]") {
    PipelineOptions fresh;
    fresh.today = *parse_date("2026-11-22");
    FlowReadCache cache;
    PipelineOptions cached = fresh;
    cached.flow_cache = &cache;
    const Pipeline first = run_pipeline(testing::kExampleSite, cached);
    REQUIRE(cache.site == first.site);
    // The cache classified against the site it keeps; the next load reclassifies from it.
    const Pipeline second = run_pipeline(testing::kExampleSite, cached);
    REQUIRE(cache.site == second.site);
    REQUIRE(second.edges.size() == first.edges.size());
    for (size_t i = 0; i < first.edges.size(); ++i) {
        REQUIRE(described(second.edges[i], *second.site) == described(first.edges[i], *first.site));
        for (const auto& d : second.edges[i].declared)
            CHECK((d.profile >= second.site->profiles.data() &&
                   d.profile < second.site->profiles.data() + second.site->profiles.size()));
    }
}
