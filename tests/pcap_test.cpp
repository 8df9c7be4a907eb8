// The pcap reader against Zeek's conn.log of the same captures, nDPI's flow lists, and
// hand-built captures for link types, tags, fragments, direction heuristics and damage.
#include <catch2/catch.hpp>

#include <functional>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include "support/capture_writer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "support/zeek_conn_log.hpp"
#include "wardgate/flows/pcap.hpp"
#include "wardgate/flows/readers.hpp"

using namespace wardgate;
using namespace wardgate::testing;  // capture_writer.hpp: packets and write_pcap
using wardgate::testing::kSharedData;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

using EdgeTuple = std::tuple<std::string, std::string, std::string, uint16_t>;  // initiator, responder, proto, port

std::set<EdgeTuple> tuples(const Aggregator& a, bool tcp_udp_only = true) {
    std::set<EdgeTuple> out;
    for (const auto& e : a.edges()) {
        if (tcp_udp_only && e.key.protocol == Protocol::icmp) continue;
        out.emplace(e.key.initiator.to_string(), e.key.responder.to_string(), std::string(to_string(e.key.protocol)),
                    e.key.responder_port);
    }
    return out;
}

std::string show(const std::set<EdgeTuple>& s) {
    std::string out;
    for (const auto& [i, r, p, port] : s) out += "  " + i + " -> " + r + " " + p + "/" + std::to_string(port) + "\n";
    return out;
}

std::vector<PcapFlow> flows_of(const std::string& file, PcapSummary* summary = nullptr, const PcapOptions& options = {}) {
    std::vector<PcapFlow> out;
    auto s = read_pcap(file, [&](const PcapFlow& f) { out.push_back(f); }, {}, options);
    if (summary) *summary = s;
    return out;
}

const PcapFlow* find_pcap_flow(const std::vector<PcapFlow>& flows, const char* from, const char* to, Protocol p,
                          uint16_t port) {
    for (const auto& f : flows)
        if (f.record.initiator == *IpAddress::parse(from) && f.record.responder == *IpAddress::parse(to) &&
            f.record.protocol == p && f.record.responder_port == port)
            return &f;
    return nullptr;
}


}  // namespace

TEST_CASE("pcap: flows match Zeek's conn.log for the same captures", "[pcap]") {
    // Each case: the capture and the conn.log Zeek wrote for it, compared as sets of
    // (initiator, responder, protocol, responder port) for TCP and UDP. Where Zeek turned
    // the roles around on one side's packets alone ('^' with no packet from the other: a
    // lone SYN+ACK, a DHCP reply), the capture reader keeps the sender as the initiator,
    // since one forged packet must not make an edge the other way.
    for (const char* name : {"wikipedia", "dhcp", "q-in-q", "missing-syn"}) {
        DYNAMIC_SECTION(name) {
            const std::string dir = kSharedData + "/zeek/" + name + "/";
            Aggregator from_pcap;
            auto pcap_summary = read_flow_file(dir + name + ".pcap", from_pcap);
            std::set<EdgeTuple> zeeks;
            for (const auto& row : zeek_conn_rows(dir + "conn.log")) {
                const std::string& proto = row.at("proto");
                if (proto != "tcp" && proto != "udp") continue;
                const bool flip = zeek_flipped_one_sided(row);
                const std::string from = row.at(flip ? "id.resp_h" : "id.orig_h"), to = row.at(flip ? "id.orig_h" : "id.resp_h");
                zeeks.emplace(IpAddress::parse(from)->to_string(), IpAddress::parse(to)->to_string(), proto,
                              static_cast<uint16_t>(std::stoi(row.at(flip ? "id.orig_p" : "id.resp_p"))));
            }
            auto ours = tuples(from_pcap);
            INFO("pcap:\n" << show(ours) << "conn.log:\n" << show(zeeks));
            CHECK(ours == zeeks);
            CHECK(pcap_summary.rows > 0);
            // Zeek does not log ICMP in these logs; neither capture holds any, so no ICMP edge either.
            CHECK(tuples(from_pcap, false) == ours);
        }
    }
}

