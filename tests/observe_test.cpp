// Live observation against the kernel: conntrack events and NFLOG drops in a gateway
// namespace the test builds, and `wardgate observe` writing them into a store.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "support/ip_address.hpp"
#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/observe/observer.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
using namespace wardgate::observe;
using wardgate::testing::GatewayTopology;
using wardgate::testing::ip;
using wardgate::testing::Netns;
using wardgate::testing::TempDir;
using namespace std::chrono_literals;

namespace {

// Runs fn on a thread that joined ns: sockets it opens belong to that namespace and stay
// there, while this thread (and the children the helpers fork) stay where they were.
template <class Fn>
auto in_netns(const Netns& ns, Fn fn) {
    decltype(fn()) out{};
    std::exception_ptr error;
    std::thread t([&] {
        try {
            int fd = ::open(("/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, CLONE_NEWNET) < 0) throw std::runtime_error("setns " + ns.name());
            ::close(fd);
            out = fn();
        } catch (...) {
            error = std::current_exception();
        }
    });
    t.join();
    if (error) std::rethrow_exception(error);
    return out;
}

// Connection tracking only runs in a namespace whose ruleset asks for it; accounting and
// timestamps are per-namespace switches.
void track_connections(const Netns& gw, const std::string& table, const std::string& extra_rules = "") {
    gw.exec("sysctl -q -w net.netfilter.nf_conntrack_acct=1");
    std::string rules = fmt::format(
        "table inet {} {{\n chain obs {{\n type filter hook forward priority 0; policy accept;\n {}\n ct state new counter\n }}\n}}",
        table, extra_rules);
    gw.exec("nft '" + rules + "'");
}

// Reads until pred() holds or the deadline passes.
template <class Listener, class Event>
bool read_until(Listener& l, std::vector<Event>& got, const std::function<bool()>& pred,
                std::chrono::milliseconds within = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{l.fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        l.read([&](const Event& e) { got.push_back(e); });
    }
    return pred();
}

const ConntrackEvent* find_event(const std::vector<ConntrackEvent>& events, ConntrackEvent::Type type, uint8_t proto,
                                 const IpAddress& src, const IpAddress& dst, uint16_t dport) {
    for (const auto& e : events)
        if (e.type == type && e.l4proto == proto && e.source == src && e.destination == dst && e.destination_port == dport)
            return &e;
    return nullptr;
}

std::vector<uint8_t> ipv4_tcp(const char* src, const char* dst, uint16_t dport, size_t keep = 40) {
    std::vector<uint8_t> p(40, 0);
    p[0] = 0x45;
    p[3] = 40;
    p[9] = 6;
    inet_pton(AF_INET, src, &p[12]);
    inet_pton(AF_INET, dst, &p[16]);
    p[20] = 0x9c;
    p[21] = 0x40;
    p[22] = static_cast<uint8_t>(dport >> 8);
    p[23] = static_cast<uint8_t>(dport);
    p.resize(keep);
    return p;
}

}  // namespace

TEST_CASE("NFLOG prefixes name the segment or rule that dropped the packet", "[observe]") {
    auto seg = parse_log_prefix("wardgate drop icu: ");
    CHECK(seg.wardgate);
    CHECK(seg.segment == "icu");
    CHECK_FALSE(seg.monitor);
    CHECK(seg.describe() == "default deny of segment icu");
    auto mon = parse_log_prefix("wardgate monitor imaging: ");
    CHECK(mon.segment == "imaging");
    CHECK(mon.monitor);
    auto rule = parse_log_prefix("wardgate deny no-telnet (monitor): ");
    CHECK(rule.segment.empty());
    CHECK(rule.rule == "deny no-telnet");
    CHECK(rule.monitor);
    auto other = parse_log_prefix("fw-drop ");
    CHECK_FALSE(other.wardgate);
    CHECK(other.describe() == "fw-drop");
}

TEST_CASE("logged packets decode to denied attempts, short or foreign packets do not", "[observe]") {
    auto p = ipv4_tcp("10.110.0.21", "10.50.0.10", 23);
    auto d = decode_denied_packet(p);
    REQUIRE(d);
    CHECK(d->source == ip("10.110.0.21"));
    CHECK(d->destination == ip("10.50.0.10"));
    CHECK(d->protocol == Protocol::tcp);
    CHECK(d->destination_port == 23);
    CHECK(d->length == 40);
    FlowRecord r = d->record();
    CHECK(r.initiator == d->source);
    CHECK(r.responder_port == 23);
    CHECK_FALSE(r.established);

    CHECK_FALSE(decode_denied_packet(ipv4_tcp("10.110.0.21", "10.50.0.10", 23, 22)));  // ports cut off
    CHECK_FALSE(decode_denied_packet(ipv4_tcp("10.110.0.21", "10.50.0.10", 23, 12)));
    // Every IP protocol is an attempt; one without ports has none.
    auto gre = ipv4_tcp("10.110.0.21", "10.50.0.10", 23);
    gre[9] = 47;
    auto g = decode_denied_packet(gre);
    REQUIRE(g);
    CHECK(g->protocol == Protocol::gre);
    CHECK(g->destination_port == 0);
    auto hop = gre;
    hop[9] = 255;  // reserved: no protocol
    CHECK_FALSE(decode_denied_packet(hop));
    std::vector<uint8_t> junk{0x00, 0x01, 0x02};
    CHECK_FALSE(decode_denied_packet(junk));

    // IPv6 with a hop-by-hop header before UDP.
    std::vector<uint8_t> v6(40 + 8 + 8, 0);
    v6[0] = 0x60;
    v6[5] = 16;
    v6[6] = 0;  // hop-by-hop
    inet_pton(AF_INET6, "fd00:110::21", &v6[8]);
    inet_pton(AF_INET6, "fd00:50::5", &v6[24]);
    v6[40] = 17;  // next: UDP
    v6[41] = 0;   // 8 bytes
    v6[48 + 2] = 0x00;
    v6[48 + 3] = 69;
    auto u = decode_denied_packet(v6);
    REQUIRE(u);
    CHECK(u->protocol == Protocol::udp);
    CHECK(u->destination_port == 69);
    CHECK(u->destination == ip("fd00:50::5"));
}

TEST_CASE("conntrack events become one connection each, with the bytes of both directions when it ends", "[observe]") {
    ConntrackFlows flows;
    ConntrackEvent created;
    created.id = 42;
    created.l4proto = 6;
    created.source = ip("10.110.0.21");
    created.destination = ip("10.50.0.10");
    created.source_port = 40000;
    created.destination_port = 11112;
    created.received = 1000;
    auto a = flows.on_event(created);
    REQUIRE(a);
    CHECK(a->connections == 1);
    CHECK(a->responder_port == 11112);
    CHECK(a->start == 1000);
    CHECK(flows.open() == 1);

    ConntrackEvent destroyed = created;
    destroyed.type = ConntrackEvent::Type::destroyed;
    destroyed.received = 1010;
    destroyed.counters = true;
    destroyed.original_bytes = 300;
    destroyed.reply_bytes = 1200;
    destroyed.reply_packets = 3;
    destroyed.seen_reply = true;
    destroyed.assured = true;  // TCP: the handshake completed
    auto b = flows.on_event(destroyed);
    REQUIRE(b);
    CHECK(b->connections == 0);  // counted at NEW already
    CHECK(b->bytes == 1500);
    CHECK(b->established);
    CHECK(b->start == 1000);
    CHECK(b->duration == 10);
    CHECK(flows.open() == 0);

    // A connection that began before the listener: counted when it ends.
    destroyed.id = 43;
    destroyed.reply_packets = 0;
    destroyed.reply_bytes = 0;
    destroyed.seen_reply = destroyed.assured = false;
    auto c = flows.on_event(destroyed);
    REQUIRE(c);
    CHECK(c->connections == 1);
    CHECK_FALSE(c->established);

    ConntrackEvent sctp = created;
    sctp.l4proto = 132;
    sctp.id += 1000;
    auto s = flows.on_event(sctp);
    REQUIRE(s);
    CHECK(s->protocol == Protocol::sctp);
    CHECK(s->responder_port == created.destination_port);
    ConntrackEvent hop_by_hop = created;
    hop_by_hop.l4proto = 0;
    hop_by_hop.id += 2000;
    CHECK_FALSE(flows.on_event(hop_by_hop));
}

TEST_CASE("conntrack updates and dumps report an open connection's answer and bytes, each once", "[observe]") {
    ConntrackFlows flows;
    ConntrackEvent e;
    e.id = 7;
    e.l4proto = 6;
    e.source = ip("10.110.0.21");
    e.destination = ip("10.50.0.10");
    e.source_port = 40000;
    e.destination_port = 104;
    e.received = 1000;
    Aggregator agg;
    auto feed = [&](const ConntrackEvent& ev) {
        auto r = flows.on_event(ev);
        if (r) agg.add(*r);
        return r;
    };
    REQUIRE(feed(e));  // NEW

    ConntrackEvent update = e;
    update.type = ConntrackEvent::Type::updated;
    update.received = 1001;
    update.seen_reply = true;  // a RST back sets it too: not an answer for TCP
    CHECK_FALSE(feed(update));
    update.assured = true;  // the handshake completed
    auto answered = feed(update);
    REQUIRE(answered);
    CHECK(answered->connections == 0);
    CHECK(answered->established);
    CHECK(answered->bytes == 0);
    CHECK_FALSE(feed(update));  // nothing new

    ConntrackEvent dump = update;  // a dump of the table carries counters
    dump.received = 1060;
    dump.counters = true;
    dump.original_bytes = 200;
    dump.reply_bytes = 300;
    auto first_dump = feed(dump);
    REQUIRE(first_dump);
    CHECK(first_dump->bytes == 500);
    CHECK(first_dump->start == 1000);
    CHECK(first_dump->duration == 60);
    dump.reply_bytes = 600;
    CHECK(feed(dump)->bytes == 300);
    CHECK_FALSE(feed(dump));

    ConntrackEvent destroyed = dump;
    destroyed.type = ConntrackEvent::Type::destroyed;
    destroyed.received = 1100;
    destroyed.reply_bytes = 700;
    CHECK(feed(destroyed)->bytes == 100);
    CHECK(flows.open() == 0);
    auto edges = agg.edges();
    REQUIRE(edges.size() == 1);
    CHECK(edges[0].stats.connections == 1);
    CHECK(edges[0].stats.bytes == 900);
    CHECK(edges[0].stats.established);
    CHECK(edges[0].stats.days_seen == 1);

    SECTION("an entry older than the listener is counted at its first dump") {
        ConntrackEvent old = dump;
        old.id = 8;
        old.original_bytes = 1000;
        old.reply_bytes = 0;
        old.assured = false;
        old.seen_reply = false;
        auto r = flows.on_event(old);
        REQUIRE(r);
        CHECK(r->connections == 1);
        CHECK(r->bytes == 1000);
        CHECK_FALSE(r->established);
        old.type = ConntrackEvent::Type::destroyed;
        old.original_bytes = 1200;
        auto end = flows.on_event(old);
        CHECK(end->connections == 0);
        CHECK(end->bytes == 200);
    }
    SECTION("a NEW event read after a dump that listed the entry counts nothing again") {
        ConntrackEvent listed = dump;
        listed.id = 11;
        auto r = flows.on_event(listed);
        REQUIRE(r);
        CHECK(r->connections == 1);
        ConntrackEvent created = e;
        created.id = 11;
        CHECK_FALSE(flows.on_event(created));
        CHECK(flows.open() == 1);
    }
    SECTION("UDP and ICMP are answered by any reply; TCP refused with a RST is not") {
        ConntrackEvent udp = e;
        udp.id = 9;
        udp.l4proto = 17;
        udp.destination_port = 53;
        REQUIRE(flows.on_event(udp));
        udp.type = ConntrackEvent::Type::updated;
        udp.seen_reply = true;
        auto r = flows.on_event(udp);
        REQUIRE(r);
        CHECK(r->established);

        ConntrackEvent refused = e;
        refused.id = 10;
        refused.destination_port = 23;
        REQUIRE(flows.on_event(refused));
        refused.type = ConntrackEvent::Type::destroyed;
        refused.seen_reply = true;
        refused.counters = true;
        refused.reply_packets = 1;
        refused.reply_bytes = 40;
        auto end = flows.on_event(refused);
        REQUIRE(end);
        CHECK_FALSE(end->established);
    }
}

TEST_CASE("conntrack NEW and DESTROY events of forwarded TCP and UDP carry the tuple and byte counters",
          "[observe][kernel]") {
    GatewayTopology t;
    track_connections(t.gw, "obs_ct");
    auto listener = in_netns(t.gw, [] { return std::make_unique<ConntrackListener>(); });
    REQUIRE(listener->receive_buffer() >= (8 << 20));

    REQUIRE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));
    REQUIRE(wardgate::testing::udp_exchange(t.dev, t.srv, "10.50.0.5", 123));
    std::vector<ConntrackEvent> events;
    const auto dev = ip("10.110.0.21");
    CHECK(read_until(*listener, events, [&] {
        return find_event(events, ConntrackEvent::Type::created, 6, dev, ip("10.50.0.10"), 11112) &&
               find_event(events, ConntrackEvent::Type::created, 17, dev, ip("10.50.0.5"), 123);
    }));
    // Deleting the entries ends them now instead of after their timeouts.
    t.gw.exec("conntrack -D -p tcp --dport 11112");
    t.gw.exec("conntrack -D -p udp --dport 123");
    REQUIRE(read_until(*listener, events, [&] {
        return find_event(events, ConntrackEvent::Type::destroyed, 6, dev, ip("10.50.0.10"), 11112) &&
               find_event(events, ConntrackEvent::Type::destroyed, 17, dev, ip("10.50.0.5"), 123);
    }));
    CHECK(listener->lost_events() == 0);

