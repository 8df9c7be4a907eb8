#include <catch2/catch.hpp>

#include <random>

#include "support/ip_address.hpp"
#include "support/netflow_packets.hpp"
#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/netflow.hpp"

using namespace wardgate;
using namespace wardgate::netflow;
using wardgate::testing::Bytes;
using wardgate::testing::ip;
using wardgate::testing::Message;
using wardgate::testing::V5Record;

namespace {

Exporter exporter(const char* address = "192.0.2.10", uint16_t port = 40000) { return {ip(address), port}; }

std::vector<NetflowRecord> decode(Decoder& d, const std::vector<uint8_t>& packet, const Exporter& from = exporter()) {
    auto records = d.decode(from, packet.data(), packet.size());
    return {records.begin(), records.end()};
}

uint64_t malformed(const Decoder& d, const char* reason) {
    auto it = d.counters().malformed.find(reason);
    return it == d.counters().malformed.end() ? 0 : it->second;
}

// The only malformation the decoder kept: its reason and byte offset.
std::pair<std::string, size_t> only_malformation(const Decoder& d) {
    auto all = d.malformations();
    REQUIRE(all.size() == 1);
    return {all[0].reason, all[0].offset};
}

}  // namespace

TEST_CASE("NetFlow v5 records become connections with the initiator decided", "[netflow]") {
    Decoder d;
    std::vector<V5Record> records = {
        {"10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x1b, 10, 5000, 90000, 95000},  // client to server
        {"10.0.1.9", "10.0.0.5", 443, 51000, 6, 0x1b, 8, 9000, 90001, 95000},   // its reply direction
        {"10.0.0.7", "10.0.1.9", 443, 51001, 6, 0x02, 1, 60, 99000, 99000},     // a lone SYN from port 443
        {"10.0.2.2", "10.0.0.5", 53, 40000, 17, 0, 1, 90, 99000, 99000},        // a DNS answer
        {"10.0.2.2", "10.0.0.5", 0, 0x0000, 1, 0, 1, 84, 99000, 99000},         // ICMP echo reply
        {"10.0.0.5", "10.0.2.2", 0, 0x0800, 1, 0, 1, 84, 99000, 99000},         // ICMP echo request
        {"10.0.3.3", "224.0.0.251", 53, 40000, 17, 0, 1, 90, 99000, 99000},     // to a group: never flipped
        {"10.0.0.5", "10.0.1.9", 0, 0, 47, 0, 1, 90, 99000, 99000},             // GRE
        {"10.0.0.5", "10.0.1.9", 0, 0, 44, 0, 1, 90, 99000, 99000},             // an IPv6 fragment header: no protocol
    };
    auto got = decode(d, wardgate::testing::v5_packet(1000, records, 100000, 1700000000));
    REQUIRE(got.size() == 8);
    CHECK(d.counters().skipped.at("not a transport protocol (IPv6 extension header or reserved number)") == 1);
    CHECK(got[7].flow.protocol == Protocol::gre);
    CHECK(got[7].flow.responder_port == 0);
    // The echo request keeps its message (type 8, code 0) where TCP keeps a port.
    CHECK(got[5].flow.responder_port == icmp_port(8, 0));

    const auto& client = got[0];
    CHECK(client.version == 5);
    CHECK(client.source == ip("10.0.0.5"));
    CHECK(client.packets == 10);
    CHECK(client.bytes == 5000);
    CHECK(client.tcp_flags == 0x1b);
    CHECK(client.start == Approx(1699999990.0));
    CHECK(client.end == Approx(1699999995.0));
    CHECK(client.direction == DirectionSource::ports);
    CHECK_FALSE(client.reply_direction);
    CHECK(client.flow.initiator == ip("10.0.0.5"));
    CHECK(client.flow.responder == ip("10.0.1.9"));
    CHECK(client.flow.protocol == Protocol::tcp);
    CHECK(client.flow.responder_port == 443);
    CHECK(client.flow.connections == 1);
    CHECK_FALSE(client.flow.established);
    CHECK(client.flow.duration == Approx(5.0));

    const auto& reply = got[1];
    CHECK(reply.reply_direction);
    CHECK(reply.flow.initiator == ip("10.0.0.5"));
    CHECK(reply.flow.responder == ip("10.0.1.9"));
    CHECK(reply.flow.responder_port == 443);
    CHECK(reply.flow.connections == 0);
    CHECK(reply.flow.established);

    CHECK(got[2].direction == DirectionSource::handshake);
    CHECK(got[2].flow.initiator == ip("10.0.0.7"));
    CHECK(got[2].flow.responder_port == 51001);

    CHECK(got[3].flow.initiator == ip("10.0.0.5"));
    CHECK(got[3].flow.protocol == Protocol::udp);
    CHECK(got[3].flow.responder_port == 53);

    CHECK(got[4].flow.initiator == ip("10.0.0.5"));  // the reply names the other side
    CHECK(got[4].flow.protocol == Protocol::icmp);
    CHECK(got[4].flow.responder_port == 0);
    CHECK(got[5].flow.initiator == ip("10.0.0.5"));

    CHECK(got[6].flow.initiator == ip("10.0.3.3"));
    CHECK(got[6].direction == DirectionSource::first_packet);

    // Both directions of the connection fold into one edge counted once.
    Aggregator agg;
    agg.add(got[0].flow);
    agg.add(got[1].flow);
    auto edges = agg.edges();
    REQUIRE(edges.size() == 1);
    CHECK(edges[0].stats.connections == 1);
    CHECK(edges[0].stats.bytes == 14000);
    CHECK(edges[0].stats.established);
}

TEST_CASE("NetFlow v5 sequence gaps count lost records and the header sampling interval is reported", "[netflow]") {
    Decoder d;
    V5Record r{"10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x10};
    decode(d, wardgate::testing::v5_packet(1000, {r, r, r}, 100000, 1700000000, 0x4064));
    CHECK(d.counters().lost_records == 0);
    decode(d, wardgate::testing::v5_packet(1003, {r}));
    CHECK(d.counters().lost_records == 0);
    decode(d, wardgate::testing::v5_packet(1010, {r, r}));
    CHECK(d.counters().lost_records == 6);
    // Another engine keeps its own sequence.
    decode(d, wardgate::testing::v5_packet(5, {r}, 100000, 1700000000, 0, -1, 1, 2));
    CHECK(d.counters().lost_records == 6);
    CHECK(d.counters().sequence_resets == 0);
    decode(d, wardgate::testing::v5_packet(7, {r}));  // engine 0 went back: a restart
    CHECK(d.counters().sequence_resets == 1);
    CHECK(d.counters().lost_records == 6);

    auto sampling = d.sampling();
    REQUIRE(sampling.size() == 1);
    CHECK(sampling[0].interval == 100);
    CHECK(sampling[0].version == 5);
    CHECK(sampling[0].exporter == "192.0.2.10");
    CHECK(sampling[0].origin == "v5 header");
}

TEST_CASE("Malformed NetFlow v5 and unknown versions are counted with their offset", "[netflow]") {
    V5Record r{"10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x10};
    SECTION("a record count beyond the datagram keeps the complete records") {
        Decoder d;
        auto got = decode(d, wardgate::testing::v5_packet(1, {r, r}, 100000, 1700000000, 0, 5));
        CHECK(got.size() == 2);
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kV5CountOverrun, 24 + 2 * 48});
        CHECK(d.counters().malformed_packets == 1);
    }
    SECTION("a short header") {
        Decoder d;
        auto packet = wardgate::testing::v5_packet(1, {});
        packet.resize(20);
        CHECK(decode(d, packet).empty());
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kShortHeader, 20});
        CHECK(d.malformations()[0].exporter == "192.0.2.10:40000");
        CHECK(d.malformations()[0].version == 5);
    }
    SECTION("one byte, nothing, and an unknown version") {
        Decoder d;
        std::vector<uint8_t> one = {5};
        decode(d, one);
        d.decode(exporter(), nullptr, 0);
        decode(d, std::vector<uint8_t>{0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        CHECK(malformed(d, kShortHeader) == 2);
        CHECK(malformed(d, kUnknownVersion) == 1);
        CHECK(d.counters().malformed_packets == 3);
        CHECK(d.malformations().back().offset == 0);
        CHECK(d.malformations().back().version == 0);
    }
}

namespace {

Message v9_with_templates(uint32_t sequence, uint32_t source_id) {
    Message m(9, sequence, source_id, 1700000000, 100000);
    m.begin_set(0)
        .template_record(256, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}})
        .template_record(257, {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 8}})
        .end_set();
    return m;
}

