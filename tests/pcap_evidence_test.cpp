// What a capture must show before an edge counts as established, and which way it points:
// forged lone packets, handshakes complete and not, retransmissions, ICMP echo, IPv6
// neighbour discovery; and payload bytes against Zeek's conn.log for the shared captures.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "support/capture_writer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "support/zeek_conn_log.hpp"
#include "wardgate/flows/pcap.hpp"
#include "wardgate/flows/readers.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

struct Read {
    std::vector<PcapFlow> flows;
    std::vector<ObservedEdge> edges;
    PcapSummary summary;
};

Read read_capture(const std::string& file) {
    Read out;
    Aggregator agg;
    out.summary = read_pcap(file, [&](const PcapFlow& f) {
        out.flows.push_back(f);
        agg.add(f.record);
    });
    out.edges = agg.edges();
    return out;
}

const ObservedEdge* edge_of(const Read& r, const char* from, const char* to, Protocol p, uint16_t port) {
    for (const auto& e : r.edges)
        if (e.key.initiator == *IpAddress::parse(from) && e.key.responder == *IpAddress::parse(to) &&
            e.key.protocol == p && e.key.responder_port == port)
            return &e;
    return nullptr;
}

bool group_address(const IpAddress& a) {
    return a.family == Family::v4 ? (a.bytes[0] & 0xF0) == 0xE0 || a.v4_value() == 0xFFFFFFFFu : a.bytes[0] == 0xFF;
}

const char* A = "10.7.0.1";  // a device
const char* B = "10.7.0.2";  // a server

}  // namespace

