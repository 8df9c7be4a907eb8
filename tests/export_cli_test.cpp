// `wardgate export`: standard output, --out files, --target all, --templates, and failures
// that leave nothing half-written; plus what a site's own templates can and cannot do.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

std::string example_site_dir() { return export_case_dir("example-hospital").string(); }

void copy_templates(const fs::path& to) {
    fs::copy(default_template_dir(), to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

// Removes the lines of `text` between the line holding `from` and the next line holding `to`, both included.
std::string cut(const std::string& text, const std::string& from, const std::string& to) {
    auto a = text.find(from);
    REQUIRE(a != std::string::npos);
    auto b = text.find(to, a + from.size());
    REQUIRE(b != std::string::npos);
    a = text.rfind('\n', a) + 1;
    b = text.find('\n', b) + 1;
    return text.substr(0, a) + text.substr(b);
}

}  // namespace

TEST_CASE("export prints the library's export and its warnings", "[export][cli]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    for (const std::string target : {"panos", "iptables"}) {
        auto r = run_wardgate("export " + example_site_dir() + " --target " + target + " --today " + kExportToday);
        CHECK(r.exit_code == 0);
        CHECK(r.out == render_export(p.policy, target, default_template_dir()).combined());
        CHECK(r.err.empty());  // the example site exports without warnings
    }
    auto warned = run_wardgate("export " + export_case_dir("long-names").string() + " -t fortios --today " + kExportToday);
    CHECK(warned.exit_code == 0);
    CHECK(warned.err.find("warning: fortios: the VLAN interface of segment any is named any-2") != std::string::npos);
}

TEST_CASE("export --out writes the files atomically, --target all every target", "[export][cli]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    TempDir dir("export-out");
    auto one = run_wardgate("export " + example_site_dir() + " -t srx --out " + dir.path.string() + " --today " + kExportToday);
    REQUIRE(one.exit_code == 0);
    CHECK(one.out.empty());
    CHECK(read_text(dir.path / "st-example-general-hospital-srx.set") ==
          render_export(p.policy, "srx", default_template_dir()).text);

    auto all = run_wardgate("export " + example_site_dir() + " -t all -o " + (dir.path / "all").string() + " --today " + kExportToday);
    REQUIRE(all.exit_code == 0);
    size_t files = 0;
    for (const auto& target : export_targets()) {
        auto r = render_export(p.policy, target, default_template_dir());
        CHECK(read_text(dir.path / "all" / r.filename) == r.text);
        ++files;
        for (const auto& c : r.companions) {
            CHECK(read_text(dir.path / "all" / c.filename) == c.text);
            ++files;
        }
    }
    CHECK(files == 13);  // eight targets; iptables IPv6 rules and ipsets; PAN-OS undo and notes; FortiOS undo
    CHECK(static_cast<size_t>(std::distance(fs::directory_iterator(dir.path / "all"), fs::directory_iterator{})) == files);
}

TEST_CASE("export fails without writing anything", "[export][cli]") {
    TempDir dir("export-fail");
    SECTION("--target all needs --out") {
        auto r = run_wardgate("export " + example_site_dir() + " -t all --today " + kExportToday);
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
    }
    SECTION("an unknown target") {
        auto r = run_wardgate("export " + example_site_dir() + " -t checkpoint --today " + kExportToday);
        CHECK(r.exit_code != 0);
        CHECK(r.out.empty());
    }
    SECTION("a template directory that lacks a target's template") {
        copy_templates(dir.path / "templates");
        fs::remove(dir.path / "templates" / "srx" / "config.mustache");
        auto out = dir.path / "exports";
        auto r = run_wardgate("export " + example_site_dir() + " -t all -o " + out.string() + " --templates " +
                              (dir.path / "templates").string() + " --today " + kExportToday);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("srx/config.mustache") != std::string::npos);
        CHECK_FALSE(fs::exists(out));  // not even the targets rendered before srx
    }
    SECTION("a template that does not parse") {
        copy_templates(dir.path / "templates");
        std::ofstream(dir.path / "templates" / "asa" / "config.mustache") << "{{#interfaces}}never closed\n";
        auto r = run_wardgate("export " + example_site_dir() + " -t asa -o " + (dir.path / "x").string() + " --templates " +
                              (dir.path / "templates").string() + " --today " + kExportToday);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("asa/config.mustache") != std::string::npos);
        CHECK_FALSE(fs::exists(dir.path / "x"));
    }
}