void v4_record(Message& m, const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t proto,
               uint8_t flags, uint32_t packets, uint32_t bytes, uint32_t first, uint32_t last) {
    m.p.ip4(src).ip4(dst).u16(sport).u16(dport).u8(proto).u8(flags).u32(packets).u32(bytes).u32(first).u32(last);
}

}  // namespace

TEST_CASE("NetFlow v9 templates and data, IPv4 and IPv6, per exporter and source id", "[netflow]") {
    Decoder d;
    Message m = v9_with_templates(10, 7);
    m.begin_set(256);
    v4_record(m, "10.0.0.7", "10.0.1.9", 443, 51001, 6, 0x02, 3, 180, 98000, 99000);  // SYN only from port 443
    m.p.zeros(2);  // padding shorter than a record
    m.end_set();
    m.begin_set(257);
    m.p.ip6("2001:db8::5").ip6("2001:db8::9").u16(40000).u16(53).u8(17).u64(80).u64(1);
    m.end_set();
    auto got = decode(d, m.finish(4));
    REQUIRE(got.size() == 2);
    CHECK(d.counters().templates == 2);
    CHECK(got[0].version == 9);
    CHECK(got[0].domain == 7);
    CHECK(got[0].flow.initiator == ip("10.0.0.7"));
    CHECK(got[0].flow.responder == ip("10.0.1.9"));
    CHECK(got[0].flow.responder_port == 51001);
    CHECK(got[0].direction == DirectionSource::handshake);
    CHECK(got[0].packets == 3);
    CHECK(got[0].bytes == 180);
    CHECK(got[0].start == Approx(1699999998.0));
    CHECK(got[0].end == Approx(1699999999.0));
    CHECK(got[1].flow.initiator == ip("2001:db8::5"));
    CHECK(got[1].flow.responder == ip("2001:db8::9"));
    CHECK(got[1].flow.protocol == Protocol::udp);
    CHECK(got[1].flow.responder_port == 53);
    CHECK(got[1].bytes == 80);
    CHECK(got[1].start == Approx(1700000000.0));  // no times exported: the export time
    CHECK(malformed(d, kSetLength) == 0);
    CHECK(d.counters().malformed_packets == 0);

    SECTION("a data set before its template is held and decoded when the template comes") {
        Message data(9, 11, 7);
        data.begin_set(258);
        data.p.ip4("10.0.0.1").ip4("10.0.0.2").u16(2575);
        data.end_set();
        CHECK(decode(d, data.finish(1)).empty());
        CHECK(d.counters().unknown_template_sets == 1);
        Message tmpl(9, 12, 7);
        tmpl.begin_set(0).template_record(258, {{8, 4}, {12, 4}, {11, 2}}).end_set();
        auto later = decode(d, tmpl.finish(1));
        REQUIRE(later.size() == 0);  // no protocol: not a flow, but read
        CHECK(d.counters().held_sets_decoded == 1);
        CHECK(d.counters().skipped.at("not a transport protocol (IPv6 extension header or reserved number)") == 1);
        CHECK(d.counters().lost_packets == 0);
        Message gap(9, 15, 7);
        decode(d, gap.finish());
        CHECK(d.counters().lost_packets == 2);
    }
    SECTION("templates belong to one source id of one exporter") {
        Message other_id(9, 1, 8);
        other_id.begin_set(256);
        v4_record(other_id, "10.0.0.7", "10.0.1.9", 443, 51001, 6, 0x02, 3, 180, 98000, 99000);
        other_id.end_set();
        CHECK(decode(d, other_id.finish(1)).empty());
        Message same_id(9, 1, 7);
        same_id.begin_set(256);
        v4_record(same_id, "10.0.0.7", "10.0.1.9", 443, 51001, 6, 0x02, 3, 180, 98000, 99000);
        same_id.end_set();
        CHECK(decode(d, same_id.finish(1), exporter("192.0.2.11")).empty());
        CHECK(d.counters().unknown_template_sets == 2);
        CHECK(decode(d, same_id.finish(1), exporter("192.0.2.10", 1234)).size() == 1);  // another port, same exporter
    }
    SECTION("a re-sent template replaces the old one") {
        Message again(9, 11, 7);
        again.begin_set(0).template_record(256, {{12, 4}, {8, 4}, {11, 2}, {7, 2}, {4, 1}, {1, 4}}).end_set();
        again.begin_set(256);
        again.p.ip4("10.9.9.9").ip4("10.8.8.8").u16(8080).u16(50123).u8(6).u32(77);
        again.end_set();
        auto got2 = decode(d, again.finish(2));
        REQUIRE(got2.size() == 1);
        CHECK(got2[0].source == ip("10.8.8.8"));
        CHECK(got2[0].destination == ip("10.9.9.9"));
        CHECK(got2[0].destination_port == 8080);
        CHECK(got2[0].bytes == 77);
        CHECK(got2[0].flow.responder == ip("10.9.9.9"));
        CHECK(d.counters().templates == 3);
    }
    SECTION("options data reports the sampling interval; scope fields are not flow fields") {
        Message opt(9, 11, 7);
        opt.begin_set(1).options_template(300, {{1, 4}}, {{34, 4}, {35, 1}});
        opt.p.zeros(2);  // padding to four bytes
        opt.end_set();
        opt.begin_set(300);
        opt.p.u32(0x0a000001).u32(64).u8(2);
        opt.p.zeros(3);
        opt.end_set();
        CHECK(decode(d, opt.finish(2)).empty());
        CHECK(d.counters().options_records == 1);
        CHECK(d.counters().malformed_packets == 0);
        auto sampling = d.sampling();
        REQUIRE(sampling.size() == 1);
        CHECK(sampling[0].interval == 64);
        CHECK(sampling[0].version == 9);
        CHECK(sampling[0].domain == 7);
        CHECK(sampling[0].origin == "IE 34 samplingInterval");
    }
}

