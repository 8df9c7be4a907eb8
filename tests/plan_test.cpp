// plan, explain and graph as an engineer runs them.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/pipeline_fixture.hpp"

using namespace wardgate;
using namespace wardgate::testing;

TEST_CASE("plan compares with the saved state and exits 0 only without changes", "[plan]") {
    TempSite site;
    const std::string args = site.dir().string() + " --today 2026-11-22 --color never";
    auto before = site.snapshot();

    auto first = run_wardgate("plan " + args);
    CHECK(first.exit_code == 2);
    CHECK_THAT(first.out, Catch::Contains("no saved state: everything below is new"));
    CHECK_THAT(first.out, !Catch::Contains("\x1b["));  // piped output stays plain
    CHECK(site.snapshot() == before);                  // plan alone writes nothing

    auto saved = run_wardgate("plan " + args + " --save");
    CHECK(saved.exit_code == 2);
    CHECK(std::filesystem::exists(site.dir() / ".wardgate/state.json"));

    auto again = run_wardgate("plan " + args);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("No changes."));

    // A new pump of an existing model: the group's rules change membership only.
    std::string devices = small_site_files().at("devices.toml") +
                          "\n[[device]]\nname = \"pump-04\"\naddresses = [\"10.110.0.24\"]\nrole = \"infusion-pump\"\n"
                          "vendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"icu\"\nlifecycle = \"end-of-support\"\n";
    site.write("devices.toml", devices);
    auto changed = run_wardgate("plan " + args);
    CHECK(changed.exit_code == 2);
    CHECK_THAT(changed.out, Catch::Contains("members: +pump-04"));
    CHECK_THAT(changed.out, Catch::Contains("0 rules to add, 0 to remove"));

    auto coloured = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --color always");
    CHECK_THAT(coloured.out, Catch::Contains("\x1b[33m~ allow"));
}

TEST_CASE("the plan lists every observed flow the policy would block, by device", "[plan]") {
    TempSite site;
    auto r = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --format json");
    REQUIRE(r.exit_code == 2);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["changes"] == true);
    std::map<std::string, nlohmann::json> impact;
    for (const auto& d : j["impact"]) impact[d["device"]] = d;
    REQUIRE(impact.count("pump-01"));
    const auto& pump = impact["pump-01"];
    CHECK(pump["clinical"] == true);
    CHECK(pump["lifecycle"] == "end-of-support");
    REQUIRE(pump["flows"].size() == 1);
    CHECK(pump["flows"][0]["initiator"] == "ws-01");
    CHECK(pump["flows"][0]["service"] == "tcp/23");
    CHECK(pump["flows"][0]["blocked_by"] == "deny no-telnet");
    CHECK(pump["flows"][0]["last_seen"] == "2025-11-21T00:05:03Z");
    REQUIRE(impact.count("pump-02"));
    CHECK(impact["pump-02"]["flows"][0]["responder"] == "192.0.2.44");
    CHECK(impact["pump-02"]["flows"][0]["blocked_by"] == "default deny (segment icu)");
    REQUIRE(impact.count("ct-01"));
    CHECK(impact["ct-01"]["flows"][0]["expired_approvals"][0] == "CHG-OLD");
    // Allowed flows are not in the impact: the pump's drug-library traffic, the CT's DICOM.
    CHECK(impact["pump-01"]["flows"].size() == 1);
    CHECK(impact["ct-01"]["flows"].size() == 1);
    // Clinical end-of-support devices come first.
    CHECK(j["impact"][0]["lifecycle"] == "end-of-support");
    CHECK(j["impact"][0]["clinical"] == true);
}