    const auto* tcp = find_event(events, ConntrackEvent::Type::destroyed, 6, dev, ip("10.50.0.10"), 11112);
    REQUIRE(tcp->counters);
    // "wardgate-probe" (14 bytes) each way, in IPv4/TCP packets of 40 to 80 header bytes.
    CHECK(tcp->original_packets >= 3);
    CHECK(tcp->original_bytes >= 14 + 40 * tcp->original_packets);
    CHECK(tcp->original_bytes <= 14 + 80 * tcp->original_packets);
    CHECK(tcp->reply_packets >= 2);
    CHECK(tcp->reply_bytes >= 14 + 40 * tcp->reply_packets);
    CHECK(tcp->reply_bytes <= 14 + 80 * tcp->reply_packets);
    CHECK(tcp->seen_reply);
    const auto* created = find_event(events, ConntrackEvent::Type::created, 6, dev, ip("10.50.0.10"), 11112);
    CHECK(created->id == tcp->id);
    CHECK(created->source_port == tcp->source_port);

    const auto* udp = find_event(events, ConntrackEvent::Type::destroyed, 17, dev, ip("10.50.0.5"), 123);
    REQUIRE(udp->counters);
    // One 14-byte datagram each way: 20 (IPv4) + 8 (UDP) + 14.
    CHECK(udp->original_packets == 1);
    CHECK(udp->original_bytes == 42);
    CHECK(udp->reply_packets == 1);
    CHECK(udp->reply_bytes == 42);

