// The platforms' own tools accept the exports this machine can check: nft -c for the nft
// target; ipset, iptables-restore --test and ip6tables-restore --test for the iptables target,
// inside network namespaces the tests create (never the host's tables). Then traffic through
// a gateway namespace loaded from the iptables export goes where the policy says.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "support/export_readers.hpp"
#include "support/internet_site.hpp"
#include "support/netns.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

struct IptablesFiles {
    fs::path v4, v6, sets;
};

IptablesFiles write_iptables(const ExportResult& r, const fs::path& dir) {
    REQUIRE(r.companions.size() == 2);
    IptablesFiles f{dir / r.filename, dir / r.companions[0].filename, dir / r.companions[1].filename};
    std::ofstream(f.v4) << r.text;
    std::ofstream(f.v6) << r.companions[0].text;
    std::ofstream(f.sets) << r.companions[1].text;
    return f;
}

// Loads the export into a namespace the way the file header says: ipsets first, then both
// families into wardgate's own chains, then (once) the jump from FORWARD.
int load(const Netns& ns, const IptablesFiles& f, bool test_only, std::string& out) {
    std::string flag = test_only ? " --test" : "";
    std::string jump;
    if (!test_only)
        for (const char* tool : {"iptables", "ip6tables"})
            jump += std::string(" && { ") + tool + " -C FORWARD -j wg-forward 2>/dev/null || " + tool +
                    " -I FORWARD 1 -j wg-forward; }";
    return ns.exec_status("sh -c 'ipset restore -exist < " + f.sets.string() + " && iptables-restore --noflush" + flag +
                              " < " + f.v4.string() + " && ip6tables-restore --noflush" + flag + " < " + f.v6.string() +
                              jump + "'",
                          &out);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The filter tables as the kernel holds them, counters left out.
std::string tables_of(const Netns& ns) {
    std::string text;
    for (const char* cmd : {"iptables-save -t filter", "ip6tables-save -t filter"}) {
        for (const auto& line : lines_of(ns.exec(cmd))) {
            if (line.empty() || line[0] == '#') continue;
            std::string l = line;
            if (l[0] == ':') l = l.substr(0, l.find(" ["));
            text += l + "\n";
        }
    }
    return text;
}

// The sets as `ipset save` lists them, sorted (hash order varies), without the random initval.
std::set<std::string> sets_of(const Netns& ns) {
    std::set<std::string> out;
    for (auto line : lines_of(ns.exec("ipset save"))) {
        auto at = line.find(" initval ");
        if (at != std::string::npos) line = line.substr(0, at);
        if (!line.empty()) out.insert(line);
    }
    return out;
}

}  // namespace

TEST_CASE("nft -c accepts the nft export of every test site", "[export][tools]") {
    for (const auto& c : export_cases()) {
        DYNAMIC_SECTION(c) {
            auto p = pipeline_for(export_case_dir(c), kExportToday);
            std::string err;
            int rc = nft_check(render_export(p.policy, "nft", default_template_dir()).text, err);
            INFO(err);
            CHECK(rc == 0);
        }
    }
}

TEST_CASE("ipset and iptables-restore accept the iptables export of every test site", "[export][tools]") {
    TempDir dir("export-tools");
    for (const auto& c : export_cases()) {
        DYNAMIC_SECTION(c) {
            Netns ns("export");
            auto p = pipeline_for(export_case_dir(c), kExportToday);
            auto files = write_iptables(render_export(p.policy, "iptables", default_template_dir()), dir.path);
            std::string out;
            int rc = load(ns, files, true, out);
            INFO(out);
            CHECK(rc == 0);
            CHECK(load(ns, files, false, out) == 0);
            // Loading again replaces the lists and the rules instead of failing on what exists.
            CHECK(load(ns, files, false, out) == 0);
        }
    }
}

TEST_CASE("traffic through a gateway loaded from the iptables export follows the policy", "[export][tools][netns]") {
    // The example hospital: dev is pump-icu-01 (10.110.0.21, BD Alaris 8015, end of support),
    // srv holds the NTP server 10.50.0.5 and PACS 10.50.0.10, and here also the drug library.
    GatewayTopology topo;
    add_address(topo.srv, "eth0", "10.50.0.30/24");
    TempDir dir("export-tools");
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    auto files = write_iptables(render_export(p.policy, "iptables", default_template_dir()), dir.path);
    std::string out;
    REQUIRE(load(topo.gw, files, false, out) == 0);

    // Declared by the BD Alaris profile: replies come back by connection state.
    CHECK(udp_exchange(topo.dev, topo.srv, "10.50.0.5", 123));
    CHECK(tcp_exchange(topo.dev, topo.srv, "10.50.0.30", 443));
    // Not declared: the default deny of the icu segment.
    CHECK_FALSE(tcp_exchange(topo.dev, topo.srv, "10.50.0.30", 8443, 1500));
    CHECK_FALSE(tcp_exchange(topo.dev, topo.srv, "10.50.0.10", 104, 1500));
    // fd00:110::21 is no device of the site: nothing is allowed for it.
    CHECK_FALSE(udp_exchange(topo.dev, topo.srv, "fd00:50::5", 123, 1500));
    // The explicit deny: telnet to infusion pumps, from anywhere.
    CHECK_FALSE(tcp_exchange(topo.out, topo.dev, "10.110.0.21", 23, 1500));

    // The drops were logged (iptables -v -S: "-c PACKETS BYTES"): by the icu segment's drop
    // chain, and by the log rule before the explicit deny.
    std::string drops = topo.gw.exec("iptables -v -S wg-drop-icu");
    INFO(drops);
    CHECK(drops.find("-j NFLOG") != std::string::npos);
    CHECK(drops.find("-c 0 0 -j NFLOG") == std::string::npos);
    bool deny_logged = false;
    for (const auto& line : lines_of(topo.gw.exec("iptables -v -S wg-forward")))
        if (line.find("no-telnet-pumps") != std::string::npos && line.find("-j NFLOG") != std::string::npos)
            deny_logged = line.find("-c 0 0 ") == std::string::npos;
    CHECK(deny_logged);
}