TEST_CASE("pcap: direction decided like Zeek where the handshake or the ports tell", "[pcap]") {
    SECTION("missing-syn: the first packet is a SYN+ACK its receiver acknowledged, so the receiver initiated") {
        PcapSummary s;
        auto flows = flows_of(kSharedData + "/zeek/missing-syn/missing-syn.pcap", &s);
        auto* f = find_pcap_flow(flows, "141.42.64.125", "125.190.109.199", Protocol::tcp, 80);
        REQUIRE(f);
        CHECK(f->direction == DirectionSource::handshake);
        // Established needs the SYN as well (Zeek's SF here rests on a handshake it did not see).
        CHECK(f->handshake_missing);
        CHECK_FALSE(f->record.established);
        CHECK(s.read.accepted == 1);
    }
    SECTION("wikipedia: a midstream HTTP connection is marked and pointed at port 80") {
        auto flows = flows_of(kSharedData + "/zeek/wikipedia/wikipedia.pcap");
        auto* f = find_pcap_flow(flows, "141.142.220.118", "208.80.152.2", Protocol::tcp, 80);
        REQUIRE(f);
        bool some_midstream = false;
        for (const auto& x : flows)
            if (x.handshake_missing && x.record.responder_port == 80 &&
                x.record.initiator == *IpAddress::parse("141.142.220.118")) {
                some_midstream = true;
                CHECK(x.direction == DirectionSource::ports);
            }
        CHECK(some_midstream);
        // DNS answers come back on the same flow: established, not a flow of their own.
        auto* dns = find_pcap_flow(flows, "141.142.220.118", "141.142.2.2", Protocol::udp, 53);
        REQUIRE(dns);
        CHECK(dns->record.established);
    }
    SECTION("dhcp: a lone offer from 67 to a client's 68 keeps its sender as the initiator, unanswered") {
        PcapSummary s;
        auto flows = flows_of(kSharedData + "/zeek/dhcp/dhcp.pcap", &s);
        auto* offer = find_pcap_flow(flows, "128.2.6.152", "128.2.6.97", Protocol::udp, 68);
        REQUIRE(offer);
        CHECK_FALSE(offer->record.established);
        CHECK(find_pcap_flow(flows, "128.2.6.152", "255.255.255.255", Protocol::udp, 68));
        CHECK(s.udp_flipped == 0);
    }
}

TEST_CASE("pcap: flows from nDPI's captures", "[pcap]") {
    const std::string dir = kSharedData + "/pcap/";
    SECTION("telnet to 23, with the handshake") {
        auto flows = flows_of(dir + "telnet.pcap");
        auto* f = find_pcap_flow(flows, "192.168.0.2", "192.168.0.1", Protocol::tcp, 23);
        REQUIRE(f);
        CHECK(f->direction == DirectionSource::handshake);
        CHECK(f->record.established);
        // Every packet of the capture belongs to it: nDPI counts 43 + 44 = 87, leaving out
        // the last packets after the connection closed; we keep them with it.
        CHECK(f->packets == 92);
        CHECK(flows.size() == 1);
    }
    SECTION("HL7 MLLP on 6661") {
        auto flows = flows_of(dir + "hl7.pcap");
        auto* f = find_pcap_flow(flows, "10.0.0.155", "10.0.0.126", Protocol::tcp, 6661);
        REQUIRE(f);
        CHECK(f->packets == 9);
        CHECK(f->record.established);
    }
    SECTION("SMBv1 on 445") {
        auto flows = flows_of(dir + "smbv1.pcap");
        REQUIRE(find_pcap_flow(flows, "172.16.156.130", "10.128.0.243", Protocol::tcp, 445));
    }
    SECTION("FTP control and passive data connections") {
        auto flows = flows_of(dir + "ftp.pcap");
        CHECK(find_pcap_flow(flows, "192.168.1.212", "90.130.70.73", Protocol::tcp, 21));
        CHECK(find_pcap_flow(flows, "192.168.1.212", "90.130.70.73", Protocol::tcp, 25685));
        CHECK(find_pcap_flow(flows, "192.168.1.212", "90.130.70.73", Protocol::tcp, 24523));
    }
    SECTION("RDP, Modbus and NTP") {
        CHECK(find_pcap_flow(flows_of(dir + "rdp.pcap"), "172.16.2.185", "192.168.2.142", Protocol::tcp, 3389));
        CHECK(find_pcap_flow(flows_of(dir + "modbus.pcap"), "192.168.110.131", "192.168.110.138", Protocol::tcp, 502));
        CHECK(find_pcap_flow(flows_of(dir + "NTPv4.pcap"), "85.22.62.120", "78.46.76.11", Protocol::udp, 123));
    }
    SECTION("pcapng with VLAN tags: SNMP") {
        PcapSummary s;
        auto flows = flows_of(dir + "snmp.pcap", &s);
        CHECK(s.link_type == 1);
        auto* f = find_pcap_flow(flows, "10.99.8.88", "10.100.253.146", Protocol::udp, 161);  // nDPI: VLAN 1308
        REQUIRE(f);
        CHECK(f->record.established);
        // A lone packet from service port 161 to a client port (an SNMP response whose request
        // was not captured) keeps its sender as the initiator, as nDPI shows it: unanswered,
        // it is no evidence of the request.
        auto* response = find_pcap_flow(flows, "10.231.2.134", "10.72.247.4", Protocol::udp, 61088);
        REQUIRE(response);
        CHECK_FALSE(response->record.established);
        CHECK(find_pcap_flow(flows, "205.83.36.228", "160.174.106.32", Protocol::udp, 162));
    }
    SECTION("pcapng TFTP: the request to 69, then transfer on two ephemeral ports") {
        auto flows = flows_of(dir + "tftp.pcap");
        CHECK(find_pcap_flow(flows, "192.168.0.253", "192.168.0.10", Protocol::udp, 69));
        CHECK(find_pcap_flow(flows, "192.168.2.45", "192.168.2.200", Protocol::udp, 69));
        // The server answers from a new port: a flow of its own, first sender initiates (as nDPI shows it).
        CHECK(find_pcap_flow(flows, "192.168.0.10", "192.168.0.253", Protocol::udp, 50618));
    }
    SECTION("IPv6 syslog") {
        auto flows = flows_of(dir + "syslog.pcap");
        auto* f = find_pcap_flow(flows, "2001:470:6c:a1::2", "2001:470:765b::b15:22", Protocol::udp, 514);
        REQUIRE(f);
        CHECK_FALSE(f->record.established);
        CHECK(f->packets == 6);
    }
}

