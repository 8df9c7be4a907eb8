// Risk per device: every point has its reason, the score follows docs/risk.md, and the change
// that lowers it most is the one named.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <sstream>

#include "support/pipeline_fixture.hpp"
#include "support/test_paths.hpp"
#include "wardgate/assess/peer_deviation.hpp"
#include "wardgate/assess/risk.hpp"
#include "wardgate/plan/pipeline.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const nlohmann::json& risk_of(const nlohmann::json& j, const std::string& name) {
    for (const auto& d : j["devices"])
        if (d["device"] == name) return d;
    FAIL("no device " << name);
    static nlohmann::json none;
    return none;
}

std::vector<std::string> factors(const nlohmann::json& d) {
    std::vector<std::string> out;
    for (const auto& r : d["exposure"]["reasons"]) out.push_back(r["factor"].get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("the score is impact times exposure, as docs/risk.md writes it", "[risk]") {
    CHECK(risk_score(Level::high, 0) == 9);
    CHECK(risk_score(Level::high, 7) == 73);
    CHECK(risk_score(Level::high, 10) == 100);
    CHECK(risk_score(Level::high, 25) == 100);
    CHECK(risk_score(Level::medium, 3) == 24);
    CHECK(risk_score(Level::none, 9) == 0);
    CHECK(score_level(60) == Level::high);
    CHECK(score_level(59) == Level::medium);
    CHECK(score_level(29) == Level::low);
    CHECK(score_level(0) == Level::none);
    CHECK(exposure_level(1) == Level::low);
    CHECK(exposure_level(2) == Level::medium);
    CHECK(exposure_level(5) == Level::high);
}

TEST_CASE("risk ranks the devices with every reason and the change that lowers each most", "[risk]") {
    TempSite site;
    auto r = run_wardgate("risk " + site.dir().string() + " --today 2026-11-22 --format json");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["devices"].size() == 5);
    // Highest first; the workstation (no impact recorded) last.
    CHECK(j["devices"][0]["device"] == "pump-01");
    CHECK(j["devices"][1]["device"] == "pump-02");
    CHECK(j["devices"][4]["device"] == "ws-01");
    CHECK(j["devices"][4]["score"] == 0);

    // pump-01: class II, raised to high by its role; end of support (+3), telnet from ws-01 that
    // the deny no-telnet blocks (+1), ws-01 unexplained (+1) and a workstation (+1): 6 points,
    // 100 x 3/3 x 7/11 = 64. pump-02 scores the same and comes after it by name.
    const auto& p1 = risk_of(j, "pump-01");
    CHECK(p1["impact"]["level"] == "high");
    CHECK(p1["impact"]["patient_safety"]["source"] == "FDA class II, raised by its role infusion-pump (therapy or life support)");
    CHECK(p1["fda_tier"] == 1);
    CHECK(factors(p1) == std::vector<std::string>{"lifecycle", "insecure-attempts", "unexplained-peers", "workstation-peers"});
    CHECK(p1["exposure"]["points"] == 6);
    CHECK(p1["exposure"]["level"] == "high");
    CHECK(p1["score"] == 64);
    CHECK(p1["level"] == "high");
    CHECK(p1["exposure"]["reasons"][0]["reason"] == "end of support since 2024-06-30: the manufacturer no longer patches it");
    CHECK(p1["exposure"]["reasons"][1]["reason"] ==
          "insecure protocols tried and denied: telnet (tcp/23) from ws-01 (deny no-telnet)");
    CHECK(p1["best_change"]["factor"] == "insecure-attempts");
    CHECK(p1["score_after_best_change"] == 55);

    // pump-02 reached 192.0.2.44 on tcp/443: internet contact seen (+3), its biggest remedy.
    const auto& p2 = risk_of(j, "pump-02");
    CHECK(factors(p2) == std::vector<std::string>{"lifecycle", "internet-seen"});
    CHECK(p2["exposure"]["reasons"][1]["reason"] == "internet contact seen: 192.0.2.44 tcp/443");
    CHECK(p2["score"] == 64);
    CHECK(p2["best_change"]["factor"] == "internet-seen");
    CHECK(p2["score_after_best_change"] == 36);

    // pump-03 is supported: its profile's internet flow counts as declared (its stance lets it
    // through), the unknown 10.50.0.99 is an unexplained peer, and tcp/8080 is cleartext HTTP
    // even where an approval allows it.
    const auto& p3 = risk_of(j, "pump-03");
    CHECK(factors(p3) ==
          std::vector<std::string>{"insecure-protocol", "internet-declared", "unexplained-peers", "workstation-peers"});
    CHECK(p3["exposure"]["reasons"][0]["reason"] ==
          "insecure protocols seen: HTTP (tcp/8080) from ws-01, HTTP (tcp/8080) to 10.50.0.99");
    CHECK(p3["exposure"]["reasons"][2]["reason"] == "1 unexplained peer (no profile or approval): 10.50.0.99");
    CHECK(p3["score"] == 55);

    site.write("risk.json", r.out);
    CHECK(std::system(("python3 " + std::string(WARDGATE_SOURCE_DIR) + "/tests/support/validate_json.py " +
                       WARDGATE_SOURCE_DIR + "/docs/schema/risk.schema.json " + (site.dir() / "risk.json").string())
                          .c_str()) == 0);

    auto text = run_wardgate("risk " + site.dir().string() + " --today 2026-11-22");
    CHECK_THAT(text.out, Catch::Contains("    +1 insecure protocols tried and denied: telnet (tcp/23) from ws-01 (deny no-telnet)\n"));
    CHECK_THAT(text.out, Catch::Contains("    lowers it most: find and stop what keeps trying them (score 64 -> 55)\n"));
    CHECK_THAT(text.out, Catch::Contains("    lowers it most: deny the cleartext protocol, or have the vendor replace it "
                                         "with an encrypted one (score 55 -> 36)\n"));
    CHECK_THAT(text.out, Catch::Contains("5 devices: 2 high risk (score >= 60)"));
}

TEST_CASE("risk follows the site: monitor mode and a missing profile add exposure", "[risk]") {
    TempSite site;
    auto files = small_site_files();
    auto s = files["site.toml"];
    s.insert(s.find('\n', s.find("name = \"icu\"")) + 1, "monitor = true\n");
    site.write("site.toml", s);
    std::filesystem::remove(site.dir() / "profiles/imaging-ct-9.toml");
    const auto j = nlohmann::json::parse(run_wardgate("risk " + site.dir().string() + " --today 2026-11-22 --format json").out);
    const auto& p1 = risk_of(j, "pump-01");
    CHECK(p1["exposure"]["points"] == 8);
    CHECK(p1["score"] == 82);
    auto f = factors(p1);
    CHECK(std::find(f.begin(), f.end(), "monitor") != f.end());
    bool said = false;
    for (const auto& reason : p1["exposure"]["reasons"])
        if (reason["factor"] == "monitor") {
            CHECK(reason["reason"].get<std::string>().rfind("segment icu is in monitor mode (site.toml:", 0) == 0);
            CHECK(reason["reason"].get<std::string>().find("): the policy logs its would-be drops, it does not drop them") !=
                  std::string::npos);
            CHECK(reason["remedy"] == "enforce segment icu");
            said = true;
        }
    CHECK(said);
    auto ct = factors(risk_of(j, "ct-01"));
    CHECK(std::find(ct.begin(), ct.end(), "no-profile") != ct.end());
    // The workstation is not a regulated device: no profile is no exposure for it.
    auto ws = factors(risk_of(j, "ws-01"));
    CHECK(std::find(ws.begin(), ws.end(), "no-profile") == ws.end());
    CHECK(risk_of(j, "ws-01")["score"] == 0);
}

TEST_CASE("the README's risk, scorecard and calendar examples are what the commands print", "[risk][cli]") {
    const std::string readme = read_text(kSourceDir + "/README.md");
    // Each console line "$ build/wardgate ARGS" in those examples runs; every line after it, up
    // to the next command or the end of the block, is a line of its output ("..." skips).
    std::istringstream lines(readme);
    std::optional<CommandResult> current;
    int commands = 0, compared = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("```")) {
            current.reset();
            continue;
        }
        const std::string prefix = "$ build/wardgate ";
        if (line.starts_with(prefix)) {
            std::string args = line.substr(prefix.size());
            current.reset();
            if (!args.starts_with("risk ") && !args.starts_with("scorecard ") && args.find("--horizon") == std::string::npos)
                continue;
            auto at = args.find("policies/example-hospital");
            args.replace(at, std::string("policies/example-hospital").size(), kExampleSite);
            current = run_wardgate(args);
            ++commands;
            continue;
        }
        if (!current || line == "..." || line.empty()) continue;
        INFO(line);
        CHECK(current->out.find(line + "\n") != std::string::npos);
        ++compared;
    }
    CHECK(commands == 4);
    CHECK(compared > 20);
}

