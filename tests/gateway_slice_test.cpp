// One gateway's slice of the policy decides every flow that passes that gateway exactly as the
// whole site's policy does, and holds less than the whole: proved with the explainer (whose
// agreement with the kernel the differential test proves) over every pair of address groups of
// a site with three gateways, and over random sites with random gateways.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>
#include <regex>
#include <set>

#include "support/pipeline_fixture.hpp"
#include "support/random_site.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/netlink/vlan.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/policy/slice.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

Pipeline compile_site(const std::filesystem::path& dir, const std::string& gateway = {}) {
    PipelineOptions o;
    o.today = *parse_date(kRandomSiteToday);
    o.dns.offline = true;
    o.dns.write_cache = false;
    o.gateway = gateway;
    return run_pipeline(dir, o);
}

// What a verdict says, in terms both policies share: rules by id, pinholes by their flow.
std::string verdict_text(const Policy& p, const Verdict& v) {
    std::string out = v.allowed ? "allowed" : "not allowed";
    switch (v.by) {
        case Verdict::By::deny_rule: out += " by deny " + rule_id(p, p.rules[v.rule]); break;
        case Verdict::By::allow_rule: out += " by allow " + rule_id(p, p.rules[v.rule]); break;
        case Verdict::By::pinhole: {
            const Pinhole& h = p.pinholes[v.pinhole];
            out += fmt::format(" by pinhole {} -> {} {}/{}", h.src.to_string(), h.dst.to_string(), to_string(h.protocol), h.port);
            break;
        }
        case Verdict::By::default_deny:
            out += " by the default deny of " + (v.segment.empty() ? std::string("outside") : v.segment);
            if (v.monitored) out += ", monitored" + (v.monitored_device.empty() ? "" : " by " + v.monitored_device);
            break;
        case Verdict::By::not_new: out += " (not new)"; break;
    }
    if (v.trial_deny) out += "; trial " + rule_id(p, p.rules[*v.trial_deny]);
    return out;
}

struct Slices {
    Pipeline whole;
    std::vector<Pipeline> gateways;
    mutable std::map<const Policy*, std::unique_ptr<Evaluator>> evaluators;  // built on first use
};

// Every gateway's slice cut at once (as publishing does, sharing the work and the cores) is the
// slice cut alone, which the verdict comparisons check against the whole policy.
void same_when_cut_together(const Slices& s) {
    auto together = slices_for_gateways(s.whole.policy, *s.whole.site);
    REQUIRE(together.size() == s.gateways.size());
    for (size_t g = 0; g < together.size(); ++g) {
        INFO("gateway " << s.gateways[g].gateway);
        CHECK(policy_document(together[g]).dump() == policy_document(s.gateways[g].policy).dump());
    }
}

struct Comparison {
    size_t compared = 0;   // (flow, gateway) pairs
    size_t allowed = 0;    // of those, allowed by the whole policy
    size_t no_gateway = 0; // flows that pass no gateway
};

void compare(const Slices& s, const IpAddress& src, const IpAddress& dst, Protocol proto, uint16_t port, Comparison& c) {
    auto eval = [&](const Policy& p) -> const Evaluator& {
        auto& e = s.evaluators[&p];
        if (!e) e = std::make_unique<Evaluator>(p);
        return *e;
    };
    Verdict whole = eval(s.whole.policy).evaluate(src, dst, proto, port);
    std::string expected = verdict_text(s.whole.policy, whole);
    bool passes = false;
    for (const auto& g : s.gateways) {
        if (!g.policy.gateway->crosses(src, dst)) continue;
        passes = true;
        ++c.compared;
        if (whole.allowed) ++c.allowed;
        std::string got = verdict_text(g.policy, eval(g.policy).evaluate(src, dst, proto, port));
        if (got != expected)
            FAIL_CHECK(fmt::format("{} -> {} {}/{} at gateway {}: the slice says \"{}\", the whole policy \"{}\"",
                                   src.to_string(), dst.to_string(), to_string(proto), port, g.gateway, got, expected));
    }
    if (!passes) ++c.no_gateway;
}