TEST_CASE("pcap: every nDPI flow is found, with listed exceptions", "[pcap]") {
    // nDPI prints the client first. Flows listed here by name are expected flipped (none
    // now: a lone reply from a service port keeps its sender as the initiator, as in nDPI).
    const std::set<std::string> flipped = {};
    // nDPI keys flows by VLAN as well; this connection was captured on VLAN 1506 and,
    // answers first, on VLAN 1906. Flows here are keyed by addresses and ports only, so
    // both are one connection, initiated by 10.186.117.194 (its first packet, VLAN 1506).
    const std::set<std::string> merged_across_vlans = {
        "syslog.pcap 169.46.82.162:52173 -> 10.186.117.194:49948",
    };
    std::regex line(R"(^\s+\d+\s+(TCP|UDP) \[?([0-9a-fA-F:.]+?)\]?:(\d+) (<->|->) \[?([0-9a-fA-F:.]+?)\]?:(\d+) )");
    size_t checked = 0;
    for (const auto& entry : fs::directory_iterator(kSharedData + "/pcap")) {
        if (entry.path().extension() != ".pcap") continue;
        std::ifstream in(entry.path().string() + ".ndpi.out");
        Aggregator agg;
        read_flow_file(entry.path(), agg);
        auto ours = tuples(agg);
        std::set<std::string> seen;
        for (std::string text; std::getline(in, text);) {
            std::smatch m;
            if (!std::regex_search(text, m, line)) continue;
            std::string id = entry.path().filename().string() + " " + m[2].str() + ":" + m[3].str() + " " + m[4].str() +
                             " " + m[5].str() + ":" + m[6].str();
            if (!seen.insert(id).second) continue;  // the flow list is printed twice
            std::string proto = m[1] == "TCP" ? "tcp" : "udp";
            EdgeTuple expected{m[2], m[5], proto, static_cast<uint16_t>(std::stoi(m[6]))};
            if (flipped.count(id) || merged_across_vlans.count(id)) expected = EdgeTuple{m[5], m[2], proto, static_cast<uint16_t>(std::stoi(m[3]))};
            INFO(id);
            CHECK(ours.count(expected) == 1);
            ++checked;
        }
    }
    CHECK(checked >= 30);
}

