// The plan's JSON is a contract for automation: every plan the tests print is valid against
// docs/schema/plan.schema.json, the schema rejects what breaks it, and the CI check in
// docs/ci.md does what the page says on the example site.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"

using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

const std::string kSchema = kSourceDir + "/docs/schema/plan.schema.json";
const std::string kValidator = kSourceDir + "/tests/support/validate_json.py";

struct Validation {
    int exit_code;
    std::string output;
};

Validation validate(const TempDir& tmp, const std::string& json, const std::string& schema = kSchema) {
    auto doc = tmp.write("document.json", json);
    auto out = (tmp.path / "validation.txt").string();
    int status = std::system(("python3 " + kValidator + " " + schema + " " + doc + " > " + out + " 2>&1").c_str());
    return {WEXITSTATUS(status), read_text(out)};
}

std::string plan_json(const std::string& site, const std::string& extra = "") {
    auto r = run_wardgate("plan " + site + " --format json --today 2026-11-22 " + extra);
    INFO(r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 2));
    return r.out;
}

}  // namespace

TEST_CASE("every plan is valid against docs/schema/plan.schema.json", "[plan][schema]") {
    TempDir tmp("plan-schema");
    SECTION("the example site, first plan") {
        auto v = validate(tmp, plan_json(kExampleSite));
        INFO(v.output);
        CHECK(v.exit_code == 0);
    }
    SECTION("one gateway's plan of the example site") {
        auto json = plan_json(kExampleSite, "--gateway wards --state " + (tmp.path / "none.json").string());
        auto j = nlohmann::json::parse(json);
        CHECK(j["gateway"]["name"] == "wards");
        CHECK(j["gateway"]["segments"] == nlohmann::json::array({"icu", "pharmacy"}));
        CHECK(j["counts"]["rules"].get<size_t>() < j["gateway"]["site_counts"]["rules"].get<size_t>());
        auto v = validate(tmp, json);
        INFO(v.output);
        CHECK(v.exit_code == 0);
    }
    SECTION("a plan against a saved state, with changed and removed rules and pinholes") {
        TempSite site;
        REQUIRE(run_wardgate("plan " + site.dir().string() + " --save --today 2026-11-22").exit_code != 1);
        auto policy = read_text(site.dir() / "policy.toml");
        auto at = policy.find("ports = [8080]");
        REQUIRE(at != std::string::npos);
        site.write("policy.toml", policy.replace(at, 14, "ports = [8080, 8443]"));
        site.write("flows/conn.log", small_site_files()["flows/conn.log"].substr(0, 400));
        auto json = plan_json(site.dir().string());
        auto doc = nlohmann::json::parse(json);
        bool changed = false;
        for (const auto& r : doc["rules"]) changed |= r["change"] == "changed";
        CHECK(changed);
        auto v = validate(tmp, json);
        INFO(v.output);
        CHECK(v.exit_code == 0);
    }
    SECTION("a plan full of warnings: each has its code and subject") {
        auto policy = small_site_files()["policy.toml"] +
                      "\n[[approval]]\nid = \"CHG-SAME\"\nfrom = \"device:pump-03\"\nto = \"device:pump-x\"\n"
                      "protocol = \"tcp\"\nports = [9000]\nby = \"x\"\nreason = \"y\"\n";
        auto devices = small_site_files()["devices.toml"] +
                       "\n[[device]]\nname = \"pump-x\"\naddresses = [\"10.110.0.77\"]\nrole = \"infusion-pump\"\n"
                       "vendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"icu\"\nlifecycle = \"support\"\n";
        TempSite site({{"policy.toml", policy},
                       {"devices.toml", devices},
                       {"flows/conn.log", "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\n"
                                          "1763683200.0\t10.110.0.21\t10.50.0.20\t443\ttcp\n"},
                       {"site.toml", small_site_files()["site.toml"] +
                                         "\n[[endpoint]]\nname = \"cloud\"\nkind = \"internt\"\naddresses = [\"192.0.2.0/24\"]\n"}});
        auto json = plan_json(site.dir().string());
        auto v = validate(tmp, json);
        INFO(v.output);
        CHECK(v.exit_code == 0);
        std::map<std::string, std::string> subjects;
        const auto doc = nlohmann::json::parse(json);
        for (const auto& n : doc["notes"])
            subjects[n["code"].get<std::string>()] = n["subject"].get<std::string>();
        CHECK(subjects["approval-one-segment"] == "CHG-SAME");
        CHECK(subjects["flow-file"] == "flows/conn.log");
        CHECK(subjects["site-input"] == "site.toml");
        CHECK(subjects["approval-expired"] == "CHG-OLD");
    }
    SECTION("a site without flows") {
        auto v = validate(tmp, plan_json(kGatewaySite));
        INFO(v.output);
        CHECK(v.exit_code == 0);
    }
}