    ConntrackFlows flows;
    Aggregator agg;
    for (const auto& e : events)
        if (auto r = flows.on_event(e)) agg.add(*r);
    bool found = false;
    for (const auto& e : agg.edges()) {
        if (e.key.initiator != dev || e.key.responder != ip("10.50.0.10") || e.key.responder_port != 11112) continue;
        found = true;
        CHECK(e.key.protocol == Protocol::tcp);
        CHECK(e.stats.connections == 1);
        CHECK(e.stats.bytes == tcp->original_bytes + tcp->reply_bytes);
        CHECK(e.stats.established);
    }
    CHECK(found);
}

TEST_CASE("conntrack events of forwarded pings carry the ICMP and ICMPv6 message, and the flow keeps it", "[observe][kernel]") {
    GatewayTopology t;
    track_connections(t.gw, "obs_icmp");
    auto listener = in_netns(t.gw, [] { return std::make_unique<ConntrackListener>(); });
    using wardgate::testing::icmp_message_bytes;
    using wardgate::testing::raw_exchange;
    REQUIRE(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.10", IPPROTO_ICMP, icmp_message_bytes(8, 0, 'a'), false));
    REQUIRE(raw_exchange(t.dev, "fd00:110::21", t.srv, "fd00:50::10", IPPROTO_ICMP, icmp_message_bytes(128, 0, 'b'), false));
    std::vector<ConntrackEvent> events;
    auto icmp_event = [&](uint8_t proto, const char* dst) -> const ConntrackEvent* {
        for (const auto& e : events)
            if (e.type == ConntrackEvent::Type::created && e.l4proto == proto && e.destination == ip(dst)) return &e;
        return nullptr;
    };
    REQUIRE(read_until(*listener, events, [&] { return icmp_event(1, "10.50.0.10") && icmp_event(58, "fd00:50::10"); }));
    const auto* v4 = icmp_event(1, "10.50.0.10");
    const auto* v6 = icmp_event(58, "fd00:50::10");
    CHECK(v4->has_icmp);
    CHECK(v4->icmp_type == 8);
    CHECK(v6->has_icmp);
    CHECK(v6->icmp_type == 128);

    ConntrackFlows flows;
    Aggregator agg;
    for (const auto& e : events)
        if (auto r = flows.on_event(e)) agg.add(*r);
    std::set<std::string> seen;
    for (const auto& e : agg.edges())
        if (e.key.protocol == Protocol::icmp)
            seen.insert(e.key.responder.to_string() + " " + flow_service_text(e.key.protocol, e.key.responder_port, e.key.responder.family));
    CHECK(seen == std::set<std::string>{"10.50.0.10 icmp/echo-request", "fd00:50::10 icmpv6/echo-request"});
}

TEST_CASE("a flood of conntrack events into a tiny receive buffer is counted as lost, and listening goes on",
          "[observe][kernel]") {
    GatewayTopology t;
    track_connections(t.gw, "obs_flood");
    ConntrackListenerOptions tiny;
    tiny.receive_buffer = 4096;
    auto listener = in_netns(t.gw, [&] { return std::make_unique<ConntrackListener>(tiny); });
    auto watch = in_netns(t.gw, [] { return std::make_unique<ConntrackWatch>(); });

    // 3000 UDP flows through the gateway while nobody reads the tiny listener.
    t.dev.run([] {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        inet_pton(AF_INET, "10.50.0.5", &to.sin_addr);
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        for (int port = 20000; port < 23000; ++port) {
            to.sin_port = htons(static_cast<uint16_t>(port));
            sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
        close(s);
        return std::string();
    });
    std::vector<ConntrackEvent> events;
    read_until(*listener, events, [&] { return listener->lost_events() > 0; }, 2000ms);
    CHECK(listener->lost_events() > 0);
    CHECK(events.size() < 3000);

    // Still listening: the next connection's event arrives.
    events.clear();
    REQUIRE(wardgate::testing::udp_exchange(t.dev, t.srv, "10.50.0.5", 123));
    CHECK(read_until(*listener, events, [&] {
        return find_event(events, ConntrackEvent::Type::created, 17, ip("10.110.0.21"), ip("10.50.0.5"), 123) != nullptr;
    }));

    // The service's watcher reads on its own thread with a large buffer: it saw them all.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (watch->events() < 3001 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    CHECK(watch->events() >= 3001);
    CHECK(watch->lost_events() == 0);
}

TEST_CASE("packets a drop rule logs to an NFLOG group become denied records with the rule's prefix", "[observe][kernel]") {
    GatewayTopology t;
    const uint16_t group = 9;
    t.gw.exec(fmt::format("nft 'table inet obs_log {{\n chain obs {{\n type filter hook forward priority 0; policy accept;\n"
                          "tcp dport 2323 log group {0} prefix \"wardgate drop icu: \" drop\n"
                          "udp dport 6969 log group {0} prefix \"wardgate deny no-tftp: \" drop\n }}\n}}'",
                          group));
    auto listener = in_netns(t.gw, [&] { return std::make_unique<NflogListener>(group); });

    CHECK_FALSE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 2323, 1200));
    CHECK_FALSE(wardgate::testing::udp_exchange(t.dev, t.srv, "fd00:50::5", 6969, 500));
    std::vector<DeniedPacket> got;
    auto has = [&](Protocol p, uint16_t port) {
        return std::any_of(got.begin(), got.end(), [&](const DeniedPacket& d) { return d.protocol == p && d.destination_port == port; });
    };
    REQUIRE(read_until(*listener, got, [&] { return has(Protocol::tcp, 2323) && has(Protocol::udp, 6969); }));
    for (const auto& d : got) {
        if (d.protocol == Protocol::tcp) {
            CHECK(d.source == ip("10.110.0.21"));
            CHECK(d.destination == ip("10.50.0.10"));
            CHECK(d.prefix == "wardgate drop icu: ");
            CHECK(d.parsed.segment == "icu");
            CHECK(d.length >= 40);
        } else {
            CHECK(d.source == ip("fd00:110::21"));
            CHECK(d.destination == ip("fd00:50::5"));
            CHECK(d.parsed.rule == "deny no-tftp");
            CHECK(d.length == 40 + 8 + 14);
        }
        CHECK(d.time > 1.7e9);
    }
    CHECK(listener->lost_events() == 0);
    // The group is taken while the listener lives, and free again after.
    CHECK_THROWS_AS(in_netns(t.gw, [&] { return std::make_unique<NflogListener>(group); }), ObserveError);
    listener.reset();
    CHECK_NOTHROW(in_netns(t.gw, [&] { return std::make_unique<NflogListener>(group); }));
}