TEST_CASE("pcap: link types, VLAN and QinQ tags, IPv6 extension headers", "[pcap]") {
    TempDir tmp("pcap");
    auto syn = [](const char* a, const char* b, uint16_t sp, uint16_t dp) { return ipv4(a, b, 6, tcp(sp, dp, SYN)); };
    auto synack = [](const char* a, const char* b, uint16_t sp, uint16_t dp) {
        return ipv4(a, b, 6, tcp(sp, dp, SYN | ACK));
    };
    SECTION("Ethernet with 802.1Q, 802.1ad+802.1Q and 0x9100 tags") {
        auto file = write_pcap(tmp.path / "vlan.pcap", 1,
                               {{1.0, ethernet(0x0800, syn("10.0.0.1", "10.0.0.2", 40000, 443), {{0x8100, 110}})},
                                {1.1, ethernet(0x0800, synack("10.0.0.2", "10.0.0.1", 443, 40000),
                                               {{0x88a8, 5}, {0x8100, 110}})},
                                {1.15, ethernet(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 443, ACK)), {{0x8100, 110}})},
                                {1.2, ethernet(0x0800, syn("10.0.0.3", "10.0.0.4", 40001, 104), {{0x9100, 7}, {0x8100, 8}})},
                                {1.3, ethernet(0x0806, PacketBytes(28, 0))}});
        PcapSummary s;
        auto flows = flows_of(file, &s);
        auto* f = find_pcap_flow(flows, "10.0.0.1", "10.0.0.2", Protocol::tcp, 443);
        REQUIRE(f);
        CHECK(f->packets == 3);
        CHECK(f->record.established);
        CHECK(find_pcap_flow(flows, "10.0.0.3", "10.0.0.4", Protocol::tcp, 104));
        CHECK(s.read.rows == 5);
        CHECK(s.read.skipped.at("not IPv4 or IPv6") == 1);
    }
    SECTION("Linux cooked SLL and SLL2, raw IP (101) and DLT_IPV6 (229)") {
        auto f1 = write_pcap(tmp.path / "sll.pcap", 113, {{1, sll(0x0800, syn("10.1.0.1", "10.1.0.2", 50000, 2575))}});
        auto f2 = write_pcap(tmp.path / "sll2.pcap", 276, {{1, sll2(0x86DD, ipv6("fd00::1", "fd00::2", 17, udp(50000, 123, 48)))}});
        auto f3 = write_pcap(tmp.path / "raw.pcap", 101, {{1, ipv4("10.2.0.1", "10.2.0.2", 17, udp(50001, 53, 30))}});
        auto f4 = write_pcap(tmp.path / "ipv6.pcap", 229, {{1, ipv6("fd00::3", "fd00::4", 6, tcp(50002, 11112, SYN))}});
        CHECK(find_pcap_flow(flows_of(f1), "10.1.0.1", "10.1.0.2", Protocol::tcp, 2575));
        auto v6 = flows_of(f2);
        auto* ntp = find_pcap_flow(v6, "fd00::1", "fd00::2", Protocol::udp, 123);
        REQUIRE(ntp);
        CHECK(ntp->record.bytes == 48);
        CHECK(find_pcap_flow(flows_of(f3), "10.2.0.1", "10.2.0.2", Protocol::udp, 53));
        CHECK(find_pcap_flow(flows_of(f4), "fd00::3", "fd00::4", Protocol::tcp, 11112));
    }
    SECTION("an unsupported link type is an error naming the file") {
        auto file = write_pcap(tmp.path / "user.pcap", 147, {{1, PacketBytes(40, 0)}});
        CHECK_THROWS_WITH(flows_of(file), Catch::Contains("link type 147") && Catch::Contains("not supported"));
    }
}