TEST_CASE("the plan schema rejects what would break a consumer", "[plan][schema]") {
    TempDir tmp("plan-schema-bad");
    auto good = nlohmann::json::parse(plan_json(kExampleSite));
    REQUIRE(!good["rules"].empty());
    REQUIRE(!good["impact"].empty());
    auto rejected = [&](nlohmann::json doc, const std::string& expected) {
        auto v = validate(tmp, doc.dump());
        INFO(v.output);
        CHECK(v.exit_code == 1);
        CHECK_THAT(v.output, Catch::Contains(expected));
    };
    SECTION("no format") {
        auto doc = good;
        doc.erase("format");
        rejected(doc, "'format' is a required property");
    }
    SECTION("another format") {
        auto doc = good;
        doc["format"] = 3;
        rejected(doc, "format: 2 was expected");
    }
    SECTION("an action no backend knows") {
        auto doc = good;
        doc["rules"][0]["action"] = "permit";
        rejected(doc, "rules/0/action: 'permit' is not one of");
    }
    SECTION("a port range turned into text") {
        auto doc = good;
        doc["rules"][0]["service_list"][0]["ports"] = "23";
        rejected(doc, "rules/0/service_list/0/ports: '23' is not of type 'array'");
    }
    SECTION("a blocked flow without its reason") {
        auto doc = good;
        doc["impact"][0]["flows"][0].erase("blocked_by");
        rejected(doc, "impact/0/flows/0: 'blocked_by' is a required property");
    }
}

TEST_CASE("the CI check of docs/ci.md fails on the example site and passes on a clean one", "[plan][schema][ci]") {
    const std::string script = kSourceDir + "/docs/ci/check-site";
    // The page shows the script as it is.
    CHECK_THAT(read_text(kSourceDir + "/docs/ci.md"), Catch::Contains(read_text(script)));
    TempDir tmp("ci-check");
    const std::string bin_dir = fs::path(WARDGATE_BINARY).parent_path().string();
    auto run = [&](const std::string& args) {
        auto out = (tmp.path / "out.txt").string();
        int status = std::system(("cd " + tmp.path.string() + " && PATH=" + bin_dir + ":$PATH sh " + script + " " + args +
                                  " > " + out + " 2>&1")
                                     .c_str());
        return Validation{WEXITSTATUS(status), read_text(out)};
    };
    SECTION("the example site: warnings, and answered clinical flows only the default deny would block") {
        auto r = run(kExampleSite + " --today 2026-11-22");
        INFO(r.output);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.output, Catch::Contains("4 warnings"));
        CHECK_THAT(r.output, Catch::Contains("St. Example General Hospital: 42 rules (42 added, 0 removed, 0 changed)"));
        CHECK_THAT(r.output, Catch::Contains("would block: pump-icu-02 (infusion-pump, end-of-support): ws-biomed-01 -> "
                                             "pump-icu-02 tcp/8080, 1 answered connection"));
        // A flow an explicit deny names is a decision, not a question: telnet to the pumps is not listed.
        CHECK_THAT(r.output, !Catch::Contains("tcp/23"));
        CHECK(fs::exists(tmp.path / "plan.json"));
    }
    SECTION("a site with no warnings and nothing clinical blocked") {
        auto r = run(kGatewaySite);
        INFO(r.output);
        CHECK(r.exit_code == 0);
        CHECK_THAT(r.output, Catch::Contains("0 warnings") &&
                                 Catch::Contains("Gateway Test Site: 3 rules (3 added, 0 removed, 0 changed)"));
        CHECK_THAT(r.output, !Catch::Contains("would block"));
    }
}