TEST_CASE("a site's own templates change the output without recompiling", "[export][templates]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    TempDir dir("export-templates");
    copy_templates(dir.path);
    SECTION("an edited template and a partial") {
        std::string tmpl = read_text(dir.path / "ios" / "config.mustache");
        tmpl.replace(tmpl.find("{{#interfaces}}"), 0, "{{> banner}}\n");
        std::ofstream(dir.path / "ios" / "config.mustache") << tmpl;
        std::ofstream(dir.path / "ios" / "banner.mustache") << "banner motd ^wardgate policy for {{site}}^\n";
        auto r = render_export(p.policy, "ios", dir.path);
        CHECK(r.text.find("banner motd ^wardgate policy for St. Example General Hospital^") != std::string::npos);
        CHECK(r.text.find("{{") == std::string::npos);
        CHECK(r.warnings.empty());
    }
    SECTION("values are inserted verbatim, not HTML-escaped") {
        std::ofstream(dir.path / "panos" / "config.mustache") << "{{#rules}}{{description}}\n{{/rules}}";
        auto r = render_export(p.policy, "panos", dir.path);
        CHECK(r.text.find("'wardgate drop icu'") != std::string::npos);
        CHECK(r.text.find("&#39;") == std::string::npos);
        CHECK(r.text.find("&gt;") == std::string::npos);
    }
    SECTION("a template without IPv6 is warned about, not silently accepted") {
        std::string tmpl = read_text(dir.path / "fortios" / "config.mustache");
        tmpl = cut(tmpl, "config firewall address6", "{{/addresses6}}");
        tmpl = cut(tmpl, "config firewall addrgrp6", "{{/groups6}}");
        tmpl = cut(tmpl, "{{#has_v6}}", "{{/has_v6}}");
        std::ofstream(dir.path / "fortios" / "config.mustache") << tmpl;
        auto r = render_export(p.policy, "fortios", dir.path);
        REQUIRE(r.warnings.size() == 1);
        CHECK(r.warnings.front().find("fortios: ") == 0);
        CHECK(r.warnings.front().find("IPv6 addresses the policy uses are not in the output") != std::string::npos);
    }
}

TEST_CASE("export --out writes files everyone may read (they hold no secret)", "[export][cli]") {
    TempDir dir("export-mode");
    auto r = run_wardgate("export " + example_site_dir() + " -t iptables --out " + dir.path.string() + " --today " +
                          kExportToday);
    REQUIRE(r.exit_code == 0);
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) {
        INFO(e.path());
        auto perms = fs::status(e.path()).permissions();
        CHECK((perms & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                           fs::perms::others_read));
        ++files;
    }
    CHECK(files == 3);
}

TEST_CASE("export --interface names the device's interfaces, and the header lists the defaulted ones", "[export][cli]") {
    auto r = run_wardgate("export " + example_site_dir() + " -t asa --today " + kExportToday +
                          " --interface icu=GigabitEthernet0/3.110 --interface outside=TenGigabitEthernet0/8");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\ninterface GigabitEthernet0/3.110\n") != std::string::npos);
    CHECK(r.out.find("\ninterface TenGigabitEthernet0/8\n") != std::string::npos);
    CHECK(r.out.find("\ninterface GigabitEthernet0/1.110\n") == std::string::npos);
    CHECK(r.out.find("! Interface trunk is GigabitEthernet0/1, a default") != std::string::npos);
    CHECK(r.out.find("! Interface icu is") == std::string::npos);
    CHECK(r.out.find("! Interface outside is") == std::string::npos);

    auto srx = run_wardgate("export " + example_site_dir() + " -t srx --today " + kExportToday +
                            " --interface icu=xe-0/0/4.110");
    REQUIRE(srx.exit_code == 0);
    CHECK(srx.out.find("set groups wardgate interfaces xe-0/0/4 unit 110 vlan-id 110") != std::string::npos);

    auto bad = run_wardgate("export " + example_site_dir() + " -t asa --today " + kExportToday +
                            " --interface nosuchsegment=Gi0/9");
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("nosuchsegment") != std::string::npos);
    auto malformed = run_wardgate("export " + example_site_dir() + " -t asa --interface icu");
    CHECK(malformed.exit_code != 0);
}