TEST_CASE("pcap: tunnels are taken apart, the inner connection counts and the tunnel is no flow", "[pcap]") {
    TempDir tmp("pcap-tunnels");
    // One TCP handshake inside each tunnel: 10.9.0.5 -> 10.9.0.9 port 2575 (HL7), answered.
    auto handshake = [](auto wrap) {
        return std::vector<PacketBytes>{wrap(ipv4("10.9.0.5", "10.9.0.9", 6, tcp(40000, 2575, SYN)), true),
                                        wrap(ipv4("10.9.0.9", "10.9.0.5", 6, tcp(2575, 40000, SYN | ACK)), false),
                                        wrap(ipv4("10.9.0.5", "10.9.0.9", 6, tcp(40000, 2575, ACK)), true)};
    };
    auto inner_ethernet = [](const PacketBytes& ip) { return ethernet(0x0800, ip, {{0x8100, 110}}); };
    auto gre = [](uint16_t flags, uint16_t type, const PacketBytes& extra, const PacketBytes& body) {
        PacketBytes b;
        put16(b, flags);
        put16(b, type);
        if (flags & 0x8000) put32(b, 0);           // checksum + reserved
        if (flags & 0x2000) put32(b, 0x00000457);  // key
        if (flags & 0x1000) put32(b, 9);           // sequence number
        append(b, extra);
        append(b, body);
        return b;
    };
    auto over_gre = [](const PacketBytes& payload) { return ethernet(0x0800, ipv4("192.0.2.1", "192.0.2.2", 47, payload)); };
    auto over_udp = [](uint16_t sport, uint16_t dport, const PacketBytes& payload) {
        PacketBytes u = udp(sport, dport);
        append(u, payload);
        u[4] = static_cast<uint8_t>(u.size() >> 8);
        u[5] = static_cast<uint8_t>(u.size());
        return ethernet(0x0800, ipv4("192.0.2.1", "192.0.2.2", 17, u));
    };
    struct Case {
        const char* name;
        std::function<PacketBytes(const PacketBytes&, bool)> wrap;
    };
    PacketBytes erspan2(8, 0), erspan3(12, 0), erspan3_platform(20, 0);
    erspan2[0] = 0x10;              // version 1 (type II)
    erspan3[0] = 0x20;              // version 2 (type III)
    erspan3_platform[0] = 0x20;
    erspan3_platform[11] = 0x01;    // O: an 8-byte platform subheader follows
    const std::vector<Case> cases{
        {"GRE with IP", [&](const PacketBytes& ip, bool) { return over_gre(gre(0, 0x0800, {}, ip)); }},
        {"keyed GRE with checksum and sequence", [&](const PacketBytes& ip, bool) { return over_gre(gre(0xB000, 0x0800, {}, ip)); }},
        {"GRE bridging Ethernet", [&](const PacketBytes& ip, bool) { return over_gre(gre(0x2000, 0x6558, {}, inner_ethernet(ip))); }},
        {"ERSPAN type II", [&](const PacketBytes& ip, bool) { return over_gre(gre(0x1000, 0x88BE, erspan2, inner_ethernet(ip))); }},
        {"ERSPAN type III", [&](const PacketBytes& ip, bool) { return over_gre(gre(0x1000, 0x22EB, erspan3, inner_ethernet(ip))); }},
        {"ERSPAN type III with platform subheader",
         [&](const PacketBytes& ip, bool) { return over_gre(gre(0x1000, 0x22EB, erspan3_platform, inner_ethernet(ip))); }},
        {"VXLAN", [&](const PacketBytes& ip, bool) {
             PacketBytes h{0x08, 0, 0, 0, 0, 0x01, 0x10, 0};
             append(h, inner_ethernet(ip));
             return over_udp(51000, 4789, h);
         }},
        {"Geneve with an option", [&](const PacketBytes& ip, bool) {
             PacketBytes h{0x02, 0, 0x65, 0x58, 0, 0, 0x20, 0, 0x01, 0x02, 0x03, 0x01, 0, 0, 0, 0};
             append(h, inner_ethernet(ip));
             return over_udp(51001, 6081, h);
         }},
        {"GTP-U with an extension header", [&](const PacketBytes& ip, bool up) {
             PacketBytes h{0x34, 0xFF, 0, 0, 0, 0, 0, 0x2a, 0, 0, 0, 0x85, 0x01, 0x00, 0x09, 0x00};
             append(h, ip);
             return over_udp(up ? 40100 : 2152, 2152, h);
         }},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            std::vector<Frame> frames;
            double t = 1.0;
            for (const auto& f : handshake(c.wrap)) frames.push_back({t += 0.01, f});
            auto file = write_pcap(tmp.path / "tunnel.pcap", 1, frames);
            PcapSummary s;
            auto flows = flows_of(file, &s);
            REQUIRE(flows.size() == 1);  // the tunnel is the capture path, not a flow
            auto* f = find_pcap_flow(flows, "10.9.0.5", "10.9.0.9", Protocol::tcp, 2575);
            REQUIRE(f);
            CHECK(f->record.established);
            CHECK(f->packets == 3);
        }
    }
    SECTION("Teredo carries IPv6") {
        PacketBytes inner = ipv6("2001::1", "2001::2", 17, udp(50000, 123, 48));
        auto file = write_pcap(tmp.path / "teredo.pcap", 1, {{1.0, over_udp(3544, 40000, inner)}});
        auto flows = flows_of(file);
        REQUIRE(flows.size() == 1);
        CHECK(find_pcap_flow(flows, "2001::1", "2001::2", Protocol::udp, 123));
    }
    SECTION("AYIYA carries IPv6") {
        PacketBytes h{0x41, 0x52, 0x11, 41, 0, 0, 0, 0};  // 16-byte identity, 5 words of signature
        h.resize(8 + 16 + 20, 0);
        append(h, ipv6("2001::5", "2001::6", 6, tcp(40000, 443, SYN)));
        auto flows = flows_of(write_pcap(tmp.path / "ayiya.pcap", 1, {{1.0, over_udp(40000, 5072, h)}}));
        REQUIRE(flows.size() == 1);
        CHECK(find_pcap_flow(flows, "2001::5", "2001::6", Protocol::tcp, 443));
    }
    SECTION("VN-Tag and 802.1ah provider backbone frames") {
        PacketBytes vntag{0x80, 0x01, 0x00, 0x02};
        put16(vntag, 0x0800);
        append(vntag, ipv4("10.9.1.1", "10.9.1.2", 17, udp(50000, 161, 10)));
        PacketBytes pbb{0x00, 0x00, 0x01, 0x00};  // I-tag: service id 256
        pbb.resize(16, 0x04);                     // the customer's destination and source MACs
        put16(pbb, 0x0800);
        append(pbb, ipv4("10.9.2.1", "10.9.2.2", 17, udp(50000, 514, 10)));
        auto flows = flows_of(write_pcap(tmp.path / "tags.pcap", 1, {{1.0, ethernet(0x8926, vntag)}, {1.1, ethernet(0x88E7, pbb)}}));
        CHECK(find_pcap_flow(flows, "10.9.1.1", "10.9.1.2", Protocol::udp, 161));
        CHECK(find_pcap_flow(flows, "10.9.2.1", "10.9.2.2", Protocol::udp, 514));
    }
    SECTION("PPP, with and without the address and control field") {
        PacketBytes a{0xFF, 0x03, 0x00, 0x21}, b{0x00, 0x57};
        append(a, ipv4("10.9.3.1", "10.9.3.2", 6, tcp(40000, 104, SYN)));
        append(b, ipv6("fd00::31", "fd00::32", 6, tcp(40000, 104, SYN)));
        auto flows = flows_of(write_pcap(tmp.path / "ppp.pcap", 9, {{1.0, a}, {1.1, b}}));
        CHECK(find_pcap_flow(flows, "10.9.3.1", "10.9.3.2", Protocol::tcp, 104));
        CHECK(find_pcap_flow(flows, "fd00::31", "fd00::32", Protocol::tcp, 104));
    }
    SECTION("802.11 data frames with radiotap: QoS data read, protected and management frames skipped") {
        auto wifi = [](uint8_t fc0, uint8_t fc1, const PacketBytes& ip) {
            PacketBytes f{0x00, 0x00, 0x08, 0x00, 0, 0, 0, 0};  // radiotap: version 0, 8 bytes, no fields
            f.push_back(fc0);
            f.push_back(fc1);
            f.resize(f.size() + 22, 0x06);             // duration, three addresses, sequence control
            if ((fc0 >> 4) & 0x8) f.insert(f.end(), {0x00, 0x00});  // QoS control
            f.insert(f.end(), {0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00});
            append(f, ip);
            return f;
        };
        PacketBytes beacon(40, 0);
        beacon[2] = 8;
        beacon[8] = 0x80;  // management: beacon
        auto flows = flows_of(write_pcap(tmp.path / "wifi.pcap", 127,
                                         {{1.0, wifi(0x88, 0x01, ipv4("10.9.4.1", "10.9.4.2", 17, udp(50000, 2575, 10)))},  // QoS data to the AP
                                          {1.1, wifi(0x08, 0x02, ipv4("10.9.4.2", "10.9.4.1", 17, udp(2575, 50000, 10)))},  // data from the AP
                                          {1.2, wifi(0x08, 0x41, ipv4("10.9.4.3", "10.9.4.4", 17, udp(50000, 80, 10)))},    // protected
                                          {1.3, beacon}}));
        auto* f = find_pcap_flow(flows, "10.9.4.1", "10.9.4.2", Protocol::udp, 2575);
        REQUIRE(f);
        CHECK(f->record.established);  // the answer came back through the access point
        CHECK_FALSE(find_pcap_flow(flows, "10.9.4.3", "10.9.4.4", Protocol::udp, 80));
    }
    SECTION("a datagram on a tunnel's port that is no tunnel stays a UDP flow, and so does plain GRE noise") {
        auto file = write_pcap(tmp.path / "noise.pcap", 1,
                               {{1.0, over_udp(51000, 4789, PacketBytes(16, 0))},        // no VXLAN I flag
                                {1.1, over_gre(gre(0x0001, 0x880B, {}, PacketBytes(16, 0)))}});  // PPTP's GRE version 1
        auto flows = flows_of(file);
        CHECK(find_pcap_flow(flows, "192.0.2.1", "192.0.2.2", Protocol::udp, 4789));
        CHECK(find_pcap_flow(flows, "192.0.2.1", "192.0.2.2", Protocol::gre, 0));
    }
}