TEST_CASE("a dropped packet's payload says what it tried: a TFTP read on udp/6969, kept as evidence only",
          "[observe][kernel][dissect]") {
    GatewayTopology t;
    TempDir dir("observe-payload");
    t.gw.exec("nft 'table inet obs_payload {\n chain obs {\n type filter hook forward priority 0; policy accept;\n"
              "udp dport 6969 log group 7 prefix \"wardgate deny no-tftp: \" drop\n }\n}'");
    BaselineStore store(dir.path / "baseline.db");
    ObserverOptions o;
    o.nflog_group = 7;
    auto observer = in_netns(t.gw, [&] { return std::make_unique<Observer>(store, o); });
    // A TFTP read request (RFC 1350) for the pump's configuration, on a port TFTP does not own.
    t.dev.exec("python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
               "s.sendto(b'\\x00\\x01pump-config.bin\\x00octet\\x00', ('10.50.0.10', 6969))\"");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (observer->summary().denied_records == 0 && std::chrono::steady_clock::now() < deadline) observer->poll_once(100);
    observer->flush();
    REQUIRE(observer->summary().denied_records >= 1);
    auto sightings = store.sightings({ip("10.50.0.10")});
    REQUIRE(sightings.size() == 1);
    CHECK(sightings[0].application == Application::tftp);
    CHECK(sightings[0].key.responder_port == 6969);
    CHECK(sightings[0].detail.find("pump-config.bin") != std::string::npos);
    // Never answered, and TFTP is insecure: the edge carries no label that could change the policy.
    auto edges = store.edges(EdgeQuery{.source = std::string(kDeniedSource)});
    REQUIRE(edges.size() == 1);
    CHECK(edges[0].stats.applications == 0);
}