TEST_CASE("Malformed NetFlow v9 is counted by reason and offset, and the decoder goes on", "[netflow]") {
    Decoder d;
    SECTION("a zero-length template field") {
        Message m(9, 1, 1);
        m.begin_set(0).template_record(256, {{8, 4}, {12, 0}}).end_set();
        decode(d, m.finish(1));
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kZeroLengthField, 32});
    }
    SECTION("a variable-length field") {
        Message m(9, 1, 1);
        m.begin_set(0).template_record(256, {{8, 65535}}).end_set();
        decode(d, m.finish(1));
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kVariableLengthV9, 28});
    }
    SECTION("a template with more fields than its set holds") {
        Message m(9, 1, 1);
        m.begin_set(0);
        m.p.u16(256).u16(5).u16(8).u16(4).u16(12).u16(4);
        m.end_set();
        decode(d, m.finish(1));
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kTemplateOverrun, 36});
    }
    SECTION("a template id of a set") {
        Message m(9, 1, 1);
        m.begin_set(0).template_record(5, {{8, 4}}).end_set();
        decode(d, m.finish(1));
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kTemplateId, 24});
    }
    SECTION("options template lengths that are not whole fields") {
        Message m(9, 1, 1);
        m.begin_set(1);
        m.p.u16(300).u16(6).u16(4).u16(1).u16(4).u16(34).u16(4);
        m.end_set();
        decode(d, m.finish(1));
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kOptionsLength, 24});
    }
    SECTION("forged set lengths: the sets before them are kept") {
        Message m = v9_with_templates(1, 1);
        m.begin_set(256);
        v4_record(m, "10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x10, 1, 60, 99000, 99000);
        m.end_set();
        const size_t forged_at = m.p.size();
        m.p.u16(256).u16(1000).zeros(8);
        auto got = decode(d, m.finish(3));
        CHECK(got.size() == 1);
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kSetLength, forged_at + 2});

        Message tiny(9, 2, 1);
        tiny.p.u16(256).u16(2).zeros(4);
        decode(d, tiny.finish());
        CHECK(malformed(d, kSetLength) == 2);
        CHECK(d.counters().malformed_packets == 2);
    }
    SECTION("a short header") {
        Message m(9, 1, 1);
        auto packet = m.finish();
        packet.resize(19);
        decode(d, packet);
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kShortHeader, 19});
    }
}