TEST_CASE("loading an iptables export over the previous one equals loading it alone, and keeps the gateway's own rules",
          "[export][tools][netns][reload]") {
    TempDir dir("export-reload");
    auto before = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    auto after = pipeline_for(write_next_hospital(dir.path), kExportToday);
    fs::create_directories(dir.path / "n");
    fs::create_directories(dir.path / "n1");
    auto first = write_iptables(render_export(before.policy, "iptables", default_template_dir()), dir.path / "n");
    auto second = write_iptables(render_export(after.policy, "iptables", default_template_dir()), dir.path / "n1");
    // The gateway's own protection, which no load may touch.
    const std::string own = "iptables -P INPUT DROP && iptables -A INPUT -i lo -j ACCEPT && "
                            "iptables -A INPUT -p tcp --dport 22 -j ACCEPT && iptables -N site-extra && "
                            "iptables -A FORWARD -j site-extra && ip6tables -P INPUT DROP";
    std::string out;
    Netns twice("reload-twice"), once("reload-once");
    for (const Netns* ns : {&twice, &once}) REQUIRE(ns->exec_status("sh -c '" + own + "'", &out) == 0);
    REQUIRE(load(twice, first, false, out) == 0);
    REQUIRE(load(twice, second, false, out) == 0);
    REQUIRE(load(once, second, false, out) == 0);
    std::string got = tables_of(twice), want = tables_of(once);
    INFO(got);
    CHECK(got == want);
    // Every list the second export loads holds exactly its entries; no temporary set is left.
    auto sets_twice = sets_of(twice), sets_once = sets_of(once);
    CHECK_FALSE(sets_once.empty());
    for (const auto& line : sets_once) {
        INFO(line);
        CHECK(sets_twice.count(line));
    }
    for (const auto& line : sets_twice) {
        INFO(line);
        CHECK(line.find("-t ") == std::string::npos);
        // A line of a set the second export also has is one of its lines.
        auto name_end = line.find(' ', line.find(' ') + 1);
        std::string set = line.substr(line.find(' ') + 1, name_end - line.find(' ') - 1);
        bool shared = std::any_of(sets_once.begin(), sets_once.end(),
                                  [&](const std::string& l) { return l.rfind("create " + set + " ", 0) == 0; });
        if (shared) CHECK(sets_once.count(line));
    }
    CHECK(got.find(":INPUT DROP") != std::string::npos);
    CHECK(got.find("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT") != std::string::npos);
    CHECK(got.find("-A FORWARD -j site-extra") != std::string::npos);
    CHECK(got.find("-A FORWARD -j wg-forward") != std::string::npos);
    // The approval removed in the second export (SNMP from ws-biomed-01) is gone.
    CHECK(got.find("CHG-5230") == std::string::npos);
    CHECK(tables_of(once).find("CHG-5230") == std::string::npos);
}

TEST_CASE("an iptables export's internet rules reach outside only", "[export][tools][netns][internet]") {
    TempSite site(gateway_site_with_internet(), false);
    auto p = pipeline_for(site.dir());
    GatewayTopology topo;
    for (const char* a : {"10.50.0.77/24", "fd00:50::77/64", "10.50.0.78/24"}) add_address(topo.srv, "eth0", a);
    TempDir dir("export-internet");
    auto files = write_iptables(render_export(p.policy, "iptables", default_template_dir()), dir.path);
    std::string out;
    REQUIRE(load(topo.gw, files, false, out) == 0);
    for (uint16_t port : {443, 8443}) {
        INFO("port " << port);
        CHECK(tcp_exchange(topo.dev, topo.out, "203.0.113.10", port));
        CHECK(tcp_exchange(topo.dev, topo.out, "2001:db8:113::10", port));
        for (const char* inside : {"10.50.0.10", "fd00:50::10", "10.50.0.77", "fd00:50::77", "10.50.0.78"}) {
            INFO(inside);
            CHECK_FALSE(tcp_exchange(topo.dev, topo.srv, inside, port, 1500));
        }
    }
}

TEST_CASE("loading an nft export over the previous one equals loading it alone, and keeps other tables",
          "[export][tools][netns][reload]") {
    TempDir dir("export-reload-nft");
    auto before = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    auto after = pipeline_for(write_next_hospital(dir.path), kExportToday);
    std::string n = dir.write("n.nft", render_export(before.policy, "nft", default_template_dir()).text);
    std::string n1 = dir.write("n1.nft", render_export(after.policy, "nft", default_template_dir()).text);
    const std::string own = "nft add table inet site && nft add chain inet site input "
                            "\"{ type filter hook input priority 0; policy drop; }\" && "
                            "nft add rule inet site input tcp dport 22 accept";
    std::string out;
    Netns twice("reload-nft-twice"), once("reload-nft-once");
    for (const Netns* ns : {&twice, &once}) REQUIRE(ns->exec_status("sh -c '" + own + "'", &out) == 0);
    REQUIRE(twice.exec_status("nft -f " + n, &out) == 0);
    REQUIRE(twice.exec_status("nft -f " + n1, &out) == 0);
    REQUIRE(once.exec_status("nft -f " + n1, &out) == 0);
    std::string got = twice.exec("nft list ruleset"), want = once.exec("nft list ruleset");
    INFO(got);
    CHECK(got == want);
    CHECK(got.find("tcp dport 22 accept") != std::string::npos);
}
