// The mode is part of the policy: the plan shows it and counts a switch as a change; no
// user name can take one of wardgate's own chain names.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

#include "support/pipeline_fixture.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

std::string with_segment_monitor(std::string site_toml, const std::string& segment) {
    auto at = site_toml.find("name = \"" + segment + "\"");
    REQUIRE(at != std::string::npos);
    site_toml.insert(site_toml.find('\n', at) + 1, "monitor = true\n");
    return site_toml;
}

}  // namespace

TEST_CASE("switching a segment or the site to monitor mode is a change the plan shows", "[plan][monitor]") {
    TempSite site;
    const std::string args = site.dir().string() + " --today 2026-11-22 --color never";
    REQUIRE(run_wardgate("plan " + args + " --save").exit_code == 2);
    auto same = run_wardgate("plan " + args);
    CHECK(same.exit_code == 0);
    CHECK_THAT(same.out, Catch::Contains("mode: enforce\n"));

    site.write("site.toml", with_segment_monitor(small_site_files()["site.toml"], "icu"));
    auto seg = run_wardgate("plan " + args);
    CHECK(seg.exit_code == 2);
    CHECK_THAT(seg.out, Catch::Contains("segment icu: enforce -> monitor (default deny becomes log-and-accept)"));
    CHECK_THAT(seg.out, Catch::Contains("segments in monitor mode: icu"));
    CHECK_THAT(seg.out, Catch::Contains("Plan: 1 mode change;"));
    CHECK_THAT(seg.out, !Catch::Contains("No changes."));

    auto site_toml = small_site_files()["site.toml"];
    site_toml.replace(site_toml.find("log_group = 5"), 13, "log_group = 5\nmode = \"monitor\"");
    site.write("site.toml", site_toml);
    auto whole = run_wardgate("plan " + args + " --format json");
    CHECK(whole.exit_code == 2);
    auto j = nlohmann::json::parse(whole.out);
    CHECK(j["mode"] == "monitor");
    CHECK(j["changes"] == true);
    std::set<std::string> scopes;
    for (const auto& m : j["mode_changes"]) {
        CHECK(m["before"] == "enforce");
        CHECK(m["after"] == "monitor");
        scopes.insert(m["scope"].get<std::string>());
    }
    CHECK(scopes == std::set<std::string>{"site", "segment icu", "segment radiology", "segment servers",
                                          "segment workstations"});
}

TEST_CASE("a segment may not take the name of wardgate's catch-all zone", "[errors]") {
    auto site_toml = small_site_files()["site.toml"];
    site_toml.replace(site_toml.find("name = \"workstations\""), 21, "name = \"outside\"");
    auto devices = small_site_files()["devices.toml"];
    devices.replace(devices.find("segment = \"workstations\""), 24, "segment = \"outside\"");
    TempSite site({{"site.toml", site_toml}, {"devices.toml", devices}});
    auto r = run_wardgate("check " + site.dir().string());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("site.toml:"));
    CHECK_THAT(r.err, Catch::Contains("\"outside\" is reserved"));
}

TEST_CASE("internal chain and set names never meet names taken from the site", "[compile][names]") {
    // Segments, roles, endpoints and devices named like every internal object.
    const std::vector<std::string> internal = {"forward", "accepted", "baseline", "baseline_icmp", "accept_by",
                                               "segment_by", "dns", "any", "site", "accept", "drop", "sup"};
    std::string site_toml = small_site_files()["site.toml"];
    std::string devices;
    int n = 0;
    for (const auto& name : internal) {
        ++n;
        site_toml += "\n[[segment]]\nname = \"" + name + "\"\nkind = \"devices\"\nipv4 = [\"10." + std::to_string(150 + n) +
                     ".0.0/24\"]\n";
        site_toml += "\n[[endpoint]]\nname = \"" + name + "-ep\"\nkind = \"server\"\nrole = \"" + name +
                     "\"\naddresses = [\"10.50.0.1" + std::to_string(n) + "\"]\n";
        devices += "\n[[device]]\nname = \"" + name + "\"\naddresses = [\"10." + std::to_string(150 + n) +
                   ".0.5\"]\nrole = \"" + name + "\"\nvendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"" + name +
                   "\"\nlifecycle = \"support\"\n";
    }
    std::string policy = small_site_files()["policy.toml"];
    for (const auto& name : internal)
        policy += "\n[[approval]]\nid = \"A-" + name + "\"\nfrom = \"role:" + name + "\"\nto = \"segment:" + name +
                  "\"\nprotocol = \"tcp\"\nports = [1]\nby = \"x\"\nreason = \"y\"\n";
    TempSite site({{"site.toml", site_toml}, {"devices.toml", small_site_files()["devices.toml"] + devices},
                   {"policy.toml", policy}});
    auto p = pipeline_for(site.dir());
    auto rs = nft::lower_policy(p.policy);
    std::set<std::string> chains, sets;
    for (const auto& c : rs.chains) CHECK(chains.insert(c.name).second);
    for (const auto& s : rs.sets) {
        INFO(s.name);
        CHECK(sets.insert(s.name).second);
    }
    std::string err;
    CHECK(nft_check(nft::print_ruleset(rs), err) == 0);
    INFO(err);
}