TEST_CASE("the observer commits conntrack flows and denied attempts to the store under their own sources",
          "[observe][kernel]") {
    GatewayTopology t;
    TempDir dir("observe-store");
    track_connections(t.gw, "obs_both", "tcp dport 2323 log group 5 prefix \"wardgate drop icu: \" drop");
    BaselineStore store(dir.path / "baseline.db");
    ObserverOptions o;
    o.nflog_group = 5;
    auto observer = in_netns(t.gw, [&] { return std::make_unique<Observer>(store, o); });

    REQUIRE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));
    CHECK_FALSE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 2323, 1200));
    t.gw.exec("conntrack -D -p tcp --dport 11112");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while ((observer->summary().denied_records == 0 || observer->summary().records < 2) &&
           std::chrono::steady_clock::now() < deadline)
        observer->poll_once(100);
    observer->flush();
    const auto& s = observer->summary();
    CHECK(s.conntrack_lost == 0);
    CHECK(s.commits == 2);
    CHECK(s.denied_by.at("default deny of segment icu") >= 1);

    EdgeQuery ct;
    ct.source = kConntrackSource;
    ct.port = 11112;
    auto allowed = store.query(ct);
    REQUIRE(allowed.size() == 1);
    CHECK(allowed[0].key.initiator == ip("10.110.0.21"));
    CHECK(allowed[0].stats.connections == 1);
    CHECK(allowed[0].stats.bytes > 2 * 14);
    CHECK(allowed[0].stats.established);

    EdgeQuery nf;
    nf.source = kDeniedSource;
    auto denied = store.query(nf);
    REQUIRE(denied.size() == 1);
    CHECK(denied[0].key.responder == ip("10.50.0.10"));
    CHECK(denied[0].key.responder_port == 2323);
    CHECK_FALSE(denied[0].stats.established);
    // Dropped attempts are not baseline traffic for the policy.
    EdgeQuery baseline;
    baseline.include_denied = false;
    baseline.port = 2323;
    CHECK(store.query(baseline).empty());
}