TEST_CASE("pcap evidence: lone packets an attacker can forge neither establish nor turn an edge around",
          "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    SECTION("a SYN+ACK alone, and one the receiver refuses with a RST") {
        auto file = write_pcap(tmp.path / "synack.pcap", 101,
                               {{1.0, ipv4(B, A, 6, tcp(443, 50000, SYN | ACK, 0, 7000, 501))},
                                {2.0, ipv4(B, A, 6, tcp(443, 50001, SYN | ACK, 0, 8000, 601))},
                                {2.1, ipv4(A, B, 6, tcp(50001, 443, RST, 0, 601, 0))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 2);
        for (uint16_t port : {50000, 50001}) {
            auto* e = edge_of(r, B, A, Protocol::tcp, port);  // from the SYN+ACK's sender, as it was sent
            REQUIRE(e);
            CHECK(e->stats.connections == 1);
            CHECK_FALSE(e->stats.established);
        }
        CHECK_FALSE(edge_of(r, A, B, Protocol::tcp, 443));
        for (const auto& f : r.flows) {
            CHECK(f.handshake_missing);
            CHECK(f.direction == DirectionSource::first_packet);
        }
    }
    SECTION("one packet from a service port: TCP from 443 and 104, UDP from 53 and 443") {
        auto file = write_pcap(tmp.path / "service-ports.pcap", 101,
                               {{1.0, ipv4(B, A, 6, tcp(443, 50010, ACK | PSH, 100, 9000, 700))},
                                {1.1, ipv4(B, A, 6, tcp(104, 50011, ACK | PSH, 200, 9000, 700))},
                                {1.2, ipv4(B, A, 17, udp(53, 50012, 60))},
                                {1.3, ipv4(B, A, 17, udp(443, 50013, 1200))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 4);
        const std::pair<Protocol, uint16_t> expected[] = {
            {Protocol::tcp, 50010}, {Protocol::tcp, 50011}, {Protocol::udp, 50012}, {Protocol::udp, 50013}};
        for (auto [protocol, port] : expected) {
            auto* e = edge_of(r, B, A, protocol, port);
            INFO(to_string(protocol) << "/" << port);
            REQUIRE(e);
            CHECK(e->stats.connections == 1);
            CHECK_FALSE(e->stats.established);
        }
        CHECK(r.summary.udp_flipped == 0);
        CHECK(r.summary.tcp_without_handshake == 2);
    }
}

TEST_CASE("pcap evidence: a TCP connection is established by its completed handshake only", "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    SECTION("SYN, SYN+ACK, ACK, data both ways, FIN both ways") {
        auto file = write_pcap(tmp.path / "complete.pcap", 101,
                               {{1.0, ipv4(A, B, 6, tcp(40000, 104, SYN, 0, 1000, 0))},
                                {1.1, ipv4(B, A, 6, tcp(104, 40000, SYN | ACK, 0, 5000, 1001))},
                                {1.2, ipv4(A, B, 6, tcp(40000, 104, ACK, 0, 1001, 5001))},
                                {1.3, ipv4(A, B, 6, tcp(40000, 104, ACK | PSH, 300, 1001, 5001))},
                                {1.3, ipv4(A, B, 6, tcp(40000, 104, ACK | PSH, 300, 1001, 5001))},  // retransmitted
                                {1.4, ipv4(B, A, 6, tcp(104, 40000, ACK | PSH, 50, 5001, 1301))},
                                {1.5, ipv4(A, B, 6, tcp(40000, 104, FIN | ACK, 0, 1301, 5051))},
                                {1.6, ipv4(B, A, 6, tcp(104, 40000, FIN | ACK, 0, 5051, 1302))},
                                {1.7, ipv4(A, B, 6, tcp(40000, 104, ACK, 0, 1302, 5052))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 1);
        auto* e = edge_of(r, A, B, Protocol::tcp, 104);
        REQUIRE(e);
        CHECK(e->stats.connections == 1);
        CHECK(e->stats.established);
        CHECK(e->stats.bytes == 350);  // the retransmission counts once
        CHECK(r.flows[0].direction == DirectionSource::handshake);
        CHECK_FALSE(r.flows[0].handshake_missing);
    }
    SECTION("SYN and SYN+ACK without the third packet, or answered by a RST") {
        auto file = write_pcap(tmp.path / "half.pcap", 101,
                               {{1.0, ipv4(A, B, 6, tcp(40001, 443, SYN, 0, 1000, 0))},
                                {1.1, ipv4(B, A, 6, tcp(443, 40001, SYN | ACK, 0, 5000, 1001))},
                                {2.0, ipv4(A, B, 6, tcp(40002, 443, SYN, 0, 2000, 0))},
                                {2.1, ipv4(B, A, 6, tcp(443, 40002, SYN | ACK, 0, 6000, 2001))},
                                {2.2, ipv4(A, B, 6, tcp(40002, 443, RST, 0, 2001, 0))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 1);
        auto* e = edge_of(r, A, B, Protocol::tcp, 443);
        REQUIRE(e);
        CHECK(e->stats.connections == 2);
        CHECK_FALSE(e->stats.established);
        for (const auto& f : r.flows) CHECK(f.direction == DirectionSource::handshake);
    }
    SECTION("retransmitted SYNs are one connection, answered or not") {
        auto file = write_pcap(tmp.path / "retransmitted.pcap", 101,
                               {{1.0, ipv4(A, B, 6, tcp(40003, 11112, SYN, 0, 3000, 0))},
                                {2.0, ipv4(A, B, 6, tcp(40003, 11112, SYN, 0, 3000, 0))},
                                {4.0, ipv4(A, B, 6, tcp(40003, 11112, SYN, 0, 3000, 0))},
                                {10.0, ipv4(A, B, 6, tcp(40004, 2575, SYN, 0, 4000, 0))},
                                {11.0, ipv4(A, B, 6, tcp(40004, 2575, SYN, 0, 4000, 0))},
                                {11.1, ipv4(B, A, 6, tcp(2575, 40004, SYN | ACK, 0, 9000, 4001))},
                                {11.2, ipv4(A, B, 6, tcp(40004, 2575, ACK | PSH, 20, 4001, 9001))},
                                // Refused, then the same SYN again: still the one attempt.
                                {20.0, ipv4(A, B, 6, tcp(40005, 104, SYN, 0, 5000, 0))},
                                {20.1, ipv4(B, A, 6, tcp(104, 40005, RST | ACK, 0, 0, 5001))},
                                {21.0, ipv4(A, B, 6, tcp(40005, 104, SYN, 0, 5000, 0))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 3);
        auto* unanswered = edge_of(r, A, B, Protocol::tcp, 11112);
        REQUIRE(unanswered);
        CHECK(unanswered->stats.connections == 1);
        CHECK_FALSE(unanswered->stats.established);
        auto* answered = edge_of(r, A, B, Protocol::tcp, 2575);
        REQUIRE(answered);
        CHECK(answered->stats.connections == 1);
        CHECK(answered->stats.established);
        CHECK(answered->stats.bytes == 20);
        auto* refused = edge_of(r, A, B, Protocol::tcp, 104);
        REQUIRE(refused);
        CHECK(refused->stats.connections == 1);
        CHECK_FALSE(refused->stats.established);
    }
    SECTION("midstream: both sides talking point at the service port, but never established") {
        auto file = write_pcap(tmp.path / "midstream.pcap", 101,
                               {{1.0, ipv4(B, A, 6, tcp(6661, 51000, ACK | PSH, 100, 7000, 300))},
                                {1.1, ipv4(A, B, 6, tcp(51000, 6661, ACK | PSH, 10, 300, 7100))}});
        auto r = read_capture(file);
        REQUIRE(r.edges.size() == 1);
        auto* e = edge_of(r, A, B, Protocol::tcp, 6661);
        REQUIRE(e);
        CHECK(e->stats.connections == 1);
        CHECK_FALSE(e->stats.established);
        CHECK(e->stats.bytes == 110);
        CHECK(r.flows[0].direction == DirectionSource::ports);
        CHECK(r.flows[0].handshake_missing);
    }
}

TEST_CASE("pcap evidence: UDP is answered when the responder sends back", "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    auto file = write_pcap(tmp.path / "udp.pcap", 101,
                           {{1.0, ipv4(A, B, 17, udp(40000, 53, 30))},
                            {1.1, ipv4(B, A, 17, udp(53, 40000, 90))},
                            {2.0, ipv4(A, B, 17, udp(40001, 514, 100))},
                            // The query came before the capture: the answer's flow points at 123.
                            {3.0, ipv4(B, A, 17, udp(123, 40002, 48))},
                            {3.1, ipv4(A, B, 17, udp(40002, 123, 48))}});
    auto r = read_capture(file);
    REQUIRE(r.edges.size() == 3);
    auto* dns = edge_of(r, A, B, Protocol::udp, 53);
    REQUIRE(dns);
    CHECK(dns->stats.established);
    CHECK(dns->stats.bytes == 120);
    auto* syslog = edge_of(r, A, B, Protocol::udp, 514);
    REQUIRE(syslog);
    CHECK_FALSE(syslog->stats.established);
    auto* ntp = edge_of(r, A, B, Protocol::udp, 123);
    REQUIRE(ntp);
    CHECK(ntp->stats.established);
    CHECK(r.summary.udp_flipped == 1);
}

TEST_CASE("pcap: protocols without ports are flows between two hosts, answered when both spoke", "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    const PacketBytes esp_payload(40, 'e');
    auto file = write_pcap(tmp.path / "esp.pcap", 101,
                           {{1.0, ipv4(A, B, 50, esp_payload)},   // ESP both ways: one answered flow
                            {1.1, ipv4(B, A, 50, esp_payload)},
                            {2.0, ipv4(A, B, 47, PacketBytes(12, 'g'))},  // GRE one way only
                            {3.0, ipv4(A, B, 132, PacketBytes(16, 's'))}});  // SCTP: ports like UDP's
    auto r = read_capture(file);
    auto* esp = edge_of(r, A, B, Protocol::esp, 0);
    REQUIRE(esp);
    CHECK(esp->stats.established);
    CHECK(esp->stats.connections == 1);
    auto* gre = edge_of(r, A, B, Protocol::gre, 0);
    REQUIRE(gre);
    CHECK_FALSE(gre->stats.established);
    uint16_t sctp_port = static_cast<uint16_t>('s' << 8 | 's');
    CHECK(edge_of(r, A, B, Protocol::sctp, sctp_port));
}

TEST_CASE("pcap evidence: an ICMP echo is answered by its reply, whoever asked", "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    const char* C = "10.7.0.3";
    const char* D = "10.7.0.4";
    auto file = write_pcap(tmp.path / "icmp.pcap", 101,
                           {{1.0, ipv4(B, A, 1, icmp(8, 0, 56))},  // the server pings the device
                            {1.1, ipv4(A, B, 1, icmp(0, 0, 56))},
                            {2.0, ipv4(A, C, 1, icmp(8, 0, 56))},  // unanswered
                            {3.0, ipv4(D, A, 1, icmp(0, 0, 56))},  // a reply nobody asked for
                            {4.0, ipv6("fd00::1", "fd00::2", 58, icmp(128, 0, 16))},
                            {4.1, ipv6("fd00::2", "fd00::1", 58, icmp(129, 0, 16))}});
    auto r = read_capture(file);
    REQUIRE(r.edges.size() == 4);
    auto* ping = edge_of(r, B, A, Protocol::icmp, icmp_port(8, 0));  // the requester's message
    REQUIRE(ping);
    CHECK(ping->stats.connections == 1);
    CHECK(ping->stats.established);
    CHECK(ping->stats.bytes == 112);
    auto* lone = edge_of(r, A, C, Protocol::icmp, icmp_port(8, 0));
    REQUIRE(lone);
    CHECK_FALSE(lone->stats.established);
    auto* reply = edge_of(r, D, A, Protocol::icmp, icmp_port(0, 0));  // not turned around
    REQUIRE(reply);
    CHECK_FALSE(reply->stats.established);
    auto* v6 = edge_of(r, "fd00::1", "fd00::2", Protocol::icmp, icmp_port(128, 0));
    REQUIRE(v6);
    CHECK(v6->stats.established);
}

TEST_CASE("pcap evidence: IPv6 neighbour discovery makes no edge, mDNS to ff02::fb one from its sender",
          "[pcap][evidence]") {
    TempDir tmp("pcap-evidence");
    auto file = write_pcap(tmp.path / "nd.pcap", 101,
                           {{1.0, ipv6("fe80::1", "ff02::1:ff00:2", 58, icmp(135, 0, 24))},  // neighbour solicitation
                            {1.1, ipv6("fe80::2", "fe80::1", 58, icmp(136, 0, 24))},        // solicited advertisement
                            {1.2, ipv6("fe80::2", "ff02::1", 58, icmp(136, 0, 24))},        // unsolicited, to all nodes
                            {1.3, ipv6("fe80::1", "ff02::2", 58, icmp(133, 0, 8))},         // router solicitation
                            {1.4, ipv6("fe80::9", "ff02::1", 58, icmp(134, 0, 48))},        // router advertisement
                            {1.5, ipv6("fe80::1", "ff02::16", 58, icmp(143, 0, 20))},       // MLDv2 report
                            {1.6, ipv6("fe80::1", "ff02::fb", 17, udp(5353, 5353, 40))},
                            {1.7, ipv6("fe80::2", "ff02::fb", 17, udp(5353, 5353, 80))},
                            {1.8, ipv4("224.0.0.251", A, 17, udp(5353, 5353, 40))}});  // forged group source
    auto r = read_capture(file);
    REQUIRE(r.edges.size() == 2);
    for (const auto& e : r.edges) {
        CHECK_FALSE(group_address(e.key.initiator));
        CHECK(e.key.responder == *IpAddress::parse("ff02::fb"));
        CHECK(e.key.protocol == Protocol::udp);
        CHECK(e.key.responder_port == 5353);
        CHECK(e.stats.connections == 1);
        CHECK_FALSE(e.stats.established);
    }
    CHECK(edge_of(r, "fe80::1", "ff02::fb", Protocol::udp, 5353));
    CHECK(edge_of(r, "fe80::2", "ff02::fb", Protocol::udp, 5353));
    CHECK(r.summary.read.skipped.at("ICMPv6 neighbour discovery or multicast listener message") == 6);
    CHECK(r.summary.read.skipped.at("source address is multicast or broadcast") == 1);
}

TEST_CASE("pcap evidence: payload bytes per edge agree with Zeek's orig_bytes + resp_bytes", "[pcap][evidence]") {
    // Compared: per edge (initiator, responder, protocol, responder port) the sum of
    // orig_bytes + resp_bytes over its conn.log rows, for the edges all of whose rows have
    // both set (Zeek leaves them unset for a connection of one packet). TCP is counted in
    // sequence space as Zeek does, UDP as the UDP payload.
    size_t compared = 0;
    for (const char* name : {"wikipedia", "dhcp", "q-in-q", "missing-syn"}) {
        const std::string dir = kSharedData + "/zeek/" + name + "/";
        std::map<EdgeKey, uint64_t> zeek;
        std::map<EdgeKey, bool> complete;
        for (const auto& row : zeek_conn_rows(dir + "conn.log")) {
            const std::string& proto = row.at("proto");
            if (proto != "tcp" && proto != "udp") continue;
            EdgeKey k{*IpAddress::parse(row.at("id.orig_h")), *IpAddress::parse(row.at("id.resp_h")),
                      proto == "tcp" ? Protocol::tcp : Protocol::udp,
                      static_cast<uint16_t>(std::stoi(row.at("id.resp_p")))};
            const bool set = row.at("orig_bytes") != "-" && row.at("resp_bytes") != "-";
            complete.emplace(k, true);
            if (!set) {
                complete[k] = false;
                continue;
            }
            zeek[k] += std::stoull(row.at("orig_bytes")) + std::stoull(row.at("resp_bytes"));
        }
        Aggregator agg;
        read_flow_file(dir + name + ".pcap", agg);
        std::map<EdgeKey, uint64_t> ours;
        for (const auto& e : agg.edges()) ours[e.key] = e.stats.bytes;
        for (const auto& [key, bytes] : zeek) {
            if (!complete[key]) continue;
            INFO(name << ": " << key.initiator.to_string() << " -> " << key.responder.to_string() << " "
                      << to_string(key.protocol) << "/" << key.responder_port);
            REQUIRE(ours.count(key));
            CHECK(ours[key] == bytes);
            ++compared;
        }
    }
    CHECK(compared >= 10);
}