namespace {

// The small site with six Acme pumps that all fetch their drug library, where pump-03 alone
// also reaches 10.50.0.99 on tcp/8080.
TempSite pump_fleet_site() {
    auto files = small_site_files();
    for (int n = 4; n <= 6; ++n)
        files["devices.toml"] += fmt::format(R"(
[[device]]
name = "pump-0{0}"
addresses = ["10.110.0.2{0}"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
fda_class = "II"
lifecycle = "support"
)",
                                             n);
    std::string& log = files["flows/conn.log"];
    for (int n : {2, 3, 4, 5, 6})
        log += fmt::format("1763684{0}00.000000\tD{0}\t10.110.0.2{0}\t4100{0}\t10.50.0.20\t443\ttcp\tssl\t1.0\t100\t2000\tSF\n", n);
    return TempSite(files, false);
}

}  // namespace

TEST_CASE("peer deviation: a flow few of a device's observed siblings have raises its risk", "[risk][deviation]") {
    auto site = pump_fleet_site();
    auto r = run_wardgate("risk " + site.dir().string() + " --today 2026-11-22 --format json");
    INFO(r.out << r.err);
    const auto j = nlohmann::json::parse(r.out);
    const auto& p3 = risk_of(j, "pump-03");
    std::string reason;
    for (const auto& e : p3["exposure"]["reasons"])
        if (e["factor"] == "peer-deviation") reason = e["reason"];
    // pump-03's siblings seen in flows: pump-01, -02, -04, -05, -06. ws-01 reaching it on
    // tcp/8080 and its own 10.50.0.99 are its alone: two deviations, one point.
    CHECK(reason == "unlike its siblings (Acme Pump 1): reaches 10.50.0.99 tcp/8080; 0 of its 5 siblings do, "
                    "is reached by ws-01 tcp/8080; 0 of its 5 siblings do");
    // The drug library every pump reaches is no deviation for any of them.
    const auto& p4 = risk_of(j, "pump-04");
    for (const auto& e : p4["exposure"]["reasons"]) CHECK(e["factor"] != "peer-deviation");

    // The library's view: every deviation, by device, then peer.
    Pipeline p = run_pipeline(site.dir(), PipelineOptions{*parse_date("2026-11-22")});
    auto all = peer_deviations(*p.book, p.edges);
    std::vector<std::string> texts;
    for (const auto& d : all) texts.push_back(d.device + " " + d.text());
    CHECK(texts == std::vector<std::string>{
                       "pump-01 is reached by ws-01 tcp/23; 0 of its 5 siblings do",
                       "pump-02 reaches 192.0.2.44 tcp/443; 0 of its 5 siblings do",
                       "pump-03 reaches 10.50.0.99 tcp/8080; 0 of its 5 siblings do",
                       "pump-03 is reached by ws-01 tcp/8080; 0 of its 5 siblings do",
                   });
}

TEST_CASE("peer deviation: siblings never seen say nothing about what is normal", "[risk][deviation]") {
    // Three pumps seen (pump-04..06 are in the inventory but silent): two siblings each, too few.
    auto files = small_site_files();
    for (int n = 4; n <= 6; ++n)
        files["devices.toml"] += fmt::format("\n[[device]]\nname = \"pump-0{0}\"\naddresses = [\"10.110.0.2{0}\"]\nrole = "
                                             "\"infusion-pump\"\nvendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"icu\"\n"
                                             "fda_class = \"II\"\nlifecycle = \"support\"\n",
                                             n);
    TempSite site(files, false);
    Pipeline p = run_pipeline(site.dir(), PipelineOptions{*parse_date("2026-11-22")});
    CHECK(peer_deviations(*p.book, p.edges).empty());
}