TEST_CASE("connections an approval on trial logs are counted per approval, never stored as denied attempts",
          "[observe][kernel][monitor]") {
    GatewayTopology t;
    TempDir dir("observe-trial");
    track_connections(t.gw, "obs_trial",
                      "ct state new tcp dport 11112 log group 6 prefix \"wardgate approval CHG-9 (trial): \" accept");
    BaselineStore store(dir.path / "baseline.db");
    ObserverOptions o;
    o.nflog_group = 6;
    auto observer = in_netns(t.gw, [&] { return std::make_unique<Observer>(store, o); });
    REQUIRE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (observer->summary().trial_connections.empty() && std::chrono::steady_clock::now() < deadline)
        observer->poll_once(100);
    observer->flush();
    const auto& s = observer->summary();
    REQUIRE(s.trial_connections.count("approval CHG-9"));
    CHECK(s.trial_connections.at("approval CHG-9") == 1);
    CHECK(s.denied_records == 0);
    EdgeQuery nf;
    nf.source = kDeniedSource;
    CHECK(store.query(nf).empty());
}

TEST_CASE("wardgate observe records into a store that wardgate flows reads, alerts on denied attempts and stops on SIGTERM",
          "[observe][kernel][cli]") {
    GatewayTopology t;
    TempDir dir("observe-cli");
    const std::string site = std::string(WARDGATE_SOURCE_DIR) + "/tests/data/gateway-site";
    PipelineOptions po;
    po.today = *parse_date("2026-11-22");
    auto rs = nft::lower_policy(run_pipeline(site, po).policy);
    REQUIRE(t.gw.run([&] { return netlink::apply_ruleset(rs).committed ? std::string("ok") : std::string("no"); }) == "ok");
    t.gw.exec("sysctl -q -w net.netfilter.nf_conntrack_acct=1");

    const auto db = dir.path / "observed.db", alerts = dir.path / "alerts.jsonl", out = dir.path / "out.txt",
               err = dir.path / "err.txt", pid = dir.path / "pid";
    // The site's log_group is 7.
    std::string cmd = fmt::format("ip netns exec {} sh -c 'echo $$ > {}; exec {} observe --db {} --conntrack --nflog-group 7 "
                                  "--site {} --today 2026-11-22 --alerts {} --flush-seconds 1 --duration 60 >{} 2>{}'",
                                  t.gw.name(), pid.string(), WARDGATE_BINARY, db.string(), site, alerts.string(),
                                  out.string(), err.string());
    int status = -1;
    // system(), not popen(): the exchanges below fork after fflush(NULL), which would wait for a
    // popen stream's lock held by this thread's read for as long as the observer runs.
    std::thread runner([&] {
        int rc = std::system(cmd.c_str());
        status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    });
    struct Stop {  // on every way out of the test: the observer stops and its thread is joined
        std::thread& runner;
        std::filesystem::path pid;
        void now() {
            if (!runner.joinable()) return;
            wardgate::testing::shell("kill -TERM $(cat " + pid.string() + ")");
            runner.join();
        }
        ~Stop() { now(); }
    } stop{runner, pid};
    auto read_file = [](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (read_file(err).find("observing") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    INFO(read_file(err));
    REQUIRE(read_file(err).find("observing") != std::string::npos);

    CHECK(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 11112));        // declared
    CHECK_FALSE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 23, 1200));  // dropped by icu's chain
    t.gw.exec("conntrack -D -p tcp --dport 11112");
    std::this_thread::sleep_for(300ms);
    stop.now();
    INFO(read_file(out) << read_file(err));
    CHECK(status == 0);
    const std::string summary = read_file(out);
    CHECK(summary.find("0 lost (receive buffer overruns)") != std::string::npos);
    CHECK(summary.find("default deny of segment icu") != std::string::npos);

    std::string flows;
    REQUIRE(wardgate::testing::shell(fmt::format("{} flows --db {} --format json", WARDGATE_BINARY, db.string()), &flows) == 0);
    auto j = nlohmann::json::parse(flows);
    bool declared = false, denied = false;
    for (const auto& e : j) {
        if (e.at("initiator").at("address") != "10.110.0.21" || e.at("responder").at("address") != "10.50.0.10") continue;
        if (e.at("port") == 11112) {
            declared = true;
            CHECK(e.at("established") == true);
            CHECK(e.at("bytes").get<uint64_t>() > 28);
        }
        if (e.at("port") == 23) {
            denied = true;
            CHECK(e.at("established") == false);
        }
    }
    CHECK(declared);
    CHECK(denied);

    std::string alert_text = read_file(alerts);
    INFO(alert_text);
    bool alerted = false;
    std::istringstream lines(alert_text);
    for (std::string line; std::getline(lines, line);) {
        auto a = nlohmann::json::parse(line);
        if (a.at("kind") != "denied-attempt") continue;
        alerted = true;
        CHECK(a.at("device") == "monitor-icu-01");
        CHECK(a.at("rule") == "default deny of segment icu");
        CHECK(a.at("port") == 23);
    }
    CHECK(alerted);
}

