// The scorecard: each KPI computed from the site and its flows, and the trend over recorded runs.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const nlohmann::json& kpi_named(const nlohmann::json& j, const std::string& key) {
    for (const auto& k : j["kpis"])
        if (k["key"] == key) return k;
    FAIL("no KPI " << key);
    static nlohmann::json none;
    return none;
}

std::string kpi_line(const std::string& text, const std::string& title) {
    auto at = text.find(title);
    REQUIRE(at != std::string::npos);
    return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

TEST_CASE("scorecard: every KPI from the site and its flows", "[scorecard]") {
    TempSite site;
    auto r = run_wardgate("scorecard " + site.dir().string() + " --today 2026-11-22 --format json");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    // Four medical devices (the workstation is not one), both models profiled.
    CHECK(kpi_named(j, "profile_coverage")["value"] == 4);
    CHECK(kpi_named(j, "profile_coverage")["of"] == 4);
    CHECK(kpi_named(j, "enforced_devices")["value"] == 5);
    // pump-01 and pump-02 are end of support, and that stance keeps only what is declared.
    CHECK(kpi_named(j, "eos_declared_only")["value"] == 2);
    CHECK(kpi_named(j, "eos_declared_only")["of"] == 2);
    CHECK(kpi_named(j, "internet_contact_devices")["value"] == 1);  // pump-02 -> 192.0.2.44
    // pump-03 -> 10.50.0.99, ws-01 -> pump-01 telnet, ws-01 -> ct-01 SMB (its approval expired).
    CHECK(kpi_named(j, "unexplained_flows")["value"] == 3);
    // HTTP on tcp/8080 twice and SMB; the telnet is denied by no-telnet.
    CHECK(kpi_named(j, "insecure_flows")["value"] == 3);
    CHECK(kpi_named(j, "approvals_expiring_90d")["value"] == 1);  // CHG-1, last day 2027-01-31
    CHECK(kpi_named(j, "high_risk_devices")["value"] == 2);       // pump-01 and pump-02 (docs/risk.md)
    CHECK(kpi_named(j, "profile_coverage")["higher_is_better"] == true);
    CHECK(kpi_named(j, "unexplained_flows")["higher_is_better"] == false);
    CHECK(kpi_named(j, "unexplained_flows")["of"].is_null());
    site.write("card.json", r.out);
    CHECK(std::system(("python3 " + kSourceDir + "/tests/support/validate_json.py " + kSourceDir +
                       "/docs/schema/scorecard.schema.json " + (site.dir() / "card.json").string())
                          .c_str()) == 0);
    auto no_db = run_wardgate("scorecard " + site.dir().string() + " --record");
    CHECK(no_db.exit_code == 1);
    CHECK_THAT(no_db.err, Catch::Contains("--record: keeps the scorecard in a store: give it --db"));
}

TEST_CASE("scorecard: three recorded runs make the trend", "[scorecard][store]") {
    TempSite site;
    TempDir tmp("scorecard");
    const std::string db = (tmp.path / "baseline.db").string();
    // An empty store to record into.
    std::ofstream(tmp.path / "empty.csv") << "initiator,responder,protocol,port,start\n";
    REQUIRE(run_wardgate("ingest --db " + db + " " + (tmp.path / "empty.csv").string()).exit_code == 0);
    const std::string run = "scorecard " + site.dir().string() + " --today 2026-11-22 --db " + db;

    // Run 1: the ICU in monitor mode and no CT profile.
    auto files = small_site_files();
    auto monitored = files["site.toml"];
    monitored.insert(monitored.find('\n', monitored.find("name = \"icu\"")) + 1, "monitor = true\n");
    site.write("site.toml", monitored);
    std::filesystem::remove(site.dir() / "profiles/imaging-ct-9.toml");
    auto first = run_wardgate(run + " --record");
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    CHECK_THAT(first.out, Catch::Contains("no earlier run recorded"));
    CHECK_THAT(kpi_line(first.out, "medical devices with a manufacturer profile"), Catch::EndsWith("3 of 4 (75%)"));
    CHECK_THAT(kpi_line(first.out, "devices whose segment enforces"), Catch::EndsWith("2 of 5 (40%)"));

    // Run 2: the CT's profile arrives.
    site.write("profiles/imaging-ct-9.toml", files["profiles/imaging-ct-9.toml"]);
    REQUIRE(run_wardgate(run + " --record").exit_code == 0);

    // Run 3: the ICU enforces.
    site.write("site.toml", files["site.toml"]);
    auto third = run_wardgate(run + " --record");
    REQUIRE(third.exit_code == 0);
    INFO(third.out);
    CHECK_THAT(third.out, Catch::Contains("against 2 earlier runs (first 2026-11-22)"));
    CHECK_THAT(kpi_line(third.out, "medical devices with a manufacturer profile"),
               Catch::EndsWith("4 of 4 (100%)   75% -> 100% -> 100% (same)"));
    CHECK_THAT(kpi_line(third.out, "devices whose segment enforces"), Catch::EndsWith("5 of 5 (100%)   40% -> 40% -> 100% (better)"));

    // Without --record the runs are read, not added to.
    auto json = run_wardgate(run + " --format json");
    const auto j = nlohmann::json::parse(json.out);
    CHECK(j["recorded"] == false);
    const auto& trend = kpi_named(j, "enforced_devices")["trend"];
    REQUIRE(trend.size() == 3);
    CHECK(trend[0]["value"] == 0.4);
    CHECK(trend[2]["value"] == 1.0);
    // Three of five were high risk with the ICU in monitor mode; two are now.
    CHECK(kpi_named(j, "high_risk_devices")["trend"][0]["value"] == 0.6);
    CHECK(kpi_named(j, "high_risk_devices")["trend"][0]["value"].get<double>() > kpi_named(j, "high_risk_devices")["ratio"].get<double>());
    CHECK(nlohmann::json::parse(run_wardgate(run + " --format json").out)["kpis"][0]["trend"].size() == 3);
}