TEST_CASE("pcap: fragments carry ports only in the first, and the rest join its flow", "[pcap]") {
    TempDir tmp("pcap");
    PacketBytes datagram = udp(50000, 514, 1400);  // 1408 bytes of UDP, sent as 2 fragments
    PacketBytes first(datagram.begin(), datagram.begin() + 1000), rest(datagram.begin() + 1000, datagram.end());
    auto file = write_pcap(tmp.path / "frag.pcap", 101,
                           {{1.0, ipv4("10.3.0.1", "10.3.0.2", 17, first, 99, 0x2000)},
                            {1.0, ipv4("10.3.0.1", "10.3.0.2", 17, rest, 99, 1000 / 8)},
                            {1.1, ipv4("10.3.0.5", "10.3.0.2", 17, rest, 55, 1000 / 8)},  // first never seen
                            {1.2, ipv6("fd00::1", "fd00::2", 17, PacketBytes(datagram.begin(), datagram.begin() + 800), 0, true)},
                            {1.2, ipv6("fd00::1", "fd00::2", 17, PacketBytes(datagram.begin() + 800, datagram.end()), 100, false)}});
    PcapSummary s;
    auto flows = flows_of(file, &s);
    auto* v4 = find_pcap_flow(flows, "10.3.0.1", "10.3.0.2", Protocol::udp, 514);
    REQUIRE(v4);
    CHECK(v4->packets == 2);
    CHECK(v4->record.bytes == 1400);
    auto* v6 = find_pcap_flow(flows, "fd00::1", "fd00::2", Protocol::udp, 514);
    REQUIRE(v6);
    CHECK(v6->packets == 2);
    CHECK(v6->record.bytes == 1400);
    CHECK(s.read.skipped.at("IP fragment whose first fragment was not captured") == 1);
    CHECK(flows.size() == 2);
}