namespace {

// A TCP connection from the device to a server through the gateway, left open: the
// sockets belong to the namespaces they were opened in, whichever thread uses them.
struct OpenConnection {
    int listener = -1, client = -1, server = -1;
    ~OpenConnection() {
        for (int fd : {client, server, listener})
            if (fd >= 0) ::close(fd);
    }
};

int tcp_socket_in(const Netns& ns, const std::function<int(int)>& setup) {
    return in_netns(ns, [&] {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) throw std::runtime_error("socket");
        timeval three{3, 0};
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &three, sizeof three);
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &three, sizeof three);
        if (setup(s) < 0) {
            ::close(s);
            throw std::runtime_error(std::string("tcp setup in ") + ns.name() + ": " + std::strerror(errno));
        }
        return s;
    });
}

// Connects, then sends `request` one way and `reply` back; true when both arrived.
bool open_and_exchange(const GatewayTopology& t, OpenConnection& c, const std::string& request, const std::string& reply) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(11112);
    inet_pton(AF_INET, "10.50.0.10", &to.sin_addr);
    c.listener = tcp_socket_in(t.srv, [&](int s) {
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(s, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) return -1;
        return ::listen(s, 4);
    });
    c.client = tcp_socket_in(t.dev, [&](int s) { return ::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to); });
    c.server = ::accept4(c.listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c.server < 0) return false;
    auto pass = [](int from, int to_fd, const std::string& text) {
        if (::send(from, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) return false;
        std::string got(text.size(), '\0');
        size_t have = 0;
        while (have < got.size()) {
            ssize_t n = ::recv(to_fd, got.data() + have, got.size() - have, 0);
            if (n <= 0) return false;
            have += static_cast<size_t>(n);
        }
        return got == text;
    };
    return pass(c.client, c.server, request) && pass(c.server, c.client, reply);
}

}  // namespace

