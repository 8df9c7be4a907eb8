#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <fstream>
#include <string>

#include <unistd.h>

#include "support/flow_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/flows/readers.hpp"

using namespace wardgate;
using wardgate::testing::find_edge;
using wardgate::testing::input_error_of;
using wardgate::testing::ip;
using wardgate::testing::preloaded_aggregator;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

FlowRecord record(const char* from, const char* to, Protocol p, uint16_t port, double start, double duration,
                  uint64_t bytes, bool established, uint32_t connections = 1) {
    FlowRecord r;
    r.initiator = ip(from);
    r.responder = ip(to);
    r.protocol = p;
    r.responder_port = port;
    r.start = start;
    r.duration = duration;
    r.bytes = bytes;
    r.established = established;
    r.connections = connections;
    return r;
}

void require_single_untouched_edge(const Aggregator& agg) {
    REQUIRE(agg.size() == 1);
    REQUIRE(agg.records() == 1);
    const ObservedEdge e = agg.edges().front();
    REQUIRE(e.key.responder_port == 2575);
    REQUIRE(e.stats.connections == 1);
    REQUIRE(e.stats.bytes == 42);
}

const char* kCsvHeader = "responder,port,protocol,initiator,start,duration,bytes,established,connections,note\n";

}  // namespace

TEST_CASE("Aggregator folds records into edges and merges", "[flows]") {
    Aggregator a;
    a.add(record("10.0.0.1", "10.0.0.9", Protocol::tcp, 443, 200, 10, 100, false));
    a.add(record("10.0.0.1", "10.0.0.9", Protocol::tcp, 443, 150, 5, 50, true, 3));
    a.add(record("10.0.0.1", "10.0.0.9", Protocol::udp, 443, 10, 0, 1, false));
    CHECK(a.records() == 3);
    REQUIRE(a.size() == 2);
    auto edges = a.edges();
    CHECK(edges[0].key.protocol == Protocol::tcp);  // tcp (6) sorts before udp (17)
    CHECK(edges[0].stats.first_seen == 150);
    CHECK(edges[0].stats.last_seen == 210);  // max(start + duration), not start of the latest
    CHECK(edges[0].stats.connections == 4);
    CHECK(edges[0].stats.bytes == 150);
    CHECK(edges[0].stats.established);

    Aggregator b;
    b.add(record("10.0.0.1", "10.0.0.9", Protocol::tcp, 443, 100, 1, 7, false));
    b.add(record("fd00::1", "fd00::2", Protocol::icmp, 0, 300, 1, 0, true));
    Aggregator copy = a;
    copy.merge(b);
    CHECK(copy.records() == 5);
    REQUIRE(copy.size() == 3);
    CHECK(copy.edges()[0].stats.first_seen == 100);
    CHECK(copy.edges()[0].stats.connections == 5);
    CHECK(copy.edges()[2].key.initiator.family == Family::v6);

    Aggregator empty;
    empty.merge(std::move(copy));  // takes the edges over
    CHECK(empty.size() == 3);
    CHECK(empty.records() == 5);
    CHECK(copy.size() == 0);
    a.merge(std::move(b));  // not empty: folds
    CHECK(a.size() == 3);
    CHECK(a.records() == 5);
}

TEST_CASE("Aggregator keeps edges apart under many inserts", "[flows]") {
    Aggregator agg;
    std::vector<FlowRecord> batch;
    for (uint32_t i = 0; i < 20000; ++i) {
        FlowRecord r = record("10.0.0.1", "10.0.0.2", Protocol::tcp, static_cast<uint16_t>(i % 5000), i, 1, 1, false);
        r.initiator = IpAddress::v4(0x0A000000 + i % 97);
        batch.push_back(r);
        if (i % 3 == 0) agg.add(r);
    }
    agg.add(batch);
    CHECK(agg.records() == 20000 + 6667);
    // (i % 97, i % 5000) repeats only after lcm(97, 5000) = 485000 > 20000.
    REQUIRE(agg.size() == 20000);
    auto edges = agg.edges();
    CHECK(std::adjacent_find(edges.begin(), edges.end(), [](const ObservedEdge& x, const ObservedEdge& y) {
              return !(x.key < y.key);
          }) == edges.end());
    uint64_t connections = 0;
    for (const auto& e : edges) connections += e.stats.connections;
    CHECK(connections == 26667);
}