TEST_CASE("explain names the rule and provenance, or the default deny", "[plan][explain]") {
    TempSite site;
    const std::string base = "explain " + site.dir().string() + " --today 2026-11-22 ";
    auto allowed = run_wardgate(base + "pump-01 drug-library tcp/443");
    CHECK(allowed.exit_code == 0);
    CHECK_THAT(allowed.out, Catch::Contains("pump-01 (10.110.0.21) -> drug-library (10.50.0.20) tcp/443: ALLOWED"));
    CHECK_THAT(allowed.out, Catch::Contains("why: declared: Acme Pump 1 profile (Acme Pump 1 port table) - Drug library [profiles/acme-pump-1.toml:5]"));
    CHECK_THAT(allowed.out, Catch::Contains("observed: 2 connections"));

    auto denied = run_wardgate(base + "pump-02 192.0.2.44 tcp/443");
    CHECK(denied.exit_code == 2);
    CHECK_THAT(denied.out, Catch::Contains("DENIED"));
    CHECK_THAT(denied.out, Catch::Contains("by the default deny of segment icu (logged with prefix \"wardgate drop icu: \", NFLOG group 5)"));

    auto deny_rule = run_wardgate(base + "ws-01 pump-01 tcp/23");
    CHECK(deny_rule.exit_code == 2);
    CHECK_THAT(deny_rule.out, Catch::Contains("why: denied: deny no-telnet - Never telnet to pumps"));

    auto approved = run_wardgate(base + "ws-01 pump-03 tcp/8080");
    CHECK(approved.exit_code == 0);
    CHECK_THAT(approved.out, Catch::Contains("approved: approval CHG-1 by Biomed - Log download (expires 2027-01-31)"));

    auto bad = run_wardgate(base + "pump-01 drug-library tcp/70000");
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Catch::Contains("SERVICE: tcp needs one port 0-65535"));
    auto unknown = run_wardgate(base + "pump-99 drug-library tcp/443");
    CHECK(unknown.exit_code == 1);
    CHECK_THAT(unknown.err, Catch::Contains("\"pump-99\" is neither an address nor a device or endpoint"));
}

TEST_CASE("graph writes DOT with segment clusters and blocked edges highlighted", "[plan][graph]") {
    TempSite site;
    auto r = run_wardgate("graph " + site.dir().string() + " --today 2026-11-22");
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("digraph wardgate {"));
    CHECK_THAT(r.out, Catch::Contains("subgraph \"cluster_icu\""));
    // telnet to the pump is blocked: red
    CHECK_THAT(r.out, Catch::Contains("\"ws-01\" -> \"pump-01\" [label=\"tcp/23 x1\", color=red, penwidth=2];"));
    // the drug-library flow is declared and seen: black
    CHECK_THAT(r.out, Catch::Contains("\"pump-01\" -> \"drug-library\" [label=\"tcp/443 x2\", color=black];"));
    // the vendor's remote support is declared but never seen: dashed
    CHECK_THAT(r.out, Catch::Contains("\"vendor-support\" -> \"pump-01\" [label=\"tcp/22\", style=dashed, color=gray];"));
    CHECK_THAT(r.err, Catch::Contains("blocked: "));
}

TEST_CASE("plan on the example hospital reports the unexplained flows it blocks", "[plan]") {
    auto r = run_wardgate("plan " + std::string(WARDGATE_SOURCE_DIR) + "/policies/example-hospital --today 2026-11-22 --format json");
    REQUIRE(r.exit_code == 2);
    auto j = nlohmann::json::parse(r.out);
    bool telnet_to_eos_pump = false, monitor_to_internet = false;
    for (const auto& d : j["impact"])
        for (const auto& f : d["flows"]) {
            if (d["device"] == "pump-icu-03" && f["service"] == "tcp/23" && f["initiator"] == "ws-icu-02")
                telnet_to_eos_pump = d["clinical"] == true && d["lifecycle"] == "end-of-support";
            if (d["device"] == "mon-icu-07" && f["responder"] == "192.0.2.44") monitor_to_internet = true;
        }
    CHECK(telnet_to_eos_pump);
    CHECK(monitor_to_internet);
}
