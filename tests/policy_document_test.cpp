// The policy as a document (the state file's "ir", a published slice) comes back exactly as it
// went out, and a document someone altered is refused with the field named.
#include <catch2/catch.hpp>

#include <random>

#include "support/random_site.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/policy/slice.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

Policy compiled(const std::filesystem::path& dir, const std::string& gateway = {}) {
    PipelineOptions o;
    o.today = *parse_date(kRandomSiteToday);
    o.dns.offline = true;
    o.dns.write_cache = false;
    o.gateway = gateway;
    return run_pipeline(dir, o).policy;
}

void round_trips(const Policy& p) {
    auto doc = policy_document(p);
    Policy back = policy_from_document(nlohmann::json::parse(doc.dump()));
    CHECK(policy_document(back) == doc);
    CHECK(render_nft(back) == render_nft(p));
    REQUIRE(back.rules.size() == p.rules.size());
    for (size_t i = 0; i < p.rules.size(); ++i) CHECK(rule_id(back, back.rules[i]) == rule_id(p, p.rules[i]));
}

std::string refusal(nlohmann::json doc) {
    try {
        policy_from_document(doc);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("a policy document gives back the same policy: example site, its gateways' slices, random sites", "[document]") {
    round_trips(compiled(kExampleSite));
    for (const char* g : {"core", "wards", "diagnostics"}) round_trips(compiled(kExampleSite, g));
    for (uint64_t seed = 500; seed < 540; ++seed) {
        INFO("site seed " << seed);
        std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
        RandomSite generated = random_site(rng);
        TempSite site(generated.files, false);
        round_trips(compiled(site.dir()));
    }
}

TEST_CASE("an altered policy document is refused, naming the field", "[document]") {
    const auto doc = policy_document(compiled(kExampleSite));
    REQUIRE(doc["rules"].size() > 3);
    auto edit = [&](auto change) {
        auto d = doc;
        change(d);
        return refusal(d);
    };
    CHECK(edit([](auto& d) { d["rules"][2]["src"] = 100000; }) == "rules[2].src: 100000 is outside 0-" +
                                                                          std::to_string(doc["groups"].size() - 1));
    CHECK(edit([](auto& d) { d["rules"][0]["dst"] = -1; }).starts_with("rules[0].dst: -1 is outside"));
    CHECK(edit([](auto& d) { d["rules"][1]["src"] = 1.5; }) == "rules[1].src: expected an integer");
    CHECK(edit([](auto& d) { d["groups"][0]["prefixes"][0] = "10.0.0.300"; }) == "groups[0].prefixes[0]: expected a prefix");
    CHECK(edit([](auto& d) { d["groups"][1]["name"] = "x; flush ruleset"; })
              .starts_with("groups[1].name: \"x; flush ruleset\" is not a name"));
    CHECK(edit([](auto& d) { d["groups"][2]["name"] = d["groups"][1]["name"]; }).starts_with("groups[2].name:"));
    CHECK(edit([](auto& d) { d["rules"][0]["services"][0]["protocol"] = 0; }) == "rules[0].services[0].protocol: 0 is outside 1-254");
    CHECK(edit([](auto& d) { d["rules"][3]["services"][0]["ports"] = {{443, 80}}; }) ==
          "rules[3].services[0].ports[0]: expected [first, last] ports 0-65535");
    CHECK(edit([](auto& d) { d["rules"][3]["action"] = "permit"; }) == "rules[3].action: expected allow or deny");
    CHECK(edit([](auto& d) { d["segments"][0]["vlan"] = 5000; }) == "segments[0].vlan: 5000 is outside 1-4094");
    CHECK(edit([](auto& d) { d["mode"] = "off"; }) == "policy.mode: unknown value \"off\"");
    CHECK(edit([](auto& d) { d.erase("groups"); }) == "policy.groups: missing");
    CHECK(edit([](auto& d) { d["pinholes"][0]["dst"] = "fd00::1"; }).find("different families") != std::string::npos);
    CHECK(refusal(nlohmann::json::array()) == "policy: expected an object");
    // What a following gateway takes from its slice besides rules: DNS settings and its trunk.
    CHECK(edit([](auto& d) { d["dns"]["min_ttl"] = 0; }) == "dns.min_ttl: 0 is outside 1-604800");
    CHECK(edit([](auto& d) { d["dns"]["min_ttl"] = 600; d["dns"]["max_ttl"] = 60; }) == "dns.min_ttl: is larger than dns.max_ttl");
    CHECK(edit([](auto& d) { d["dns"] = "8.8.8.8"; }) == "dns: expected an object");
    const auto slice = policy_document(compiled(kExampleSite, "core"));
    CHECK(slice["gateway"]["trunk"] == "ens19");
    auto trunk = [&](const nlohmann::json& value) {
        auto d = slice;
        d["gateway"]["trunk"] = value;
        return refusal(d);
    };
    CHECK(trunk("eth0; reboot") == "gateway.trunk: \"eth0; reboot\" is no interface name (1-15 bytes, no '/', ':' or spaces)");
    CHECK(trunk("a-name-far-too-long").starts_with("gateway.trunk:"));
    CHECK(trunk("../etc").starts_with("gateway.trunk:"));
    CHECK(trunk(7) == "gateway.trunk: expected a string");
}

TEST_CASE("a saved state with ESP, SCTP and ICMP-type rules reads back: the next plan has no changes", "[document][plan]") {
    auto policy = small_site_files()["policy.toml"] +
                  "\n[[approval]]\nid = \"CHG-VPN\"\nfrom = \"device:ws-01\"\nto = \"endpoint:vendor-support\"\n"
                  "protocol = \"esp\"\nby = \"IT\"\nreason = \"vendor VPN\"\n"
                  "\n[[approval]]\nid = \"CHG-SIG\"\nfrom = \"device:ws-01\"\nto = \"endpoint:pacs\"\n"
                  "protocol = \"sctp\"\nports = [2905]\nby = \"IT\"\nreason = \"signalling\"\n"
                  "\n[[approval]]\nid = \"CHG-PING\"\nfrom = \"device:ws-01\"\nto = \"role:infusion-pump\"\n"
                  "protocol = \"icmp\"\nicmp_types = [\"echo-request\"]\nby = \"Biomed\"\nreason = \"reachability\"\n";
    TempSite site({{"policy.toml", policy}});
    const std::string args = site.dir().string() + " --today 2026-11-22 --color never";
    auto first = run_wardgate("plan " + args + " --save");
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 2);
    auto again = run_wardgate("plan " + args);
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK(again.err.empty());
}