TEST_CASE("check and explain speak JSON that their schemas accept", "[plan][schema][explain]") {
    TempDir tmp("json-schemas");
    const std::string check_schema = kSourceDir + "/docs/schema/check.schema.json";
    const std::string explain_schema = kSourceDir + "/docs/schema/explain.schema.json";
    const std::string protocols = kSourceDir + "/tests/data/protocol-site";

    auto example = run_wardgate("check " + kExampleSite + " --today 2026-11-22 --format json");
    CHECK(example.exit_code == 0);
    auto v = validate(tmp, example.out, check_schema);
    INFO(v.output);
    CHECK(v.exit_code == 0);
    auto j = nlohmann::json::parse(example.out);
    CHECK(j["valid"] == true);
    CHECK(j["counts"]["devices"] == 46);
    CHECK(j["warnings"].get<int>() > 0);
    CHECK(run_wardgate("check " + kExampleSite + " --today 2026-11-22 --format json --strict").exit_code == 2);

    // A site that does not load: the errors as data, with file, line and field.
    auto files = small_site_files();
    const auto lines_before = std::count(files["policy.toml"].begin(), files["policy.toml"].end(), '\n');
    files["policy.toml"] += "[[approval]]\nid = \"A\"\nfrom = \"any\"\nto = \"any\"\nprotocol = \"esp\"\nports = [1]\n"
                            "by = \"x\"\nreason = \"y\"\n";
    TempSite broken(files);
    auto bad = run_wardgate("check " + broken.dir().string() + " --format json");
    CHECK(bad.exit_code == 1);
    v = validate(tmp, bad.out, check_schema);
    INFO(v.output);
    CHECK(v.exit_code == 0);
    auto errors = nlohmann::json::parse(bad.out)["errors"];
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0]["file"].get<std::string>().ends_with("policy.toml"));
    CHECK(errors[0]["line"] == lines_before + 6);
    CHECK(errors[0]["field"] == "approval.ports");
    CHECK(nlohmann::json::parse(bad.out)["valid"] == false);

    struct Ask {
        std::string site, args, by;
        int exit_code;
    };
    for (const auto& a : std::vector<Ask>{
             {protocols, "pacs monitor-icu-01 icmp/echo-request", "allow-rule", 0},
             {protocols, "monitor-icu-01 pacs esp", "baseline", 0},
             {protocols, "monitor-icu-01 remote-support ah", "default-deny", 2},
             {kExampleSite, "ws-icu-02 pump-icu-03 tcp/23", "deny-rule", 2},
             {kExampleSite, "ws-biomed-01 pump-icu-09 icmp/echo-request", "default-deny", 2},
         }) {
        auto r = run_wardgate("explain " + a.site + " --today 2026-11-22 " + a.args + " --format json");
        INFO(a.args << "\n" << r.err);
        CHECK(r.exit_code == a.exit_code);
        v = validate(tmp, r.out, explain_schema);
        INFO(v.output);
        CHECK(v.exit_code == 0);
        auto e = nlohmann::json::parse(r.out);
        CHECK(e["by"] == a.by);
        CHECK(e["allowed"] == (a.exit_code == 0));
        if (a.by == "allow-rule") {
            CHECK(e["rule"]["why"][0]["approval_id"] == "CHG-7001");
            CHECK(e["rule"]["why"][0]["ticket"] == "https://changes.example/CHG-7001");
            CHECK(e["service"]["icmp_types"][0]["name"] == "echo-request");
        }
        if (a.by == "default-deny" && a.site == kExampleSite) {
            CHECK(e["default_deny"]["segment"] == "biomed");
            REQUIRE_FALSE(e["observed"].empty());
            CHECK(e["observed"][0]["service"] == "icmp/echo-request");
            CHECK_THAT(e["reasons"][0].get<std::string>(), Catch::Contains("not yet mature"));
        }
    }
}
