// Real traffic through a gateway namespace that runs wardgate's ruleset, applied over
// netlink: declared flows pass both ways, everything else is dropped and counted.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "support/gateway_fixture.hpp"
#include "support/netns.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
using wardgate::testing::apply_in;
using wardgate::testing::gateway_policy;
using wardgate::testing::GatewayTopology;
using wardgate::testing::Netns;
using wardgate::testing::tcp_exchange;
using wardgate::testing::udp_exchange;

namespace {

std::map<std::string, uint64_t> drop_packets(const Netns& gw) {
    std::string text = gw.run([] {
        std::string s;
        for (const auto& c : netlink::read_drop_counters()) s += fmt::format("{} {}\n", c.chain, c.packets);
        return s;
    });
    std::map<std::string, uint64_t> out;
    std::istringstream in(text);
    std::string chain;
    uint64_t packets;
    while (in >> chain >> packets) out[chain] = packets;
    return out;
}

}  // namespace

TEST_CASE("declared flows pass with their replies, undeclared ones are dropped and counted", "[kernel]") {
    GatewayTopology t;
    // Before any ruleset the gateway forwards everything.
    REQUIRE(tcp_exchange(t.dev, t.srv, "10.50.0.10", 23));
    apply_in(t.gw, gateway_policy());

    // Declared (device-initiated), IPv4 and IPv6; the echo is the return traffic.
    CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));
    CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 8005));
    CHECK(tcp_exchange(t.dev, t.srv, "fd00:50::10", 104));
    CHECK(udp_exchange(t.dev, t.srv, "10.50.0.5", 123));
    CHECK(udp_exchange(t.dev, t.srv, "fd00:50::5", 123));

    auto before = drop_packets(t.gw);
    CHECK(before["drop_icu"] == 0);
    // Undeclared: the device's segment chain drops it.
    CHECK_FALSE(tcp_exchange(t.dev, t.srv, "10.50.0.10", 23));
    CHECK_FALSE(udp_exchange(t.dev, t.srv, "10.50.0.5", 9999));
    // The right service to the wrong server.
    CHECK_FALSE(udp_exchange(t.dev, t.srv, "10.50.0.10", 123));
    // Initiated from the server side: only the device may open these.
    CHECK_FALSE(tcp_exchange(t.srv, t.dev, "10.110.0.21", 11112));
    // From outside the site into it.
    CHECK_FALSE(tcp_exchange(t.out, t.srv, "10.50.0.10", 11112));
    auto after = drop_packets(t.gw);
    CHECK(after["drop_icu"] >= before["drop_icu"] + 2);
    CHECK(after["drop_servers"] >= before["drop_servers"] + 2);
    // Declared flows still pass after the drops.
    CHECK(tcp_exchange(t.dev, t.srv, "fd00:50::10", 11112));
}

TEST_CASE("drops are logged to NFLOG with the prefix of the chain that dropped them", "[kernel]") {
    GatewayTopology t;
    apply_in(t.gw, gateway_policy());  // log_group = 7 in the test site
    auto prefixes = wardgate::testing::nflog_prefixes(t.gw, 7, [&] {
        CHECK_FALSE(tcp_exchange(t.dev, t.srv, "10.50.0.10", 23));     // default deny, icu
        CHECK_FALSE(tcp_exchange(t.out, t.dev, "fd00:110::21", 23));   // the explicit deny
        CHECK(udp_exchange(t.dev, t.srv, "10.50.0.5", 123));           // allowed: not logged
    });
    std::string all;
    for (const auto& p : prefixes) all += p + "|";
    INFO(all);
    auto count = [&](const std::string& prefix) { return std::count(prefixes.begin(), prefixes.end(), prefix); };
    CHECK(count("wardgate drop icu: ") >= 1);
    CHECK(count("wardgate deny no-telnet: ") >= 1);
    CHECK(count("wardgate drop icu: ") + count("wardgate deny no-telnet: ") == static_cast<long>(prefixes.size()));
}

TEST_CASE("monitor mode lets would-be drops through and counts them", "[kernel]") {
    GatewayTopology t;
    Policy policy = gateway_policy();

    SECTION("the whole site in monitor mode") {
        policy.mode = EnforcementMode::monitor;
        apply_in(t.gw, policy);
        auto before = drop_packets(t.gw);
        CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 23));
        CHECK(tcp_exchange(t.out, t.srv, "fd00:50::10", 11112));
        auto after = drop_packets(t.gw);
        CHECK(after["drop_icu"] > before["drop_icu"]);
        CHECK(after["drop_servers"] > before["drop_servers"]);
        CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));
    }
    SECTION("one segment in monitor mode") {
        for (auto& s : policy.segments)
            if (s.name == "icu") s.monitor = true;
        apply_in(t.gw, policy);
        auto before = drop_packets(t.gw);
        CHECK(tcp_exchange(t.dev, t.srv, "10.50.0.10", 23));           // icu: monitored
        CHECK_FALSE(tcp_exchange(t.out, t.srv, "10.50.0.10", 11112));  // servers: enforced
        auto after = drop_packets(t.gw);
        CHECK(after["drop_icu"] > before["drop_icu"]);
        CHECK(after["drop_servers"] > before["drop_servers"]);
    }
}