TEST_CASE("pcap: TCP without a handshake and UDP direction heuristics", "[pcap]") {
    TempDir tmp("pcap");
    auto file = write_pcap(
        tmp.path / "heuristics.pcap", 101,
        {
            // Midstream: data from the server's port 2575 first; the port names the responder.
            {1.0, ipv4("10.4.0.2", "10.4.0.1", 6, tcp(2575, 51000, ACK | PSH, 100))},
            {1.1, ipv4("10.4.0.1", "10.4.0.2", 6, tcp(51000, 2575, ACK, 10))},
            // Midstream between two unknown registered ports: the first packet's sender initiates.
            {1.2, ipv4("10.4.0.3", "10.4.0.4", 6, tcp(30001, 30002, ACK))},
            // UDP: a reply from 53 to a client port flips once the client speaks too; a lone one
            // does not; between two service ports it does not.
            {1.3, ipv4("10.4.0.53", "10.4.0.9", 17, udp(53, 40000, 60))},
            {1.35, ipv4("10.4.0.9", "10.4.0.53", 17, udp(40000, 53, 30))},
            {1.38, ipv4("10.4.0.54", "10.4.0.9", 17, udp(53, 40001, 60))},
            {1.4, ipv4("10.4.0.7", "10.4.0.8", 17, udp(123, 123, 48))},
            // UDP from a service port to a multicast group never flips.
            {1.5, ipv4("10.4.0.10", "239.1.1.1", 17, udp(5353, 40000, 20))},
        });
    PcapSummary s;
    auto flows = flows_of(file, &s);
    auto* hl7 = find_pcap_flow(flows, "10.4.0.1", "10.4.0.2", Protocol::tcp, 2575);
    REQUIRE(hl7);
    CHECK(hl7->handshake_missing);
    CHECK(hl7->direction == DirectionSource::ports);
    CHECK_FALSE(hl7->record.established);  // data both ways, but no handshake: Zeek's OTH
    CHECK(hl7->record.bytes == 110);
    auto* unknown = find_pcap_flow(flows, "10.4.0.3", "10.4.0.4", Protocol::tcp, 30002);
    REQUIRE(unknown);
    CHECK(unknown->direction == DirectionSource::first_packet);
    CHECK_FALSE(unknown->record.established);
    CHECK(find_pcap_flow(flows, "10.4.0.9", "10.4.0.53", Protocol::udp, 53));
    CHECK(find_pcap_flow(flows, "10.4.0.54", "10.4.0.9", Protocol::udp, 40001));
    CHECK(find_pcap_flow(flows, "10.4.0.7", "10.4.0.8", Protocol::udp, 123));
    CHECK(find_pcap_flow(flows, "10.4.0.10", "239.1.1.1", Protocol::udp, 40000));
    CHECK(s.tcp_without_handshake == 2);
    CHECK(s.udp_flipped == 1);

    CHECK(responder_by_ports(51000, 2575) == 1);
    CHECK(responder_by_ports(20, 1023) == 0);
    CHECK(responder_by_ports(40000, 50000) == 0);  // registered answers dynamic
    CHECK(responder_by_ports(30001, 30002) == -1);
    CHECK_FALSE(is_service_port(68));
    CHECK(is_service_port(67));
    CHECK(is_service_port(47808));
}