TEST_CASE("plan --at: the policy on a later day against today's, with what it will block", "[plan][lifecycle]") {
    TempSite site;
    // CHG-1 (ws-01 -> infusion pumps tcp/8080) expires on 2027-01-31.
    auto r = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --at 2027-02-01");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("the policy on 2027-02-01 compared with today's (2026-11-22)") != std::string::npos);
    CHECK(r.out.find("CHG-1") != std::string::npos);
    auto same = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --at 2026-11-23");
    CHECK(same.exit_code == 0);  // nothing expires or changes stage in between

    auto json = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --at 2027-02-01 --format json");
    const auto j = nlohmann::json::parse(json.out);
    CHECK(j["at"]["date"] == "2027-02-01");
    CHECK(j["at"]["compared_with"] == "2026-11-22");
    CHECK(j["changes"] == true);
    site.write("at.json", json.out);
    CHECK(std::system(("python3 " + std::string(WARDGATE_SOURCE_DIR) + "/tests/support/validate_json.py " +
                       WARDGATE_SOURCE_DIR + "/docs/schema/plan.schema.json " + (site.dir() / "at.json").string())
                          .c_str()) == 0);

    auto earlier = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --at 2026-01-01");
    CHECK(earlier.exit_code == 1);
    CHECK(earlier.err.find("--at: 2026-01-01 is before today (2026-11-22)") != std::string::npos);
    auto save = run_wardgate("plan " + site.dir().string() + " --at 2027-02-01 --save");
    CHECK(save.exit_code == 1);
    CHECK_FALSE(std::filesystem::exists(site.dir() / ".wardgate/state.json"));
}

TEST_CASE("plan --horizon: the calendar of approvals expiring and stages raised, with the flows each day loses", "[plan][lifecycle]") {
    TempSite site;
    // pump-03 (support) reaches its end of support on 2027-01-15: from the next day its stance
    // takes no approvals, so CHG-1 (ws-01 -> pumps tcp/8080, last day 2027-01-31) stops covering it
    // then, and its expiry two weeks later takes nothing more.
    auto devices = small_site_files()["devices.toml"];
    auto at = devices.find("name = \"pump-03\"");
    devices.insert(devices.find("lifecycle = \"support\"", at) + std::string("lifecycle = \"support\"\n").size(),
                   "eos = 2027-01-15\n");
    site.write("devices.toml", devices);
    const std::string base = "plan " + site.dir().string() + " --today 2026-11-22 ";

    auto r = run_wardgate(base + "--horizon 90d");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::StartsWith("What changes in the next 90 days (2026-11-22 to 2027-02-20), day by day:\n"));
    auto eos = r.out.find("\n2027-01-16\n  pump-03 moves from support to end-of-support (its end of support was 2027-01-15)\n");
    auto expiry = r.out.find("\n2027-02-01\n  approval CHG-1 expires (its last day was 2027-01-31; by Biomed): "
                             "device:ws-01 to role:infusion-pump tcp/8080\n");
    REQUIRE(eos != std::string::npos);
    REQUIRE(expiry != std::string::npos);
    CHECK(eos < expiry);
    std::string eos_day = r.out.substr(eos, expiry - eos);
    CHECK_THAT(eos_day, Catch::Contains("  pump-03 lose tcp/8080 from ws-01, seen in 1 connections\n"));
    std::string expiry_day = r.out.substr(expiry);
    CHECK_THAT(expiry_day, Catch::Contains("  no observed flow loses its allow\n"));

    auto json = run_wardgate(base + "--horizon 90d --format json");
    const auto j = nlohmann::json::parse(json.out);
    REQUIRE(j["changes"].size() == 2);
    CHECK(j["changes"][0]["day"] == "2027-01-16");
    CHECK(j["changes"][0]["events"][0]["kind"] == "stage-raised");
    CHECK(j["changes"][0]["losses"][0]["devices"] == nlohmann::json::array({"pump-03"}));
    CHECK(j["changes"][0]["losses"][0]["direction"] == "from-peer");
    CHECK(j["changes"][1]["events"][0]["subject"] == "CHG-1");
    CHECK(j["changes"][1]["losses"].empty());
    site.write("horizon.json", json.out);
    CHECK(std::system(("python3 " + std::string(WARDGATE_SOURCE_DIR) + "/tests/support/validate_json.py " +
                       WARDGATE_SOURCE_DIR + "/docs/schema/horizon.schema.json " + (site.dir() / "horizon.json").string())
                          .c_str()) == 0);

    // A shorter window holds only the first change; one that ends before it, none.
    auto weeks = run_wardgate(base + "--horizon 8w");
    CHECK_THAT(weeks.out, Catch::Contains("2027-01-16") && !Catch::Contains("2027-02-01"));
    auto none = run_wardgate(base + "--horizon 30");
    CHECK(none.exit_code == 0);
    CHECK(none.out == "Nothing changes in the next 30 days (2026-11-22 to 2026-12-22): no approval expires and no "
                      "device's dates raise its stage.\n");
    // The last day of the window is in it: CHG-1's expiry takes effect on day 71.
    CHECK_THAT(run_wardgate(base + "--horizon 71d").out, Catch::Contains("2027-02-01"));
    CHECK_THAT(run_wardgate(base + "--horizon 70d").out, !Catch::Contains("2027-02-01"));

    for (const char* bad : {"0d", "3.5d", "90x", "d", "99999"}) {
        auto e = run_wardgate(base + "--horizon " + bad);
        INFO(bad);
        CHECK(e.exit_code == 1);
        CHECK_THAT(e.err, Catch::Contains("--horizon: expected a number of days"));
    }
    CHECK(run_wardgate(base + "--horizon 90d --at 2027-01-01").exit_code == 1);
}