// A few addresses of a group per family: the first, a middle and the last address of its prefixes.
std::vector<IpAddress> samples(const AddressGroup& g) {
    if (g.any) return {*IpAddress::parse("10.110.0.21"), *IpAddress::parse("192.0.2.77"), *IpAddress::parse("fd00:110::21")};
    std::vector<IpAddress> out;
    for (Family f : {Family::v4, Family::v6}) {
        std::vector<Prefix> of;
        for (const auto& p : g.prefixes)
            if (p.family() == f) of.push_back(p);
        if (of.empty()) continue;
        out.push_back(of.front().address);
        out.push_back(of[of.size() / 2].address);
        out.push_back(of.back().last());
    }
    return out;
}

// One (protocol, port) per port range edge and ICMP type of the policy's rules, and a port none names.
std::vector<std::pair<Protocol, uint16_t>> services_of(const Policy& p) {
    std::set<std::pair<Protocol, uint16_t>> out{{Protocol::tcp, 9}, {Protocol::udp, 9}};
    for (const auto& r : p.rules)
        for (const auto& s : r.services) {
            if (s.protocol == Protocol::icmp) {
                out.insert({s.protocol, icmp_port(8, 0)});
                out.insert({s.protocol, icmp_port(128, 0)});
                for (const auto& t : s.icmp_types) out.insert({s.protocol, icmp_port(t.type, 0)});
            } else if (!has_ports(s.protocol)) {
                out.insert({s.protocol, 0});
            } else {
                for (const auto& range : s.ports) out.insert({s.protocol, range.first}), out.insert({s.protocol, range.last});
            }
        }
    return {out.begin(), out.end()};
}

const char* kExampleGateways = R"(
[[gateway]]
name = "core"
segments = ["servers", "workstations", "biomed"]
trunk = "ens19"

[[gateway]]
name = "wards"
segments = ["icu", "pharmacy"]

[[gateway]]
name = "wards-standby"
segments = ["icu", "pharmacy"]

[[gateway]]
name = "diagnostics"
segments = ["radiology", "lab"]
)";

// The example site with a core, a wards HA pair and a diagnostics gateway.
std::map<std::string, std::string> example_with_gateways() {
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kExampleSite)) {
        if (!e.is_regular_file()) continue;
        auto rel = e.path().lexically_relative(kExampleSite).string();
        if (rel.starts_with(".wardgate")) continue;
        files[rel] = read_text(e.path());
    }
    std::string& site = files["site.toml"];
    site = std::regex_replace(site, std::regex(R"(\n\[\[gateway\]\](\n(?!\[)[^\n]*)*)"), "\n");  // whatever the example declares
    site += kExampleGateways;
    return files;
}

}  // namespace

TEST_CASE("every verdict of a gateway's slice is the whole policy's, over every pair of address groups", "[slice]") {
    TempSite site(example_with_gateways(), false);
    Slices s{compile_site(site.dir()), {}};
    for (const char* g : {"core", "wards", "wards-standby", "diagnostics"}) s.gateways.push_back(compile_site(site.dir(), g));
    same_when_cut_together(s);
    const Policy& whole = s.whole.policy;
    REQUIRE(whole.groups.size() > 20);

    Comparison c;
    auto services = services_of(whole);
    for (const auto& gs : whole.groups)
        for (const auto& gd : whole.groups)
            for (const auto& src : samples(gs))
                for (const auto& dst : samples(gd)) {
                    if (src.family != dst.family) continue;
                    for (auto [proto, port] : services) {
                        compare(s, src, dst, proto, port, c);
                    }
                }
    INFO(c.compared << " flow-gateway pairs compared, " << c.allowed << " allowed, " << c.no_gateway << " flows pass no gateway");
    CHECK(c.compared > 100000);
    CHECK(c.allowed > 1000);

    // Each slice holds less than the whole: fewer rules, and no more set elements (the core's
    // workstations reach the internet, whose complement-of-the-site set is most of them; the
    // buildings' gateways hold a fraction).
    for (const auto& g : s.gateways) {
        INFO("gateway " << g.gateway);
        REQUIRE(g.policy.gateway);
        CHECK(g.policy.rules.size() < whole.rules.size());
        CHECK(policy_elements(g.policy) <= policy_elements(whole));
        if (g.gateway != "core") CHECK(policy_elements(g.policy) * 4 < policy_elements(whole));
        CHECK(g.policy.gateway->site_rules == whole.rules.size());
        CHECK(g.policy.gateway->site_elements == policy_elements(whole));
    }
    // An HA pair enforces one and the same ruleset.
    CHECK(render_nft(s.gateways[1].policy) == render_nft(s.gateways[2].policy));
    // The ICU's end-of-support pumps are a set of the wards' gateway, not of the diagnostics one.
    auto has_group = [](const Policy& p, const std::string& name) {
        return std::any_of(p.groups.begin(), p.groups.end(), [&](const AddressGroup& g) { return g.name == name; });
    };
    CHECK(has_group(whole, "eos_infusion_pump"));
    CHECK(has_group(s.gateways[1].policy, "eos_infusion_pump"));
    CHECK_FALSE(has_group(s.gateways[3].policy, "eos_infusion_pump"));
}