TEST_CASE("site.toml names the firewall's interfaces per export target, and --interface overrides them", "[export][cli]") {
    TempDir dir("export-site-interfaces");
    std::filesystem::copy(example_site_dir(), dir.path / "site", std::filesystem::copy_options::recursive);
    const auto site_toml = dir.path / "site" / "site.toml";
    const std::string base = read_text(site_toml);
    auto with = [&](const std::string& extra) { std::ofstream(site_toml, std::ios::binary) << base + extra; };
    const std::string site = (dir.path / "site").string();

    with("\n[export.asa]\ninterfaces = { icu = \"GigabitEthernet0/3.110\", outside = \"TenGigabitEthernet0/8\" }\n"
         "\n[export.srx]\ninterfaces = { icu = \"xe-0/0/4.110\" }\n");
    auto asa = run_wardgate("export " + site + " -t asa --today " + kExportToday);
    REQUIRE(asa.exit_code == 0);
    CHECK(asa.out.find("\ninterface GigabitEthernet0/3.110\n") != std::string::npos);
    CHECK(asa.out.find("\ninterface TenGigabitEthernet0/8\n") != std::string::npos);
    CHECK(asa.out.find("! Interface icu is") == std::string::npos);
    auto srx = run_wardgate("export " + site + " -t srx --today " + kExportToday);
    REQUIRE(srx.exit_code == 0);
    CHECK(srx.out.find("set groups wardgate interfaces xe-0/0/4 unit 110 vlan-id 110") != std::string::npos);
    // Only its own target's table applies: the IOS export keeps its defaults.
    auto ios = run_wardgate("export " + site + " -t ios --today " + kExportToday);
    REQUIRE(ios.exit_code == 0);
    CHECK(ios.out.find("GigabitEthernet0/3.110") == std::string::npos);
    auto overridden = run_wardgate("export " + site + " -t asa --today " + kExportToday +
                                   " --interface icu=GigabitEthernet0/5.110");
    REQUIRE(overridden.exit_code == 0);
    CHECK(overridden.out.find("\ninterface GigabitEthernet0/5.110\n") != std::string::npos);
    CHECK(overridden.out.find("\ninterface TenGigabitEthernet0/8\n") != std::string::npos);

    const int extra_line = 1 + static_cast<int>(std::count(base.begin(), base.end(), '\n')) + 1;
    SECTION("an unknown target is an error in check, plan and export") {
        with("\n[export.cisco]\ninterfaces = { icu = \"Gi0/3\" }\n");
        for (const std::string cmd : {"check " + site, "plan " + site, "export " + site + " -t asa"}) {
            auto r = run_wardgate(cmd + " --today " + kExportToday);
            INFO(cmd << ": " << r.err);
            CHECK(r.exit_code == 1);
            CHECK_THAT(r.err, Catch::Contains("site.toml:" + std::to_string(extra_line) +
                                              ": export.cisco: unknown export target (asa, ios"));
        }
    }
    SECTION("an interface the target does not take is an error in check, and on the command line") {
        with("\n[export.nft]\ninterfaces = { icu = \"eth1\" }\n");
        auto nft = run_wardgate("check " + site + " --today " + kExportToday);
        CHECK(nft.exit_code == 1);
        CHECK_THAT(nft.err, Catch::Contains("site.toml:" + std::to_string(extra_line) +
                                            ": export.nft.interfaces.icu: the nft export names no interfaces"));
        with("\n[export.ios-switch]\ninterfaces = { trunk = \"GigabitEthernet1/0/48\" }\n");
        auto trunk = run_wardgate("check " + site + " --today " + kExportToday);
        CHECK(trunk.exit_code == 1);
        CHECK_THAT(trunk.err, Catch::Contains("export.ios-switch.interfaces.trunk: the ios-switch export has no trunk"));
        with("");
        auto cli = run_wardgate("export " + site + " -t iptables --interface icu=eth1 --today " + kExportToday);
        CHECK(cli.exit_code != 0);
        CHECK_THAT(cli.err, Catch::Contains("the iptables export names no interfaces"));
        // With --target all each --interface goes to the targets that take it.
        auto all = run_wardgate("export " + site + " -t all --out " + (dir.path / "all").string() +
                                " --interface icu=GigabitEthernet0/5.110 --today " + kExportToday);
        CHECK(all.exit_code == 0);
        CHECK(read_text(dir.path / "all" / "st-example-general-hospital-asa.cfg").find("\ninterface GigabitEthernet0/5.110\n") !=
              std::string::npos);
    }
    SECTION("a key that is not a segment, outside or trunk") {
        with("\n[export.asa]\ninterfaces = { ic = \"Gi0/3\" }\n");
        auto r = run_wardgate("check " + site + " --today " + kExportToday);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("site.toml:" + std::to_string(extra_line + 1) +
                                          ": export.asa.interfaces.ic: \"ic\" is neither a segment nor outside or trunk "
                                          "(did you mean \"icu\"?)"));
    }
}
