// "The internet" means outside: rules naming the internet endpoint, a wide network or any
// address never open a path into the site that the destination's stance would refuse.
#include <catch2/catch.hpp>

#include <algorithm>

#include "support/gateway_fixture.hpp"
#include "support/internet_site.hpp"
#include "support/netns.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/test_paths.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const std::string kApprovals = R"(
[[approval]]
id = "CHG-NET"
from = "device:ws-01"
to = "endpoint:internet"
protocol = "tcp"
ports = [443]
by = "IT"
reason = "Vendor portal"
)";

std::string policy_with(const std::string& extra) { return small_site_files()["policy.toml"] + extra; }

bool has_note(const Policy& p, const std::string& text) {
    return std::any_of(p.notes.begin(), p.notes.end(),
                       [&](const PolicyNote& n) { return n.message.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("an approval to the internet endpoint reaches only addresses outside the site", "[compile][internet]") {
    TempSite site({{"policy.toml", policy_with(kApprovals)}});
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.200.0.31", "192.0.2.80", Protocol::tcp, 443).allowed);
    CHECK(verdict_of(p.policy, "10.200.0.31", "8.8.8.8", Protocol::tcp, 443).allowed);
    // Inside: PACS (a named endpoint), an end-of-support pump, an unmanaged host in a
    // segment, a vendor network the site names.
    for (const char* inside : {"10.50.0.10", "10.110.0.21", "10.110.0.99", "10.50.0.200", "198.51.100.7"}) {
        INFO(inside);
        auto v = verdict_of(p.policy, "10.200.0.31", inside, Protocol::tcp, 443);
        CHECK_FALSE(v.allowed);
        CHECK(v.by == Verdict::By::default_deny);
    }
    // The group the rule uses holds no address of the site.
    for (const auto& g : p.policy.groups) {
        if (g.name != "ep_internet") continue;
        for (const char* inside : {"10.50.0.10", "10.110.0.21", "10.120.0.11", "10.200.0.31", "198.51.100.7"})
            CHECK_FALSE(g.contains(*IpAddress::parse(inside)));
        CHECK(g.contains(*IpAddress::parse("10.0.0.1")));  // 10/8 outside the segments is outside
        CHECK(g.contains(*IpAddress::parse("2001:db8::1")));
        CHECK_FALSE(g.contains(*IpAddress::parse("fd00:110::21")));
    }
}

TEST_CASE("a manufacturer's internet declaration does not open the site to a supported device",
          "[compile][internet]") {
    // pump-03 is supported and its profile declares device-initiated tcp/443 to endpoint:internet.
    TempSite site;
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.110.0.23", "192.0.2.80", Protocol::tcp, 443).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.110.0.23", "10.50.0.10", Protocol::tcp, 443).allowed);  // PACS
    CHECK_FALSE(verdict_of(p.policy, "10.110.0.23", "10.120.0.11", Protocol::tcp, 443).allowed);  // the CT
    CHECK_FALSE(verdict_of(p.policy, "10.110.0.23", "10.200.0.31", Protocol::tcp, 443).allowed);  // a workstation
    // The drug library is declared on its own, so that one stays open.
    CHECK(verdict_of(p.policy, "10.110.0.23", "10.50.0.20", Protocol::tcp, 443).allowed);
}

TEST_CASE("a network wider than the site stands for its outside part, with a warning", "[compile][internet]") {
    TempSite site({{"policy.toml", policy_with(R"(
[[approval]]
id = "CHG-WIDE"
from = "device:ws-01"
to = "0.0.0.0/0"
protocol = "tcp"
ports = [9443]
by = "IT"
reason = "Everything"

[[approval]]
id = "CHG-TEN"
from = "device:ws-01"
to = "10.0.0.0/8"
protocol = "tcp"
ports = [9444]
by = "IT"
reason = "The hospital's private range"
)")}});
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.200.0.31", "192.0.2.80", Protocol::tcp, 9443).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 9443).allowed);
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.99.0.1", Protocol::tcp, 9444).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 9444).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.50.0.10", Protocol::tcp, 9444).allowed);
    CHECK(has_note(p.policy, "10.0.0.0/8 reaches beyond the site"));
    CHECK(has_note(p.policy, "0.0.0.0/0 reaches beyond the site"));
    // A network inside a segment names those addresses, as before.
    TempSite inside({{"policy.toml", policy_with(R"(
[[approval]]
id = "CHG-ICU"
from = "device:ws-01"
to = "10.110.0.0/24"
protocol = "tcp"
ports = [9445]
by = "Biomed"
reason = "ICU maintenance"
)")}});
    auto q = pipeline_for(inside.dir());
    CHECK(verdict_of(q.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 9445).allowed);      // supported pump
    CHECK_FALSE(verdict_of(q.policy, "10.200.0.31", "10.110.0.21", Protocol::tcp, 9445).allowed);  // end of support
}

TEST_CASE("a network made of whole segments names them, without a warning", "[compile][internet]") {
    // Two lab segments, 10.130.0.0/24 and 10.130.1.0/24, named together as 10.130.0.0/23: every
    // address of the network is on site, so the approval opens exactly it and warns of nothing.
    auto files = small_site_files();
    for (const char* lab : {"a", "b"}) {
        const int n = lab[0] - 'a';
        files["site.toml"] += "\n[[segment]]\nname = \"lab-" + std::string(lab) + "\"\nkind = \"devices\"\nvlan = " +
                              std::to_string(130 + n) + "\nipv4 = [\"10.130." + std::to_string(n) + ".0/24\"]\n";
    }
    files["policy.toml"] = policy_with(R"(
[[approval]]
id = "CHG-LAB"
from = "device:ws-01"
to = "10.130.0.0/23"
protocol = "tcp"
ports = [9446]
by = "Laboratory IT"
reason = "Analyzer maintenance"
)");
    TempSite site(files);
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.130.0.40", Protocol::tcp, 9446).allowed);
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.130.1.50", Protocol::tcp, 9446).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.130.2.1", Protocol::tcp, 9446).allowed);
    CHECK_FALSE(has_note(p.policy, "reaches beyond the site"));
    CHECK_FALSE(has_note(p.policy, "CHG-LAB covers no address"));
}

TEST_CASE("'any' is every address inside and outside, but devices only through their stance", "[compile][internet]") {
    TempSite site({{"policy.toml", policy_with(R"(
[[approval]]
id = "CHG-ANY"
from = "device:ws-01"
to = "any"
protocol = "tcp"
ports = [7443]
by = "IT"
reason = "Everything"
)")}});
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.200.0.31", "192.0.2.80", Protocol::tcp, 7443).allowed);   // outside
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.50.0.10", Protocol::tcp, 7443).allowed);   // PACS
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 7443).allowed);  // supported pump
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.21", Protocol::tcp, 7443).allowed);  // end of support
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.22", Protocol::tcp, 7443).allowed);
}

TEST_CASE("a declaration with a broad peer reaches other devices only where their stance takes approvals",
          "[compile][internet]") {
    auto files = small_site_files();
    files["profiles/imaging-ct-9.toml"] += R"(
[[flow]]
direction = "device-initiated"
peer = "segment:icu"
protocol = "tcp"
ports = [7000]
purpose = "Discovery of ward devices"
)";
    TempSite site(files);
    auto p = pipeline_for(site.dir());
    CHECK(verdict_of(p.policy, "10.120.0.11", "10.110.0.23", Protocol::tcp, 7000).allowed);  // supported pump
    CHECK(verdict_of(p.policy, "10.120.0.11", "10.110.0.99", Protocol::tcp, 7000).allowed);  // unmanaged host
    CHECK_FALSE(verdict_of(p.policy, "10.120.0.11", "10.110.0.21", Protocol::tcp, 7000).allowed);  // end of support
}

TEST_CASE("explain refuses a connection between two address families", "[cli][internet]") {
    TempSite site;
    auto r = run_wardgate("explain " + site.dir().string() + " 10.200.0.31 fd00:50::20 tcp/443");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("one address family") != std::string::npos);
    CHECK(r.out.find("ALLOWED") == std::string::npos);
}

TEST_CASE("whole-site monitor mode still drops invalid packets and explicit denies", "[compile][monitor]") {
    auto files = small_site_files();
    auto& site_toml = files["site.toml"];
    site_toml.replace(site_toml.find("log_group = 5"), 13, "log_group = 5\nmode = \"monitor\"");
    TempSite site(files);
    auto p = pipeline_for(site.dir());
    REQUIRE(p.policy.mode == EnforcementMode::monitor);
    std::string text = render_nft(p.policy);
    CHECK(text.find("ct state invalid counter drop") != std::string::npos);
    // The telnet deny drops, and says nothing about monitoring.
    auto deny_line = text.find("deny no-telnet");
    REQUIRE(deny_line != std::string::npos);
    auto line_end = text.find('\n', deny_line);
    auto line_start = text.rfind('\n', deny_line);
    std::string line = text.substr(line_start, line_end - line_start);
    CHECK(line.find(" drop") != std::string::npos);
    CHECK(line.find("accept") == std::string::npos);
}

TEST_CASE("internet rules in the kernel: outside passes, inside and end-of-support devices do not",
          "[kernel][internet]") {
    TempSite site(gateway_site_with_internet(), false);
    auto p = pipeline_for(site.dir());

    GatewayTopology t;
    for (const char* a : {"10.50.0.77/24", "fd00:50::77/64", "10.50.0.78/24"}) add_address(t.srv, "eth0", a);
    apply_in(t.gw, p.policy);
    for (uint16_t port : {443, 8443}) {
        INFO("port " << port);
        CHECK(tcp_exchange(t.dev, t.out, "203.0.113.10", port));
        CHECK(tcp_exchange(t.dev, t.out, "2001:db8:113::10", port));
        CHECK(verdict_of(p.policy, "10.110.0.21", "203.0.113.10", Protocol::tcp, port).allowed);
        for (const char* inside : {"10.50.0.10", "fd00:50::10", "10.50.0.77", "fd00:50::77", "10.50.0.78", "10.50.0.5"}) {
            INFO(inside);
            CHECK_FALSE(tcp_exchange(t.dev, t.srv, inside, port));
            CHECK_FALSE(verdict_of(p.policy, inside[0] == 'f' ? "fd00:110::21" : "10.110.0.21", inside, Protocol::tcp,
                                   port)
                            .allowed);
        }
    }
}

TEST_CASE("explicit denies drop in monitor mode in the kernel, the default deny only logs", "[kernel][monitor]") {
    std::map<std::string, std::string> files;
    for (const char* f : {"site.toml", "devices.toml", "policy.toml", "profiles/acme-vitals-1.toml"})
        files[f] = read_text(kGatewaySite + "/" + f);
    auto& site_toml = files["site.toml"];
    site_toml.replace(site_toml.find("mode = \"enforce\""), 16, "mode = \"monitor\"");
    TempSite site(files, false);
    auto p = pipeline_for(site.dir());
    GatewayTopology t;
    apply_in(t.gw, p.policy);
    // srv -> monitor telnet is explicitly denied; an undeclared port only would be.
    CHECK_FALSE(tcp_exchange(t.srv, t.dev, "10.110.0.21", 23));
    CHECK(tcp_exchange(t.srv, t.dev, "10.110.0.21", 2323));
    CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 9999));
}
