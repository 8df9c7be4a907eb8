// Golden files: tests/golden/export/<case>/<target>.txt hold what each target exports for each
// test site (ExportResult::combined(): the main file, then any companion files). After an
// intended change, rewrite them with
//     WARDGATE_UPDATE_GOLDEN=1 ./build/tests/wardgate_tests "[export][golden]"
// and review the diff by eye: each must still read as a valid configuration for its platform.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_site.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

fs::path golden_path(const std::string& c, const std::string& target) {
    return fs::path(WARDGATE_SOURCE_DIR) / "tests" / "golden" / "export" / c / (target + ".txt");
}

// "line 12: expected '...', got '...'" for the first line that differs; empty when equal.
std::string first_difference(const std::string& expected, const std::string& actual) {
    std::istringstream a(expected), b(actual);
    std::string la, lb;
    for (int n = 1;; ++n) {
        bool ha = static_cast<bool>(std::getline(a, la)), hb = static_cast<bool>(std::getline(b, lb));
        if (!ha && !hb) return expected == actual ? "" : "trailing newline differs";
        if (!ha || !hb || la != lb)
            return "line " + std::to_string(n) + ": expected '" + (ha ? la : "<end>") + "', got '" + (hb ? lb : "<end>") + "'";
    }
}

bool updating() {
    const char* v = std::getenv("WARDGATE_UPDATE_GOLDEN");
    return v && std::string(v) == "1";
}

}  // namespace

TEST_CASE("every target's export of every test site matches its golden file", "[export][golden]") {
    for (const auto& c : export_cases()) {
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        for (const auto& target : export_targets()) {
            DYNAMIC_SECTION(c << " " << target) {
                ExportResult r = render_export(p.policy, target, default_template_dir());
                std::string text = r.combined();
                auto path = golden_path(c, target);
                if (updating()) {
                    fs::create_directories(path.parent_path());
                    std::ofstream(path, std::ios::binary) << text;
                    SUCCEED("rewrote " << path);
                } else {
                    REQUIRE(fs::exists(path));
                    std::string diff = first_difference(read_text(path), text);
                    INFO(path.string() << ": " << diff);
                    CHECK(diff.empty());
                }
            }
        }
    }
}

// The golden files, written at another time, also prove that no timestamp gets in.
TEST_CASE("exports are deterministic", "[export][golden]") {
    for (const auto& c : {"example-hospital", "long-names"}) {
        auto first = pipeline_for(export_case_dir(c), kExportToday);
        auto second = pipeline_for(export_case_dir(c), kExportToday);
        for (const auto& target : export_targets()) {
            DYNAMIC_SECTION(c << " " << target) {
                auto a = render_export(first.policy, target, default_template_dir());
                auto b = render_export(second.policy, target, default_template_dir());
                CHECK(a.combined() == b.combined());
                CHECK(a.warnings == b.warnings);
            }
        }
    }
}

TEST_CASE("the nft target is exactly the ruleset apply installs", "[export]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    auto r = render_export(p.policy, "nft", default_template_dir());
    CHECK(r.text == render_nft(p.policy));
    CHECK(r.companions.empty());
    CHECK(r.filename == "st-example-general-hospital-nft.nft");
}

TEST_CASE("exports name their files after the site and the target", "[export]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    std::map<std::string, std::string> expected{{"asa", "st-example-general-hospital-asa.cfg"},
                                                {"ios", "st-example-general-hospital-ios.cfg"},
                                                {"panos", "st-example-general-hospital-panos.set"},
                                                {"fortios", "st-example-general-hospital-fortios.conf"},
                                                {"srx", "st-example-general-hospital-srx.set"},
                                                {"iptables", "st-example-general-hospital-iptables.rules"}};
    for (const auto& [target, name] : expected) CHECK(render_export(p.policy, target, default_template_dir()).filename == name);
    auto ipt = render_export(p.policy, "iptables", default_template_dir());
    REQUIRE(ipt.companions.size() == 2);
    CHECK(ipt.companions[0].filename == "st-example-general-hospital-iptables.v6.rules");
    CHECK(ipt.companions[1].filename == "st-example-general-hospital-iptables.ipset");
    CHECK_THROWS_AS(render_export(p.policy, "checkpoint", default_template_dir()), std::invalid_argument);
}

TEST_CASE("every rule carries why it exists, with the approval's expiry", "[export]") {
    auto p = pipeline_for(export_case_dir("expired-approval"), kExportToday);
    for (const auto& target : export_targets()) {
        DYNAMIC_SECTION(target) {
            std::string text = render_export(p.policy, target, default_template_dir()).combined();
            CHECK(text.find("approval CHG-1002 by M. Keller") != std::string::npos);
            CHECK(text.find("observed baseline") != std::string::npos);  // pinholes say where they come from
            // nftables keeps 128 bytes of a comment: render_nft names the first reason and counts the others.
            if (target != "nft") {
                CHECK(text.find("until 2027-01-31") != std::string::npos);  // the approval's expiry
                CHECK(text.find("approval CHG-1003 by A. Novak") != std::string::npos);
                CHECK(text.find("declared: Acme P1 profile - Time") != std::string::npos);
                // The expired approval is not a rule, but the export says why it is gone.
                CHECK(text.find("approval CHG-1001 (device:ws-01 -> role:infusion-pump tcp/8080, by M. Keller) expired "
                                "on 2026-01-31") != std::string::npos);
            }
        }
    }
}