TEST_CASE("random sites split among random gateways: each slice decides what passes it as the whole policy does", "[slice]") {
    Comparison c;
    size_t smaller = 0, slices = 0;
    for (uint64_t seed = 7100; seed < 7130; ++seed) {
        INFO("site seed " << seed);
        std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
        RandomSite generated = random_site(rng);
        std::vector<std::string> segments;
        std::regex name(R"re(\[\[segment\]\]\nname = "([^"]+)")re");
        const std::string& toml = generated.files["site.toml"];
        for (auto it = std::sregex_iterator(toml.begin(), toml.end(), name); it != std::sregex_iterator(); ++it)
            segments.push_back((*it)[1]);
        REQUIRE(!segments.empty());
        // Two or three gateways; each segment to one of them, now and then to two (an HA pair)
        // or to none (its traffic to the others' segments still passes them).
        size_t n = 2 + rng() % 2;
        std::vector<std::vector<std::string>> routes(n);
        for (const auto& seg : segments) {
            auto pick = rng() % 10;
            if (pick == 0) continue;
            routes[rng() % n].push_back(seg);
            if (pick == 1) routes[rng() % n].push_back(seg);
        }
        std::string decls;
        for (size_t g = 0; g < n; ++g) {
            std::sort(routes[g].begin(), routes[g].end());
            routes[g].erase(std::unique(routes[g].begin(), routes[g].end()), routes[g].end());
            if (routes[g].empty()) routes[g].push_back(segments[g % segments.size()]);
            decls += fmt::format("\n[[gateway]]\nname = \"gw{}\"\nsegments = [\"{}\"]\n", g, fmt::join(routes[g], "\", \""));
        }
        generated.files["site.toml"] += decls;
        TempSite site(generated.files, false);
        Slices s{compile_site(site.dir()), {}};
        for (size_t g = 0; g < n; ++g) s.gateways.push_back(compile_site(site.dir(), fmt::format("gw{}", g)));
        same_when_cut_together(s);

        auto probes = random_probes(generated, rng, 1500);
        auto aimed = rule_probes(s.whole.policy, rng, 1500);
        probes.insert(probes.end(), aimed.begin(), aimed.end());
        for (const auto& p : probes) compare(s, p.src, p.dst, p.proto, p.port, c);
        for (const auto& g : s.gateways) {
            ++slices;
            CHECK(g.policy.rules.size() <= s.whole.policy.rules.size());
            CHECK(policy_elements(g.policy) <= policy_elements(s.whole.policy));
            if (policy_elements(g.policy) < policy_elements(s.whole.policy)) ++smaller;
        }
    }
    INFO(c.compared << " flow-gateway pairs compared, " << c.allowed << " allowed; " << smaller << " of " << slices
                    << " slices smaller than their site's policy");
    CHECK(c.compared > 50000);
    CHECK(c.allowed > 1000);
    CHECK(smaller * 2 > slices);
}

TEST_CASE("compile, plan and vlan --gateway: one gateway's ruleset, plan and links, and an unknown gateway is an error", "[slice][cli]") {
    TempSite site(example_with_gateways(), false);
    const std::string dir = site.dir().string() + " --today 2026-11-22";
    auto whole = run_wardgate("compile " + dir);
    auto wards = run_wardgate("compile " + dir + " --gateway wards");
    REQUIRE(whole.exit_code == 0);
    REQUIRE(wards.exit_code == 0);
    CHECK(wards.out.size() < whole.out.size());
    std::string err;
    CHECK(nft_check(wards.out, err) == 0);
    INFO(err);
    // The wards hold the ICU's pumps and the drug library they reach, not the imaging modalities.
    CHECK_THAT(wards.out, Catch::Contains("10.110.0.21") && Catch::Contains("ep_drug_library_v4"));
    CHECK_THAT(whole.out, Catch::Contains("ltd_imaging_modality_v4"));
    CHECK_THAT(wards.out, !Catch::Contains("ltd_imaging_modality_v4"));
    // Same inputs, same bytes.
    CHECK(run_wardgate("compile " + dir + " --gateway wards").out == wards.out);

    auto plan = run_wardgate("plan " + dir + " --gateway diagnostics --color never");
    INFO(plan.err);
    CHECK(plan.exit_code == 2);
    CHECK_THAT(plan.out, Catch::Contains("gateway diagnostics (routes radiology, lab): "));
    CHECK_THAT(plan.out, Catch::Contains(" of the site's "));
    // Its state is its own: saving the wards' plan leaves the site's and the others' alone.
    CHECK(run_wardgate("plan " + dir + " --gateway wards --save").exit_code == 2);
    CHECK(std::filesystem::exists(site.dir() / ".wardgate" / "state-wards.json"));
    CHECK_FALSE(std::filesystem::exists(site.dir() / ".wardgate" / "state.json"));
    CHECK(run_wardgate("plan " + dir + " --gateway wards").exit_code == 0);
    CHECK(run_wardgate("plan " + dir + " --gateway core").exit_code == 2);

    auto unknown = run_wardgate("compile " + dir + " --gateway ward");
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.out.empty());
    CHECK_THAT(unknown.err, Catch::Contains("--gateway") && Catch::Contains("no gateway \"ward\"") &&
                                Catch::Contains("core, wards, wards-standby, diagnostics"));
    // A gateway that routes only the ICU: the CT's flows to PACS pass no gateway, and both the
    // unrouted segments and the rules no slice holds are warnings.
    TempSite east({{"site.toml", small_site_files()["site.toml"] + "\n[[gateway]]\nname = \"east\"\nsegments = [\"icu\"]\n"}});
    auto east_plan = run_wardgate("plan " + east.dir().string() + " --gateway east --today 2026-11-22 --color never");
    INFO(east_plan.out << east_plan.err);
    CHECK_THAT(east_plan.out, Catch::Contains("segment radiology is routed by none of the site's [[gateway]] tables"));
    CHECK_THAT(east_plan.out, Catch::Contains("starts and ends outside every [[gateway]]'s segments: no gateway enforces it") &&
                                  Catch::Contains("-> role pacs"));
    TempSite plain;
    auto none = run_wardgate("plan " + plain.dir().string() + " --gateway wards");
    CHECK(none.exit_code == 1);
    CHECK_THAT(none.err, Catch::Contains("declares no [[gateway]]"));

    // VLAN links of one gateway: only its segments'.
    Site loaded = load_site(site.dir());
    std::vector<std::string> links;
    for (const auto& l : netlink::desired_vlan_links(loaded, "ens19", "core")) links.push_back(l.name);
    CHECK(links == std::vector<std::string>{"ens19.50", "ens19.200", "ens19.90"});
    CHECK(netlink::desired_vlan_links(loaded, "ens19").size() == 7);
    CHECK(loaded.find_gateway("core")->trunk == "ens19");
    // A gateway following published versions has only its slice's document: the same links,
    // its trunk included, and the same addresses on them.
    const Pipeline p = pipeline_for(site.dir());
    Policy published = policy_from_document(policy_document(slice_for_gateway(p.policy, *p.site, "core")));
    REQUIRE(published.gateway);
    CHECK(published.gateway->trunk == "ens19");
    auto from_site = netlink::desired_vlan_links(loaded, "ens19", "core");
    auto from_slice = netlink::desired_vlan_links(published, published.gateway->trunk);
    REQUIRE(from_slice.size() == from_site.size());
    for (size_t i = 0; i < from_site.size(); ++i) {
        CHECK(from_slice[i].name == from_site[i].name);
        CHECK(from_slice[i].addresses == from_site[i].addresses);
    }
    Policy wards_slice = policy_from_document(policy_document(slice_for_gateway(p.policy, *p.site, "wards")));
    CHECK(wards_slice.gateway->trunk.empty());
    CHECK(netlink::desired_vlan_links(wards_slice, "eth1").size() == 2);  // icu and pharmacy
}
