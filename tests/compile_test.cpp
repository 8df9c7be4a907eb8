// The compiler: least privilege per life-cycle stance, grouping, provenance, nft output.
#include <catch2/catch.hpp>

#include <regex>

#include "support/pipeline_fixture.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const AddressGroup* group_with_member(const Policy& p, const std::string& member, AddressGroup::Kind kind) {
    for (const auto& g : p.groups)
        if (g.kind == kind && std::find(g.members.begin(), g.members.end(), member) != g.members.end()) return &g;
    return nullptr;
}

bool has_note(const Policy& p, const std::string& text) {
    return std::any_of(p.notes.begin(), p.notes.end(),
                       [&](const PolicyNote& n) { return n.message.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("declared flows are allowed with the profile as provenance", "[compile]") {
    TempSite site;
    auto p = pipeline_for(site.dir());
    auto v = verdict_of(p.policy, "10.110.0.21", "10.50.0.20", Protocol::tcp, 443);
    REQUIRE(v.allowed);
    REQUIRE(v.by == Verdict::By::allow_rule);
    const Rule& r = p.policy.rules[v.rule];
    REQUIRE(r.why.size() >= 1);
    CHECK(r.why[0].kind == Provenance::Kind::declared);
    CHECK(r.why[0].source == "Acme Pump 1 profile");
    CHECK(r.why[0].document == "Acme Pump 1 port table");
    CHECK(r.why[0].detail == "Drug library");
    CHECK(r.why[0].origin == "profiles/acme-pump-1.toml:5");
    // Same pump, an undeclared port: default deny of its segment.
    auto denied = verdict_of(p.policy, "10.110.0.21", "10.50.0.20", Protocol::tcp, 8443);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.by == Verdict::By::default_deny);
    CHECK(denied.segment == "icu");
    // Port ranges from the profile: both ends of 11112-11113, not one past.
    CHECK(verdict_of(p.policy, "10.120.0.11", "10.50.0.10", Protocol::tcp, 11113).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.120.0.11", "10.50.0.10", Protocol::tcp, 11114).allowed);
    // Peer-initiated: the vendor network may reach the pump's ssh, not the other way round.
    CHECK(verdict_of(p.policy, "198.51.100.7", "10.110.0.21", Protocol::tcp, 22).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.110.0.21", "198.51.100.7", Protocol::tcp, 22).allowed);
}

TEST_CASE("devices with identical needs share one address group", "[compile]") {
    TempSite site;
    auto p = pipeline_for(site.dir());
    const auto* g1 = group_with_member(p.policy, "pump-01", AddressGroup::Kind::devices);
    const auto* g2 = group_with_member(p.policy, "pump-02", AddressGroup::Kind::devices);
    const auto* g3 = group_with_member(p.policy, "pump-03", AddressGroup::Kind::devices);
    REQUIRE(g1);
    CHECK(g1 == g2);  // both end-of-support Pump 1
    REQUIRE(g3);
    CHECK(g1 != g3);  // supported: its stance lets it reach the internet
    CHECK(g1->name == "eos_infusion_pump");
    CHECK(g1->prefixes.size() == 3);  // 10.110.0.21, 10.110.0.22 and fd00:110::21; .21/.22 are not one /31
}

TEST_CASE("the life-cycle stance decides what a device keeps", "[compile]") {
    TempSite site;
    auto p = pipeline_for(site.dir());
    SECTION("end-of-support: declared internet access is refused and said so") {
        CHECK_FALSE(verdict_of(p.policy, "10.110.0.21", "192.0.2.44", Protocol::tcp, 443).allowed);
        CHECK(verdict_of(p.policy, "10.110.0.23", "192.0.2.44", Protocol::tcp, 443).allowed);  // supported pump
        CHECK(has_note(p.policy, "Acme Pump 1 declaration device-initiated endpoint:internet tcp/443"));
        CHECK(has_note(p.policy, "refused for end-of-support devices: the stance allows no internet access (2 devices)"));
    }
    SECTION("approvals skip devices whose stance excludes them") {
        CHECK(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 8080).allowed);
        CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.21", Protocol::tcp, 8080).allowed);
        CHECK(has_note(p.policy, "approval CHG-1 is not applied to 2 devices"));
    }
    SECTION("expired approvals stop applying and the policy says so") {
        CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.120.0.11", Protocol::tcp, 445).allowed);
        CHECK(has_note(p.policy, "approval CHG-OLD"));
        CHECK(has_note(p.policy, "expired on 2026-06-30"));
        // Before expiry the same approval allows it.
        auto earlier = pipeline_for(site.dir(), "2026-06-30");
        CHECK(verdict_of(earlier.policy, "10.200.0.31", "10.120.0.11", Protocol::tcp, 445).allowed);
    }
    SECTION("the baseline is kept only where every managed end's stance allows it") {
        // supported pump -> a host in no inventory: established, but never a pinhole
        auto v = verdict_of(p.policy, "10.110.0.23", "10.50.0.99", Protocol::tcp, 8080);
        CHECK(v.by == Verdict::By::default_deny);
        REQUIRE(p.policy.refused.size() == 1);
        CHECK(p.policy.refused[0].reason == BaselineRefusal::Reason::unknown_peer);
        CHECK(p.policy.refused[0].port == 8080);
        // end-of-support pump -> internet: not kept
        CHECK_FALSE(verdict_of(p.policy, "10.110.0.22", "192.0.2.44", Protocol::tcp, 443).allowed);
        // never-established attempt (S0) from a supported workstation: not kept
        CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 8081).allowed);
        CHECK(p.policy.pinholes.empty());
    }
    SECTION("explicit denies win over the baseline") {
        // ws-01 (supported, baseline allowed) was seen using telnet to pump-01
        auto v = verdict_of(p.policy, "10.200.0.31", "10.110.0.21", Protocol::tcp, 23);
        CHECK(v.by == Verdict::By::deny_rule);
        CHECK(p.policy.rules[v.rule].why[0].source == "deny no-telnet");
    }
}

TEST_CASE("rules grow with distinct needs, sets with devices", "[compile]") {
    auto site_with_pumps = [](int n) {
        std::string devices = small_site_files().at("devices.toml");
        for (int i = 0; i < n; ++i)
            devices += "\n[[device]]\nname = \"extra-" + std::to_string(i) + "\"\naddresses = [\"10.110.0." +
                       std::to_string(100 + i) + "\"]\nrole = \"infusion-pump\"\nvendor = \"Acme\"\nmodel = \"Pump 1\"\n"
                       "segment = \"icu\"\nlifecycle = \"" + (i % 2 ? "support" : "end-of-support") + "\"\n";
        return devices;
    };
    TempSite few({{"devices.toml", site_with_pumps(2)}});
    TempSite many({{"devices.toml", site_with_pumps(120)}});
    auto a = pipeline_for(few.dir());
    auto b = pipeline_for(many.dir());
    CHECK(a.policy.rules.size() == b.policy.rules.size());
    auto count = [](const std::string& text, const std::string& word) {
        size_t n = 0;
        for (size_t pos = 0; (pos = text.find(word, pos)) != std::string::npos; pos += word.size()) ++n;
        return n;
    };
    auto ta = render_nft(a.policy), tb = render_nft(b.policy);
    CHECK(count(ta, " accept") == count(tb, " accept"));
    CHECK(count(ta, " drop") == count(tb, " drop"));
    CHECK(tb.size() > ta.size());  // the extra devices are set elements
    CHECK_THAT(tb, Catch::Contains("10.110.0.100"));
}

TEST_CASE("nft accepts every ruleset the compiler emits", "[compile][nft]") {
    std::string err;
    SECTION("the example hospital") {
        auto p = pipeline_for(std::string(WARDGATE_SOURCE_DIR) + "/policies/example-hospital");
        auto text = render_nft(p.policy);
        CHECK(nft_check(text, err) == 0);
        INFO(err);
        CHECK_THAT(text, Catch::Contains("table inet wardgate {"));
        CHECK_THAT(text, Catch::Contains("log prefix \"wardgate drop icu: \" group 10"));
        CHECK_THAT(text, Catch::Contains("type ipv4_addr . ipv4_addr . inet_proto . inet_service"));
    }
    SECTION("the small site, in monitor mode, and without drop logging") {
        auto site_toml = small_site_files().at("site.toml");
        auto monitor = site_toml;
        monitor.replace(monitor.find("log_group = 5"), 13, "log_group = 5\nmode = \"monitor\"");
        auto quiet = site_toml;
        quiet.replace(quiet.find("log_group = 5"), 13, "log_drops = false");
        for (const auto& variant : {site_toml, monitor, quiet}) {
            TempSite site({{"site.toml", variant}});
            auto text = render_nft(pipeline_for(site.dir()).policy);
            CHECK(nft_check(text, err) == 0);
            INFO(err);
        }
        TempSite m({{"site.toml", monitor}});
        auto text = render_nft(pipeline_for(m.dir()).policy);
        CHECK_THAT(text, Catch::Contains("log prefix \"wardgate monitor icu: \" group 5"));
        CHECK_THAT(text, !Catch::Contains("wardgate drop "));  // the default deny only logs and accepts
        CHECK_THAT(text, Catch::Contains("ct state invalid counter drop"));
    }
    SECTION("an IPv6-only site") {
        TempSite site({{"site.toml", R"([site]
name = "v6"
[[segment]]
name = "icu"
kind = "devices"
ipv6 = ["fd00:110::/64"]
[[segment]]
name = "servers"
kind = "servers"
ipv6 = ["fd00:50::/64"]
[[endpoint]]
name = "ntp"
kind = "ntp"
addresses = ["fd00:50::5"]
)"},
                       {"devices.toml", R"([[device]]
name = "mon-1"
addresses = ["fd00:110::5"]
role = "monitor"
vendor = "V"
model = "M"
segment = "icu"
lifecycle = "end-of-support"
)"},
                       {"profiles/acme-pump-1.toml", R"(vendor = "V"
model = "M"
[[flow]]
direction = "device-initiated"
peer = "role:ntp"
protocol = "udp"
ports = [123]
[[flow]]
direction = "device-initiated"
peer = "role:ntp"
protocol = "icmp"
)"},
                       {"profiles/imaging-ct-9.toml", "vendor = \"X\"\nmodel = \"Y\"\n"},
                       {"policy.toml", ""}},
                      false);
        auto p = pipeline_for(site.dir());
        auto text = render_nft(p.policy);
        CHECK(nft_check(text, err) == 0);
        INFO(err);
        CHECK_THAT(text, Catch::Contains("ip6 saddr @eos_monitor_v6 ip6 daddr @role_ntp_v6 meta l4proto ipv6-icmp"));
        CHECK_THAT(text, !Catch::Contains("ipv4_addr"));
    }
}

TEST_CASE("an any-to-any ICMP rule covers both address families", "[compile]") {
    std::string err;
    TempSite site(std::map<std::string, std::string>{{"policy.toml", R"([[deny]]
id = "no-ping"
from = "any"
to = "any"
protocol = "icmp"
reason = "no ICMP anywhere"
)"}});
    auto text = render_nft(pipeline_for(site.dir()).policy);
    CHECK(nft_check(text, err) == 0);
    INFO(err);
    CHECK_THAT(text, Catch::Contains("meta l4proto icmp log prefix"));
    CHECK_THAT(text, Catch::Contains("meta l4proto ipv6-icmp log prefix"));
}

TEST_CASE("the same inputs give a byte-identical ruleset", "[compile]") {
    const std::string dir = std::string(WARDGATE_SOURCE_DIR) + "/policies/example-hospital";
    auto first = render_nft(pipeline_for(dir).policy);
    auto second = render_nft(pipeline_for(dir).policy);
    CHECK(first == second);
    auto cli = run_wardgate("compile " + dir + " --today 2026-11-22");
    CHECK(cli.exit_code == 0);
    CHECK(cli.out == first);
}