TEST_CASE("wardgate observe records a TCP exchange still open when it stops as answered, with its bytes",
          "[observe][kernel][cli]") {
    GatewayTopology t;
    TempDir dir("observe-open");
    track_connections(t.gw, "obs_open");  // with net.netfilter.nf_conntrack_acct=1
    const auto db = dir.path / "observed.db", out = dir.path / "out.txt", err = dir.path / "err.txt",
               pid = dir.path / "pid";
    std::string cmd = fmt::format("ip netns exec {} sh -c 'echo $$ > {}; exec {} observe --db {} --conntrack "
                                  "--flush-seconds 30 --duration 60 >{} 2>{}'",
                                  t.gw.name(), pid.string(), WARDGATE_BINARY, db.string(), out.string(), err.string());
    int status = -1;
    std::thread runner([&] {
        int rc = std::system(cmd.c_str());
        status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    });
    struct Stop {
        std::thread& runner;
        std::filesystem::path pid;
        void now() {
            if (!runner.joinable()) return;
            wardgate::testing::shell("kill -TERM $(cat " + pid.string() + ")");
            runner.join();
        }
        ~Stop() { now(); }
    } stop{runner, pid};
    auto read_file = [](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (read_file(err).find("observing") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    REQUIRE(read_file(err).find("observing") != std::string::npos);

    OpenConnection connection;
    const std::string request(300, 'q'), reply(1200, 'r');
    REQUIRE(open_and_exchange(t, connection, request, reply));
    std::this_thread::sleep_for(500ms);
    // Stopped before the connection ends and long before a flush: no DESTROY event, no
    // counters in the events read; the last commit dumps the table for them.
    stop.now();
    INFO(read_file(out) << read_file(err));
    CHECK(status == 0);
    REQUIRE(t.gw.exec("conntrack -L -p tcp --dport 11112 2>/dev/null").find("ESTABLISHED") != std::string::npos);

    std::string flows;
    REQUIRE(wardgate::testing::shell(fmt::format("{} flows --db {} --format json", WARDGATE_BINARY, db.string()), &flows) == 0);
    INFO(flows);
    auto j = nlohmann::json::parse(flows);
    bool found = false;
    for (const auto& e : j) {
        if (e.at("initiator").at("address") != "10.110.0.21" || e.at("responder").at("address") != "10.50.0.10" ||
            e.at("port") != 11112)
            continue;
        found = true;
        CHECK(e.at("connections") == 1);
        CHECK(e.at("established") == true);
        // Both directions' payload, IP and TCP headers included.
        CHECK(e.at("bytes").get<uint64_t>() >= request.size() + reply.size());
        CHECK(e.at("days_seen") == 1);
    }
    CHECK(found);
}