TEST_CASE("pcap: connection tracking ends flows on FIN, RST and idle timeouts", "[pcap]") {
    TempDir tmp("pcap");
    auto a = "10.5.0.1", b = "10.5.0.2";
    auto file = write_pcap(
        tmp.path / "track.pcap", 101,
        {
            {0.0, ipv4(a, b, 6, tcp(40000, 443, SYN))},
            {0.1, ipv4(b, a, 6, tcp(443, 40000, SYN | ACK))},
            {0.2, ipv4(a, b, 6, tcp(40000, 443, FIN | ACK))},
            {0.3, ipv4(b, a, 6, tcp(443, 40000, FIN | ACK))},
            {0.4, ipv4(a, b, 6, tcp(40000, 443, ACK))},  // late ACK: still the same connection
            {1.0, ipv4(a, b, 6, tcp(40000, 443, SYN))},  // the port pair reused: a new connection
            {1.1, ipv4(b, a, 6, tcp(443, 40000, RST | ACK))},
            {2.0, ipv4(a, b, 17, udp(40001, 514, 10))},
            {200.0, ipv4(a, b, 17, udp(40001, 514, 10))},  // after the 60 s UDP timeout: a second flow
        });
    PcapSummary s;
    auto flows = flows_of(file, &s);
    REQUIRE(flows.size() == 4);
    std::sort(flows.begin(), flows.end(), [](const PcapFlow& x, const PcapFlow& y) { return x.record.start < y.record.start; });
    auto* first = &flows[0];
    CHECK(first->record.responder_port == 443);
    CHECK(first->packets == 5);
    CHECK(first->record.established);
    CHECK(first->record.duration == Approx(0.4));
    CHECK(flows[1].packets == 2);
    CHECK_FALSE(flows[1].record.established);  // refused with RST
    CHECK(flows[2].record.start == Approx(2.0));
    CHECK(flows[3].record.start == Approx(200.0));
    CHECK(s.read.accepted == 4);

    SECTION("memory is bounded: a full table ends its least recently active flow early") {
        PcapOptions tight;
        tight.max_flows = 1;
        PcapSummary bounded;
        auto few = flows_of(file, &bounded, tight);
        CHECK(bounded.peak_flows == 1);
        CHECK(bounded.ended_early >= 1);
    }
}

TEST_CASE("pcap: truncated and corrupt captures keep what was read and say where it broke", "[pcap]") {
    TempDir tmp("pcap");
    std::vector<Frame> frames;
    for (int i = 0; i < 10; ++i)
        frames.push_back({1.0 + i, ipv4("10.6.0.1", "10.6.0.2", 17, udp(static_cast<uint16_t>(40000 + i), 161, 50))});
    auto whole = write_pcap(tmp.path / "whole.pcap", 101, frames);
    std::string bytes;
    {
        std::ifstream in(whole, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        bytes = s.str();
    }
    const size_t record = 16 + frames[0].data.size();
    SECTION("cut inside the 8th packet") {
        fs::path cut = tmp.path / "cut.pcap";
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, 24 + 7 * record + 30);
        PcapSummary s;
        auto flows = flows_of(cut.string(), &s);
        CHECK(flows.size() == 7);
        REQUIRE(s.stopped);
        CHECK(s.stopped->file == cut.string());
        CHECK_THAT(s.stopped->message, Catch::StartsWith("capture truncated or corrupt at packet 8, byte offset " +
                                                          std::to_string(24 + 7 * record)));
        CHECK(s.read.rows == 7);
        // Through read_flow_file the damage is a warning, with its location.
        Aggregator agg;
        auto summary = read_flow_file(cut, agg);
        CHECK(agg.records() == 7);
        REQUIRE(summary.warnings.size() == 1);
        CHECK_THAT(summary.warnings[0], Catch::Contains("packet 8, byte offset") &&
                                            Catch::EndsWith("only the packets before it were read"));
    }
    SECTION("a corrupt record length") {
        std::string bad = bytes;
        uint32_t huge = 0x7FFFFFFF;
        std::memcpy(&bad[24 + 3 * record + 8], &huge, 4);  // caplen of the 4th record
        fs::path file = tmp.path / "corrupt.pcap";
        std::ofstream(file, std::ios::binary) << bad;
        PcapSummary s;
        auto flows = flows_of(file.string(), &s);
        CHECK(flows.size() == 3);
        REQUIRE(s.stopped);
        CHECK_THAT(s.stopped->message, Catch::Contains("packet 4"));
    }
    SECTION("a header only, and garbage after the magic") {
        fs::path empty = tmp.path / "empty.pcap";
        std::ofstream(empty, std::ios::binary) << bytes.substr(0, 24);
        PcapSummary s;
        CHECK(flows_of(empty.string(), &s).empty());
        CHECK_FALSE(s.stopped);
        fs::path garbage = tmp.path / "garbage.pcap";
        std::ofstream(garbage, std::ios::binary) << bytes.substr(0, 10);
        CHECK_THROWS_AS(flows_of(garbage.string()), InputError);
        CHECK(detect_flow_format(garbage) == FlowFormat::pcap);
    }
}