namespace {

constexpr uint32_t kReverse = 29305;
constexpr uint32_t kCisco = 9;

Message ipfix_biflow_template(uint32_t sequence) {
    Message m(10, sequence, 42, 1700000100);
    m.begin_set(2)
        .template_record(400, {{8, 4},
                               {12, 4},
                               {7, 2},
                               {11, 2},
                               {4, 1},
                               {1, 8},
                               {2, 8},
                               {6, 2},
                               {1, 8, kReverse},
                               {2, 8, kReverse},
                               {6, 2, kReverse},
                               {152, 8},
                               {153, 8},
                               {82, 65535},
                               {100, 4, kCisco}})
        .end_set();
    return m;
}

void biflow_record(Message& m, const char* src, const char* dst, uint16_t sport, uint16_t dport, uint64_t bytes,
                   uint64_t packets, uint16_t flags, uint64_t rbytes, uint64_t rpackets, uint16_t rflags,
                   const std::string& interface) {
    m.p.ip4(src).ip4(dst).u16(sport).u16(dport).u8(6).u64(bytes).u64(packets).u16(flags);
    m.p.u64(rbytes).u64(rpackets).u16(rflags).u64(1700000000000ULL).u64(1700000005500ULL);
    if (interface.size() < 255)
        m.p.u8(interface.size());
    else
        m.p.u8(255).u16(interface.size());
    for (char c : interface) m.p.u8(static_cast<uint8_t>(c));
    m.p.u32(0xdeadbeef);
}

}  // namespace

