// Per-segment counters with real traffic through a gateway namespace: every accepted
// packet is counted once, under its source segment (else its destination's), every
// default-deny drop under the segment whose chain dropped it, and the counts move by
// exactly the packets sent.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

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

namespace {

constexpr size_t kPayload = 100;
constexpr uint64_t kUdp4Bytes = 20 + 8 + kPayload;         // one IPv4 UDP datagram
constexpr uint64_t kIcmp4Bytes = 20 + 8 + kUdp4Bytes;      // the port unreachable quoting it
constexpr uint64_t kUdp6Bytes = 40 + 8 + kPayload;
constexpr uint64_t kIcmp6Bytes = 40 + 8 + kUdp6Bytes;

struct Counts {
    uint64_t accepted_packets = 0, accepted_bytes = 0, dropped_packets = 0, dropped_bytes = 0;
    uint64_t would_be_packets = 0, would_be_bytes = 0;
    bool operator==(const Counts&) const = default;
};

std::map<std::string, Counts> segment_counts(const Netns& gw) {
    std::string text = gw.run([] {
        std::string s;
        for (const auto& c : netlink::read_segment_counters())
            s += fmt::format("{} {} {} {} {} {} {}\n", c.segment, c.accepted_packets, c.accepted_bytes, c.dropped_packets,
                             c.dropped_bytes, c.would_be_dropped_packets, c.would_be_dropped_bytes);
        return s;
    });
    std::map<std::string, Counts> out;
    std::istringstream in(text);
    std::string name;
    Counts c;
    while (in >> name >> c.accepted_packets >> c.accepted_bytes >> c.dropped_packets >> c.dropped_bytes >> c.would_be_packets >>
           c.would_be_bytes)
        out[name] = c;
    return out;
}

// n UDP datagrams of kPayload bytes from one socket in ns; nothing listens on the other
// side, so each draws exactly one ICMP port unreachable (rate limits are off).
void send_udp_datagrams(const Netns& ns, const std::string& addr, uint16_t port, int n) {
    ns.run([&] {
        bool v6 = addr.find(':') != std::string::npos;
        sockaddr_storage ss{};
        socklen_t len;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_port = htons(port);
            inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_port = htons(port);
            inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
            len = sizeof *a;
        }
        int s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) throw std::runtime_error("socket failed");
        char payload[kPayload] = {};
        for (int i = 0; i < n; ++i) {
            // An ICMP error is reported on the next send: ignore it and send again.
            while (sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        close(s);
        return std::string();
    });
}

// Waits until `done` holds for the counters (the last replies may still be on their way),
// then a little longer, so that a count that overshoots is seen too.
std::map<std::string, Counts> settle(const Netns& gw, const std::function<bool(std::map<std::string, Counts>&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    auto c = segment_counts(gw);
    while (!done(c) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        c = segment_counts(gw);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return segment_counts(gw);
}

Counts plus(Counts c, uint64_t ap, uint64_t ab, uint64_t dp, uint64_t db) {
    c.accepted_packets += ap;
    c.accepted_bytes += ab;
    c.dropped_packets += dp;
    c.dropped_bytes += db;
    return c;
}

void quiet_icmp_limits(const GatewayTopology& t) {
    for (const Netns* ns : {&t.srv, &t.dev, &t.gw})
        ns->exec("sysctl -q -w net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0");
}

}  // namespace

TEST_CASE("per-segment counters move by exactly the packets accepted and dropped", "[kernel][counters]") {
    GatewayTopology t;
    quiet_icmp_limits(t);
    apply_in(t.gw, gateway_policy());
    auto before = segment_counts(t.gw);
    REQUIRE(before.count("icu"));
    REQUIRE(before.count("servers"));
    REQUIRE(before.count("outside"));

    SECTION("declared flow: requests count for the device's segment, replies for the server's") {
        // udp/123 to the NTP server is declared; the ICMP errors coming back are related.
        send_udp_datagrams(t.dev, "10.50.0.5", 123, 7);
        send_udp_datagrams(t.dev, "fd00:50::5", 123, 3);
        auto want_icu = plus(before["icu"], 10, 7 * kUdp4Bytes + 3 * kUdp6Bytes, 0, 0);
        auto want_srv = plus(before["servers"], 10, 7 * kIcmp4Bytes + 3 * kIcmp6Bytes, 0, 0);
        auto after = settle(t.gw, [&](auto& c) { return c["servers"].accepted_packets >= want_srv.accepted_packets; });
        CHECK(after["icu"] == want_icu);
        CHECK(after["servers"] == want_srv);
        CHECK(after["outside"] == before["outside"]);
    }
    SECTION("undeclared flow: dropped by the device segment's default deny, nothing accepted") {
        send_udp_datagrams(t.dev, "10.50.0.5", 9999, 5);
        auto want_icu = plus(before["icu"], 0, 0, 5, 5 * kUdp4Bytes);
        auto after = settle(t.gw, [&](auto& c) { return c["icu"].dropped_packets >= want_icu.dropped_packets; });
        CHECK(after["icu"] == want_icu);
        CHECK(after["servers"] == before["servers"]);
    }
    SECTION("traffic from outside counts for the segment it goes to") {
        send_udp_datagrams(t.out, "10.50.0.5", 123, 4);  // not declared from outside: servers' default deny
        auto want_srv = plus(before["servers"], 0, 0, 4, 4 * kUdp4Bytes);
        auto after = settle(t.gw, [&](auto& c) { return c["servers"].dropped_packets >= want_srv.dropped_packets; });
        CHECK(after["servers"] == want_srv);
        CHECK(after["icu"] == before["icu"]);
        CHECK(after["outside"] == before["outside"]);
    }
}

TEST_CASE("in monitor mode would-be drops are counted as such, not as accepted", "[kernel][counters]") {
    GatewayTopology t;
    quiet_icmp_limits(t);
    Policy policy = gateway_policy();
    for (auto& s : policy.segments)
        if (s.name == "icu") s.monitor = true;
    apply_in(t.gw, policy);
    auto before = segment_counts(t.gw);
    send_udp_datagrams(t.dev, "10.50.0.5", 9999, 6);  // undeclared: let through and counted as a would-be drop
    auto want_icu = before["icu"];
    want_icu.would_be_packets += 6;
    want_icu.would_be_bytes += 6 * kUdp4Bytes;
    // The server's port unreachable answers are related traffic: accepted, for the servers.
    auto want_srv = plus(before["servers"], 6, 6 * kIcmp4Bytes, 0, 0);
    auto after = settle(t.gw, [&](auto& c) { return c["servers"].accepted_packets >= want_srv.accepted_packets; });
    CHECK(after["icu"] == want_icu);
    CHECK(after["servers"] == want_srv);
    // The mode as installed, read from the drop chains' verdicts: what status and metrics report.
    auto modes = t.gw.run([] {
        std::string out;
        for (const auto& c : netlink::read_segment_counters())
            out += c.segment + "=" + (c.monitor ? (*c.monitor ? "monitor" : "enforce") : "?") + "\n";
        return out;
    });
    CHECK(modes == "icu=monitor\nservers=enforce\noutside=enforce\n");
}

TEST_CASE("counters keep the rule count flat: more devices only add set elements", "[counters]") {
    Policy policy = gateway_policy();
    auto small = nft::lower_policy(policy);
    for (auto& g : policy.groups) {
        if (g.any || g.prefixes.empty() || g.prefixes.front().family() != Family::v4 || !g.prefixes.front().is_host()) continue;
        auto first = g.prefixes.front();
        for (uint32_t i = 1; i <= 200; ++i) {
            auto p = first;
            p.address.bytes[2] = static_cast<uint8_t>(i);
            g.prefixes.push_back(p);
        }
    }
    auto large = nft::lower_policy(policy);
    REQUIRE(large.chains.size() == small.chains.size());
    for (size_t i = 0; i < small.chains.size(); ++i) {
        INFO(small.chains[i].name);
        CHECK(large.chains[i].rules.size() == small.chains[i].rules.size());
    }
    size_t counted = 0;
    for (const auto& c : large.chains)
        if (c.name.rfind("accept_", 0) == 0) {
            ++counted;
            REQUIRE(c.rules.size() == 1);
            CHECK(c.rules[0].counter);
        }
    CHECK(counted == policy.segments.size() + 1);  // and "outside"
}
