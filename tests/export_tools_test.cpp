// The platforms' own tools accept the exports this machine can check: nft -c for the nft
// target; ipset, iptables-restore --test and ip6tables-restore --test for the iptables target,
// inside network namespaces the tests create (never the host's tables). Then traffic through
// a gateway namespace loaded from the iptables export goes where the policy says.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

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

// Loads the export into a namespace the way the file header says: ipsets first, then both families.
int load(const Netns& ns, const IptablesFiles& f, bool test_only, std::string& out) {
    std::string flag = test_only ? " --test" : "";
    return ns.exec_status("sh -c 'ipset restore -exist < " + f.sets.string() + " && iptables-restore" + flag + " < " +
                              f.v4.string() + " && ip6tables-restore" + flag + " < " + f.v6.string() + "'",
                          &out);
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

    // The drops went through the logging chains (iptables -v -S: "-c PACKETS BYTES").
    for (const char* chain : {"wg-drop-icu", "wg-deny-no-telnet-pumps"}) {
        std::string rules = topo.gw.exec(std::string("iptables -v -S ") + chain);
        INFO(rules);
        CHECK(rules.find("-j NFLOG") != std::string::npos);
        CHECK(rules.find("-c 0 0 -j NFLOG") == std::string::npos);
    }
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