TEST_CASE("IPFIX biflows, enterprise and variable-length fields, sequence by records", "[netflow]") {
    Decoder d;
    Message m = ipfix_biflow_template(0);
    m.begin_set(400);
    biflow_record(m, "10.1.0.5", "10.1.0.9", 50000, 2575, 1000, 10, 0x1a, 3000, 8, 0x12, "eth0");
    biflow_record(m, "10.1.0.9", "10.1.0.6", 2575, 50001, 500, 5, 0x12, 700, 6, 0x02, std::string(300, 'x'));
    m.end_set();
    auto got = decode(d, m.finish());
    REQUIRE(got.size() == 2);
    CHECK(d.counters().malformed_packets == 0);

    const auto& a = got[0];
    CHECK(a.version == 10);
    CHECK(a.domain == 42);
    CHECK(a.biflow);
    CHECK(a.bytes == 1000);
    CHECK(a.packets == 10);
    CHECK(a.reverse_bytes == 3000);
    CHECK(a.reverse_packets == 8);
    CHECK(a.tcp_flags == 0x1a);
    CHECK(a.reverse_tcp_flags == 0x12);
    CHECK(a.start == Approx(1700000000.0));
    CHECK(a.end == Approx(1700000005.5));
    CHECK(a.flow.initiator == ip("10.1.0.5"));
    CHECK(a.flow.responder_port == 2575);
    CHECK(a.flow.bytes == 4000);
    CHECK(a.flow.established);
    CHECK(a.flow.connections == 1);
    CHECK(a.direction == DirectionSource::ports);

    // The reverse direction sent the lone SYN: the exporter's destination initiated.
    const auto& b = got[1];
    CHECK(b.direction == DirectionSource::handshake);
    CHECK(b.reply_direction);
    CHECK(b.flow.initiator == ip("10.1.0.6"));
    CHECK(b.flow.responder == ip("10.1.0.9"));
    CHECK(b.flow.responder_port == 2575);
    CHECK(b.flow.connections == 1);
    CHECK(b.flow.bytes == 1200);

    SECTION("sequence numbers count data records") {
        Message next(10, 2, 42, 1700000101);
        next.begin_set(400);
        biflow_record(next, "10.1.0.5", "10.1.0.9", 50002, 2575, 1, 1, 0x10, 1, 1, 0x10, "");
        next.end_set();
        CHECK(decode(d, next.finish()).size() == 1);
        CHECK(d.counters().lost_records == 0);
        Message late(10, 10, 42, 1700000102);
        decode(d, late.finish());
        CHECK(d.counters().lost_records == 7);
    }
    SECTION("template withdrawal, one and all") {
        Message w(10, 2, 42, 1700000101);
        w.begin_set(2).template_record(400, {}).end_set();
        w.begin_set(400);
        biflow_record(w, "10.1.0.5", "10.1.0.9", 50002, 2575, 1, 1, 0x10, 1, 1, 0x10, "");
        w.end_set();
        CHECK(decode(d, w.finish()).empty());
        CHECK(d.counters().template_withdrawals == 1);
        CHECK(d.counters().unknown_template_sets == 1);

        Message opt(10, 2, 42, 1700000101);
        opt.begin_set(3).options_template(500, {{149, 4}}, {{305, 4}, {306, 4}}).end_set();
        opt.begin_set(2).template_record(401, {{8, 4}, {12, 4}, {4, 1}}).end_set();
        opt.begin_set(2).template_record(2, {}).end_set();  // withdraws every template, not options templates
        opt.begin_set(401);
        opt.p.ip4("10.0.0.1").ip4("10.0.0.2").u8(17);
        opt.end_set();
        opt.begin_set(500);
        opt.p.u32(42).u32(1).u32(9);
        opt.end_set();
        CHECK(decode(d, opt.finish()).empty());
        CHECK(d.counters().template_withdrawals == 2);
        CHECK(d.counters().unknown_template_sets == 2);
        CHECK(d.counters().options_records == 1);
        auto sampling = d.sampling();
        REQUIRE(sampling.size() == 1);
        CHECK(sampling[0].interval == 10);
        CHECK(sampling[0].origin == "IE 305/306 packet interval/space");
    }
}