TEST_CASE("CSV: columns in any order, quoting, ISO and epoch times, connection counts", "[flows]") {
    TempDir dir("flows-csv");
    std::string text = std::string(kCsvHeader) +
                       "10.20.0.5,104,tcp,10.10.0.7,2026-11-02T08:15:00Z,2.5,1000,true,3,\"PACS, main\"\r\n"
                       "10.20.0.5,104,TCP,10.10.0.7,1793608000,,24,no,,plain\r\n"
                       "\r\n"
                       "  10.20.0.6 , , icmp , 10.10.0.7 ,1793608000, 1 ,,,,\"multi\nline \"\"note\"\"\"\n"
                       "10.20.0.6,,gre,10.10.0.7,,,,,,\n"
                       "10.20.0.6,,hopopt,10.10.0.7,,,,,,\n"
                       "fd00:20::5,2575,17,fd00:10::1,,,,1,,\n";
    std::string file = dir.write("flows.csv", text);
    Aggregator agg;
    ReadSummary summary = read_flow_csv(file, agg);
    CHECK(summary.rows == 6);
    CHECK(summary.accepted == 5);
    CHECK(summary.skipped.at("protocol not known (an IPv6 extension header or a name the system lacks)") == 1);
    REQUIRE(agg.size() == 4);
    auto edges = agg.edges();
    CHECK(find_edge(edges, "10.10.0.7", "10.20.0.6", Protocol::gre, 0));

    auto dicom = find_edge(edges, "10.10.0.7", "10.20.0.5", Protocol::tcp, 104);
    REQUIRE(dicom);
    CHECK(dicom->stats.connections == 4);  // 3 from the first row, 1 by default
    CHECK(dicom->stats.bytes == 1024);
    CHECK(dicom->stats.established);
    CHECK(dicom->stats.first_seen == 1793607300.0);  // 2026-11-02T08:15:00Z
    CHECK(dicom->stats.last_seen == 1793608000.0);

    auto ping = find_edge(edges, "10.10.0.7", "10.20.0.6", Protocol::icmp, 0);
    REQUIRE(ping);
    CHECK(ping->stats.last_seen == 1793608001.0);
    CHECK_FALSE(ping->stats.established);

    auto hl7 = find_edge(edges, "fd00:10::1", "fd00:20::5", Protocol::udp, 2575);
    REQUIRE(hl7);
    CHECK(hl7->stats.established);

    CHECK(detect_flow_format(file) == FlowFormat::csv);
    Aggregator via_dispatch;
    CHECK(read_flow_file(file, via_dispatch).accepted == 5);
    CHECK(via_dispatch.size() == 4);
}

TEST_CASE("CSV errors name file, line, column and field, and leave the aggregator alone", "[flows]") {
    TempDir dir("flows-csv");
    Aggregator agg = preloaded_aggregator();

    SECTION("a missing required column") {
        std::string file = dir.write("flows.csv", "initiator,responder,protocol,dport\n10.0.0.1,10.0.0.2,tcp,443\n");
        Diagnostic d = input_error_of([&] { read_flow_csv(file, agg); });
        CHECK(d.file == file);
        CHECK(d.line == 1);
        CHECK(d.field == "port");
        CHECK(d.message == "missing required column in the header row");
    }
    SECTION("a port above 65535") {
        std::string file = dir.write("flows.csv", "initiator,responder,protocol,port\n"
                                                  "10.0.0.1,10.0.0.2,tcp,443\n"
                                                  "10.0.0.1,10.0.0.2,tcp,70000\n");
        Diagnostic d = input_error_of([&] { read_flow_csv(file, agg); });
        CHECK(d.line == 3);
        CHECK(d.column == 23);
        CHECK(d.to_string() == file + ":3:23: port: expected a port 0-65535, got \"70000\"");
    }
    SECTION("a bad address inside quotes, after a multi-line field") {
        std::string file = dir.write("flows.csv", "note,initiator,responder,protocol,port\n"
                                                  "\"two\nlines\",10.0.0.1,10.0.0.2,tcp,443\n"
                                                  "x,\"10.0.0.256\",10.0.0.2,tcp,443\n");
        Diagnostic d = input_error_of([&] { read_flow_csv(file, agg); });
        CHECK(d.line == 4);
        CHECK(d.column == 3);
        CHECK(d.field == "initiator");
        CHECK(d.message == "expected an IP address, got \"10.0.0.256\"");
    }
    SECTION("bad optional values") {
        auto one_row = [&](const std::string& header_tail, const std::string& row_tail) {
            return dir.write("flows.csv", "initiator,responder,protocol,port," + header_tail +
                                              "\n10.0.0.1,10.0.0.2,udp,53," + row_tail + "\n");
        };
        Diagnostic d = input_error_of([&] { read_flow_csv(one_row("established", "maybe"), agg); });
        CHECK(d.line == 2);
        CHECK(d.field == "established");
        CHECK(d.message == "expected true or false, got \"maybe\"");
        d = input_error_of([&] { read_flow_csv(one_row("connections", "0"), agg); });
        CHECK(d.field == "connections");
        d = input_error_of([&] { read_flow_csv(one_row("start", "2026-13-01T00:00:00Z"), agg); });
        CHECK(d.field == "start");
        CHECK(d.column == 26);
        d = input_error_of([&] { read_flow_csv(one_row("duration", "-3"), agg); });
        CHECK(d.field == "duration");
    }
    SECTION("a truncated last row") {
        std::string file = dir.write("flows.csv", "initiator,responder,protocol,port\n"
                                                  "10.0.0.1,10.0.0.2,tcp,443\n"
                                                  "10.0.0.1,10.0.0.2");
        Diagnostic d = input_error_of([&] { read_flow_csv(file, agg); });
        CHECK(d.line == 3);
        CHECK(d.field == "protocol");
        CHECK(d.message == "truncated row: 2 of 4 fields");
    }
    SECTION("an unterminated quote") {
        std::string file = dir.write("flows.csv", "initiator,responder,protocol,port\n"
                                                  "10.0.0.1,\"10.0.0.2,tcp,443\n");
        Diagnostic d = input_error_of([&] { read_flow_csv(file, agg); });
        CHECK(d.line == 2);
        CHECK(d.column == 10);
        CHECK(d.message == "unterminated quoted field");
    }
    require_single_untouched_edge(agg);
}