TEST_CASE("IPFIX uptime times are relative to the system init time from options data", "[netflow]") {
    Decoder d;
    Message m(10, 0, 1, 1700000100);
    m.begin_set(3).options_template(500, {{149, 4}}, {{160, 8}}).end_set();
    m.begin_set(2).template_record(401, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {22, 4}, {21, 4}}).end_set();
    m.begin_set(500);
    m.p.u32(1).u64(1699990000000ULL);
    m.end_set();
    m.begin_set(401);
    m.p.ip4("10.0.0.9").ip4("10.0.0.5").u16(123).u16(123).u8(17).u32(5000).u32(7000);
    m.end_set();
    auto got = decode(d, m.finish());
    REQUIRE(got.size() == 1);
    CHECK(got[0].start == Approx(1699990005.0));
    CHECK(got[0].end == Approx(1699990007.0));
    CHECK(got[0].flow.initiator == ip("10.0.0.9"));  // the ports do not tell: the exporter's source
    CHECK(got[0].direction == DirectionSource::first_packet);
    CHECK(d.counters().lost_records == 0);
}

TEST_CASE("Malformed IPFIX is counted by reason and offset", "[netflow]") {
    Decoder d;
    SECTION("a message length beyond the datagram") {
        Message m(10, 0, 1);
        auto packet = m.finish();
        packet[3] = 200;
        decode(d, packet);
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kMessageLength, 2});
    }
    SECTION("bytes after the message are not read") {
        Message m(10, 0, 1);
        auto packet = m.finish();
        packet.insert(packet.end(), {0, 2, 0, 1});
        decode(d, packet);
        CHECK(d.counters().malformed_packets == 0);
    }
    SECTION("an options template without scope") {
        Message m(10, 0, 1);
        m.begin_set(3).options_template(500, {}, {{305, 4}}).end_set();
        decode(d, m.finish());
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kScopeCount, 24});
    }
    SECTION("a variable-length field longer than its set") {
        Message m(10, 0, 1);
        m.begin_set(2).template_record(401, {{8, 4}, {82, 65535}}).end_set();
        m.begin_set(401);
        const size_t record_at = m.p.size();
        m.p.ip4("10.0.0.1").u8(200).u8('a').u8('b');
        m.end_set();
        decode(d, m.finish());
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kRecordOverrun, record_at});
    }
    SECTION("an enterprise field without its enterprise number") {
        Message m(10, 0, 1);
        m.begin_set(2);
        m.p.u16(401).u16(1).u16(0x8001).u16(4);
        m.end_set();
        decode(d, m.finish());
        CHECK(only_malformation(d) == std::pair<std::string, size_t>{kTemplateOverrun, 28});
    }
    SECTION("a zero-length field, a withdrawal of a reserved id, a forged set length") {
        Message m(10, 0, 1);
        m.begin_set(2).template_record(401, {{8, 0}}).end_set();
        decode(d, m.finish());
        Message w(10, 0, 1);
        w.begin_set(2).template_record(7, {}).end_set();
        decode(d, w.finish());
        Message f(10, 0, 1);
        f.p.u16(2).u16(3);
        decode(d, f.finish());
        CHECK(malformed(d, kZeroLengthField) == 1);
        CHECK(malformed(d, kTemplateId) == 1);
        CHECK(malformed(d, kSetLength) == 1);
        auto all = d.malformations();
        REQUIRE(all.size() == 3);
        CHECK(all[0].offset == 24);
        CHECK(all[1].offset == 20);
        CHECK(all[2].offset == 18);
    }
}

TEST_CASE("Held data sets are bounded in number and age", "[netflow]") {
    DecoderOptions options;
    options.max_held_sets = 2;
    options.hold_seconds = 30;
    Decoder d(options);
    for (int i = 0; i < 3; ++i) {
        Message m(10, 0, 1, 1700000000);
        m.begin_set(401);
        m.p.ip4("10.0.0.1").ip4("10.0.0.2").u8(17);
        m.end_set();
        decode(d, m.finish());
    }
    CHECK(d.counters().unknown_template_sets == 3);
    CHECK(d.counters().held_sets_dropped == 1);
    Message t(10, 0, 1, 1700000100);
    t.begin_set(2).template_record(401, {{8, 4}, {12, 4}, {4, 1}}).end_set();
    decode(d, t.finish());
    CHECK(d.counters().held_sets_dropped == 3);
    CHECK(d.counters().held_sets_decoded == 0);
}

TEST_CASE("Damaged datagrams never stop the decoder", "[netflow]") {
    Decoder d;
    std::vector<std::vector<uint8_t>> valid;
    valid.push_back(wardgate::testing::v5_packet(1, {{"10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x10}}));
    {
        Message m = v9_with_templates(1, 1);
        m.begin_set(256);
        v4_record(m, "10.0.0.5", "10.0.1.9", 51000, 443, 6, 0x10, 1, 60, 99000, 99000);
        m.end_set();
        valid.push_back(m.finish(3));
    }
    {
        Message m = ipfix_biflow_template(0);
        m.begin_set(400);
        biflow_record(m, "10.1.0.5", "10.1.0.9", 50000, 2575, 1000, 10, 0x1a, 3000, 8, 0x12, "eth0");
        m.end_set();
        valid.push_back(m.finish());
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 30000; ++i) {
        auto packet = valid[i % valid.size()];
        const int changes = 1 + static_cast<int>(rng() % 4);
        for (int c = 0; c < changes; ++c) packet[2 + rng() % (packet.size() - 2)] = static_cast<uint8_t>(rng());
        if (rng() % 4 == 0) packet.resize(rng() % packet.size());
        REQUIRE_NOTHROW(d.decode(exporter(), packet.data(), packet.size()));
    }
    CHECK(d.counters().malformed_packets > 0);
    CHECK(d.malformations().size() == 64);

    // The stateless entry point: templates and data in one datagram decode, damage yields nothing.
    CHECK(netflow::decode(exporter(), valid[2].data(), valid[2].size()) == 1);
    CHECK(netflow::decode(exporter(), valid[2].data(), 17) == 0);
    CHECK(netflow::decode(exporter(), nullptr, 0) == 0);

    // Undamaged datagrams still decode to the same connection afterwards.
    Decoder fresh;
    for (const auto& packet : valid) {
        auto got = decode(d, packet, exporter("198.51.100.1"));
        REQUIRE(got.size() == 1);
        auto expected = decode(fresh, packet, exporter("198.51.100.1"));
        CHECK(got[0].flow.initiator == expected[0].flow.initiator);
        CHECK(got[0].flow.responder_port == expected[0].flow.responder_port);
    }
}
