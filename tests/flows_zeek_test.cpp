#include <catch2/catch.hpp>

#include <tuple>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "support/flow_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "support/text_lines.hpp"
#include "wardgate/flows/readers.hpp"

using namespace wardgate;
using wardgate::testing::find_edge;
using wardgate::testing::input_error_of;
using wardgate::testing::ip;
using wardgate::testing::preloaded_aggregator;
using wardgate::testing::read_text;
using wardgate::testing::TempDir;
using wardgate::testing::text_lines;
using wardgate::testing::kWikipediaConnLog;
namespace fs = std::filesystem;

namespace {

const std::string kZeekData = wardgate::testing::kSharedData + "/zeek";

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t cut = text.find(sep, start);
        out.push_back(text.substr(start, cut - start));
        if (cut == std::string::npos) return out;
        start = cut + 1;
    }
}

bool same_edges(const std::vector<ObservedEdge>& a, const std::vector<ObservedEdge>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto &x = a[i].stats, &y = b[i].stats;
        if (a[i].key != b[i].key || x.first_seen != y.first_seen || x.last_seen != y.last_seen ||
            x.connections != y.connections || x.bytes != y.bytes || x.established != y.established)
            return false;
    }
    return true;
}

void require_preloaded_unchanged(const Aggregator& agg) {
    REQUIRE(agg.size() == 1);
    REQUIRE(agg.records() == 1);
    REQUIRE(same_edges(agg.edges(), preloaded_aggregator().edges()));
}

// The wikipedia conn.log as Zeek JSON lines: same values, dotted keys, unset fields left out,
// every other ts as an ISO 8601 string.
std::string wikipedia_as_json() {
    std::vector<std::string> names, types;
    std::string out;
    int row = 0;
    for (const auto& line : text_lines(read_text(kWikipediaConnLog))) {
        auto fields = split(line, '\t');
        if (fields[0] == "#fields") names.assign(fields.begin() + 1, fields.end());
        if (fields[0] == "#types") types.assign(fields.begin() + 1, fields.end());
        if (line[0] == '#') continue;
        nlohmann::json object = nlohmann::json::object();
        for (size_t i = 0; i < names.size(); ++i) {
            if (fields[i] == "-") continue;
            const std::string& t = types[i];
            if (t == "count" || t == "port")
                object[names[i]] = std::stoull(fields[i]);
            else if (t == "time" || t == "interval")
                object[names[i]] = std::stod(fields[i]);
            else
                object[names[i]] = fields[i];
        }
        REQUIRE(fields[0] == "1300000000.000000");
        if (row++ % 2) object["ts"] = "2011-03-13T07:06:40.000000Z";
        out += object.dump() + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE("Zeek TSV: the wikipedia conn.log aggregates into its 13 edges", "[flows]") {
    Aggregator agg;
    ReadSummary summary = read_zeek_tsv(kWikipediaConnLog, agg);
    CHECK(summary.rows == 34);
    CHECK(summary.accepted == 34);
    CHECK(summary.skipped.empty());
    CHECK(agg.records() == 34);
    REQUIRE(agg.size() == 13);

    auto edges = agg.edges();
    REQUIRE(edges.size() == 13);
    CHECK(std::is_sorted(edges.begin(), edges.end(),
                         [](const ObservedEdge& a, const ObservedEdge& b) { return a.key < b.key; }));
    // Addresses sort numerically (.44 before .118), IPv4 before IPv6.
    CHECK(edges.front().key.initiator == ip("141.142.220.44"));
    CHECK(edges.front().key.responder == ip("224.0.0.251"));
    CHECK(edges.back().key.initiator == ip("fe80::3074:17d5:2052:c324"));

    // 14 DNS queries, all SF; bytes are orig_bytes + resp_bytes summed by hand from the file.
    auto dns = find_edge(edges, "141.142.220.118", "141.142.2.2", Protocol::udp, 53);
    REQUIRE(dns);
    CHECK(dns->stats.connections == 14);
    CHECK(dns->stats.bytes == 2397);
    CHECK(dns->stats.established);
    CHECK(dns->stats.first_seen == 1300000000.0);
    CHECK(dns->stats.last_seen == Approx(1300000000.000435).epsilon(1e-15));

    // One OTH (463+350 bytes) and one S1 (534+412): the edge is established because of the S1.
    auto web = find_edge(edges, "141.142.220.118", "208.80.152.2", Protocol::tcp, 80);
    REQUIRE(web);
    CHECK(web->stats.connections == 2);
    CHECK(web->stats.bytes == 1759);
    CHECK(web->stats.established);
    CHECK(web->stats.last_seen == Approx(1300000000.120041).epsilon(1e-15));

    auto s1 = find_edge(edges, "141.142.220.118", "208.80.152.3", Protocol::tcp, 80);
    REQUIRE(s1);
    CHECK(s1->stats.connections == 6);
    CHECK(s1->stats.bytes == 11291);

    // OTH with every optional field unset: no bytes, no duration, not established.
    auto oth = find_edge(edges, "141.142.220.235", "173.192.163.128", Protocol::tcp, 80);
    REQUIRE(oth);
    CHECK(oth->stats.connections == 1);
    CHECK(oth->stats.bytes == 0);
    CHECK_FALSE(oth->stats.established);
    CHECK(oth->stats.last_seen == oth->stats.first_seen);

    auto v6 = find_edge(edges, "fe80::3074:17d5:2052:c324", "ff02::1:3", Protocol::udp, 5355);
    REQUIRE(v6);
    CHECK(v6->stats.connections == 2);
    CHECK(v6->stats.bytes == 132);
    CHECK_FALSE(v6->stats.established);  // S0
}

TEST_CASE("Zeek TSV: the other shared conn.logs", "[flows]") {
    SECTION("dhcp: broadcast requests keep their 0.0.0.0 initiator") {
        Aggregator agg;
        auto summary = read_zeek_tsv(kZeekData + "/dhcp/conn.log", agg);
        CHECK(summary.rows == 4);
        REQUIRE(agg.size() == 4);
        auto e = find_edge(agg.edges(), "0.0.0.0", "255.255.255.255", Protocol::udp, 67);
        REQUIRE(e);
        CHECK(e->stats.bytes == 1560);
        CHECK(e->stats.last_seen == Approx(1300000005.099034).epsilon(1e-15));
        CHECK_FALSE(e->stats.established);  // S0
        CHECK(find_edge(agg.edges(), "128.2.6.97", "128.2.6.152", Protocol::udp, 67));  // SHR, no bytes
    }
    SECTION("q-in-q: double-tagged VLAN traffic gives two UDP edges") {
        Aggregator agg;
        auto summary = read_zeek_tsv(kZeekData + "/q-in-q/conn.log", agg);
        CHECK(summary.rows == 2);
        CHECK(agg.size() == 2);
        auto e = find_edge(agg.edges(), "193.1.186.60", "224.2.127.254", Protocol::udp, 9875);
        REQUIRE(e);
        CHECK(e->stats.bytes == 552);
    }
    SECTION("missing-syn: SF, but history ^hADdFaf shows no SYN, so not established") {
        Aggregator agg;
        read_zeek_tsv(kZeekData + "/missing-syn/conn.log", agg);
        REQUIRE(agg.size() == 1);
        const ObservedEdge e = agg.edges().front();
        CHECK(e.key.responder == ip("125.190.109.199"));
        CHECK(e.key.responder_port == 80);
        CHECK(e.stats.bytes == 9515);
        CHECK_FALSE(e.stats.established);
    }
}

TEST_CASE("Zeek TSV: concatenated logs with different #fields, ICMP and unsupported protocols", "[flows]") {
    TempDir dir("flows-zeek");
    // Second section: another column order, a site "vlan" column, no conn_state or bytes columns.
    std::string text = read_text(kZeekData + "/missing-syn/conn.log") +
                       "#separator \\x09\n#unset_field\t-\n"
                       "#fields\tvlan\tproto\tid.resp_p\tid.resp_h\tid.orig_p\tid.orig_h\tts\tduration\n"
                       "#types\tint\tenum\tport\taddr\tport\taddr\ttime\tinterval\n"
                       "20\ticmp\t0\t10.1.1.1\t8\t10.2.2.2\t1400000000.5\t0.25\n"
                       "20\ticmp\t3\t10.1.1.1\t8\t10.2.2.2\t1400000100\t-\n"
                       "20\tunknown_transport\t0\t10.1.1.1\t0\t10.2.2.2\t1400000100\t-\n"
                       "21\ttcp\t443\tfd00:20::5\t51000\tfd00:10::7\t1400000200\t1.5\n";
    std::string file = dir.write("conn.log", text);
    Aggregator agg;
    auto summary = read_zeek_tsv(file, agg);
    CHECK(summary.rows == 5);
    CHECK(summary.accepted == 4);
    REQUIRE(summary.skipped.size() == 1);
    CHECK(summary.skipped.at("protocol not named by Zeek (unknown_transport)") == 1);
    REQUIRE(agg.size() == 4);

    // ICMP: Zeek's id.orig_p is the message type, id.resp_p its code; each message its own edge.
    auto echo = find_edge(agg.edges(), "10.2.2.2", "10.1.1.1", Protocol::icmp, icmp_port(8, 0));
    REQUIRE(echo);
    CHECK(find_edge(agg.edges(), "10.2.2.2", "10.1.1.1", Protocol::icmp, icmp_port(8, 3)));
    CHECK(echo->stats.connections == 1);
    CHECK(echo->stats.first_seen == 1400000000.5);
    CHECK_FALSE(echo->stats.established);  // no conn_state column

    auto v6 = find_edge(agg.edges(), "fd00:10::7", "fd00:20::5", Protocol::tcp, 443);
    REQUIRE(v6);
    CHECK(v6->stats.last_seen == 1400000201.5);
}

// The same rows as a TSV log and as JSON lines, each read into its own aggregator.
static std::pair<Aggregator, Aggregator> read_both(TempDir& dir, const std::string& tsv, const std::string& json) {
    std::pair<Aggregator, Aggregator> out;
    read_zeek_tsv(dir.write("conn.log", tsv), out.first);
    read_zeek_json(dir.write("conn.json", json), out.second);
    return out;
}

TEST_CASE("Zeek: history must show the handshake from both sides, conn_state alone is not enough", "[flows][evidence]") {
    TempDir dir("flows-zeek");
    // Each row on its own responder port; the last column says whether it must come out established.
    struct Row {
        const char* proto;
        uint16_t port;
        const char* state;
        const char* history;
        bool established;
    };
    const Row rows[] = {
        {"tcp", 1001, "SF", "ShADadFf", true},    // the whole handshake, data, FIN both ways
        {"tcp", 1002, "S1", "ShA", true},         // handshake completed, still open
        {"tcp", 1003, "RSTO", "ShADdR", true},    // answered, then aborted by the originator
        {"tcp", 1004, "SF", "^hADdFaf", false},   // flipped, SYN never seen (missing-syn)
        {"tcp", 1005, "OTH", "^h", false},        // a lone SYN+ACK, flipped
        {"tcp", 1006, "S1", "Sh", false},         // no ACK from the originator after the SYN+ACK
        {"tcp", 1007, "SF", "DdAFaf", false},     // midstream, no handshake
        {"tcp", 1008, "REJ", "Sr", false},        // refused
        {"tcp", 1009, "SF", "-", true},           // history unset: conn_state decides
        {"udp", 1010, "SF", "Dd", true},          // request and answer
        {"udp", 1011, "SHR", "^d", false},        // a lone reply, flipped
        {"udp", 1012, "SF", "^dD", true},         // flipped, but both sides sent
        {"udp", 1013, "S0", "D", false},
        {"udp", 1014, "SF", "d", false},          // only the responder sent
    };
    std::string tsv =
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\thistory\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\n";
    std::string json;
    for (const auto& r : rows) {
        tsv += fmt::format("1300000000.0\tC1\t10.1.0.5\t40000\t10.1.0.9\t{}\t{}\t{}\t{}\n", r.port, r.proto, r.state,
                           r.history);
        nlohmann::json j = {{"ts", 1300000000.0}, {"id.orig_h", "10.1.0.5"}, {"id.orig_p", 40000}, {"id.resp_h", "10.1.0.9"},
                            {"id.resp_p", r.port}, {"proto", r.proto}, {"conn_state", r.state}};
        if (std::string(r.history) != "-") j["history"] = r.history;
        json += j.dump() + "\n";
    }
    auto [from_tsv, from_json] = read_both(dir, tsv, json);
    for (const auto* agg : {&from_tsv, &from_json}) {
        auto edges = agg->edges();
        REQUIRE(edges.size() == std::size(rows));
        for (const auto& r : rows) {
            INFO(r.proto << "/" << r.port << " " << r.state << " " << r.history);
            auto e = find_edge(edges, "10.1.0.5", "10.1.0.9", std::string(r.proto) == "tcp" ? Protocol::tcp : Protocol::udp,
                               r.port);
            REQUIRE(e);
            CHECK(e->stats.established == r.established);
        }
    }
    // Without a history column, conn_state alone decides as before.
    Aggregator plain;
    read_zeek_tsv(dir.write("plain.log",
                            "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n"
                            "1300000000.0\t10.1.0.5\t40000\t10.1.0.9\t80\ttcp\tSF\n"),
                  plain);
    CHECK(plain.edges().front().stats.established);
}

TEST_CASE("Zeek: an ICMP exchange is answered when both sides sent packets (Zeek writes OTH for every one)", "[flows][evidence]") {
    TempDir dir("flows-zeek-icmp");
    // type in id.orig_p, code in id.resp_p; the last two columns are orig_pkts and resp_pkts.
    std::string tsv =
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_pkts\tresp_pkts\n"
        "1300000000.0\t10.1.0.5\t8\t10.1.0.9\t0\ticmp\tOTH\t3\t3\n"
        "1300000000.0\t10.1.0.5\t13\t10.1.0.9\t0\ticmp\tOTH\t2\t0\n"
        "1300000000.0\t10.1.0.5\t17\t10.1.0.9\t0\ticmp\tOTH\t-\t-\n";
    std::string json;
    for (auto [type, sent, answered] : {std::tuple{8, 3, 3}, std::tuple{13, 2, 0}}) {
        nlohmann::json j = {{"ts", 1300000000.0}, {"id.orig_h", "10.1.0.5"}, {"id.orig_p", type}, {"id.resp_h", "10.1.0.9"},
                            {"id.resp_p", 0},      {"proto", "icmp"},         {"conn_state", "OTH"},
                            {"orig_pkts", sent},   {"resp_pkts", answered}};
        json += j.dump() + "\n";
    }
    auto [from_tsv, from_json] = read_both(dir, tsv, json);
    for (const auto* agg : {&from_tsv, &from_json}) {
        auto edges = agg->edges();
        auto echo = find_edge(edges, "10.1.0.5", "10.1.0.9", Protocol::icmp, icmp_port(8, 0));
        auto stamp = find_edge(edges, "10.1.0.5", "10.1.0.9", Protocol::icmp, icmp_port(13, 0));
        REQUIRE(echo);
        REQUIRE(stamp);
        CHECK(echo->stats.established);
        CHECK_FALSE(stamp->stats.established);  // never answered
    }
    auto mask = find_edge(from_tsv.edges(), "10.1.0.5", "10.1.0.9", Protocol::icmp, icmp_port(17, 0));
    REQUIRE(mask);
    CHECK_FALSE(mask->stats.established);  // no packet counts: no evidence
}

TEST_CASE("Zeek TSV: progress is reported with the file's byte count", "[flows]") {
    std::vector<IngestProgress> calls;
    Aggregator agg;
    read_zeek_tsv(kWikipediaConnLog, agg, [&](const IngestProgress& p) { calls.push_back(p); });
    REQUIRE(!calls.empty());
    CHECK(calls.back().file == kWikipediaConnLog);
    CHECK(calls.back().bytes_total == fs::file_size(kWikipediaConnLog));
    CHECK(calls.back().bytes_done == calls.back().bytes_total);
    CHECK(calls.back().rows == 34);
    CHECK(calls.back().seconds >= 0);
}

TEST_CASE("Zeek JSON: the same rows give the same edges as the TSV", "[flows]") {
    TempDir dir("flows-zeek");
    std::string file = dir.write("conn.json", wikipedia_as_json());
    Aggregator from_tsv, from_json;
    read_zeek_tsv(kWikipediaConnLog, from_tsv);
    auto summary = read_zeek_json(file, from_json);
    CHECK(summary.rows == 34);
    CHECK(summary.accepted == 34);
    REQUIRE(from_json.size() == 13);
    CHECK(same_edges(from_json.edges(), from_tsv.edges()));

    SECTION("read_flow_file detects each format") {
        CHECK(detect_flow_format(kWikipediaConnLog) == FlowFormat::zeek_tsv);
        CHECK(detect_flow_format(file) == FlowFormat::zeek_json);
        Aggregator a, b;
        read_flow_file(kWikipediaConnLog, a);
        read_flow_file(file, b);
        CHECK(same_edges(a.edges(), from_tsv.edges()));
        CHECK(same_edges(b.edges(), from_tsv.edges()));
    }
}

TEST_CASE("Zeek JSON: nested id objects, skipped protocols and blank lines", "[flows]") {
    TempDir dir("flows-zeek");
    std::string file = dir.write("conn.json",
                                 R"({"ts":"2026-11-02T08:15:00+01:00","id":{"orig_h":"10.0.0.5","orig_p":5000,"resp_h":"10.0.0.9","resp_p":104},"proto":"tcp","conn_state":"RSTR","orig_bytes":10})"
                                 "\n\n"
                                 R"({"ts":1793603000.5,"id.orig_h":"10.0.0.5","id.orig_p":1,"id.resp_h":"10.0.0.9","id.resp_p":0,"proto":"unknown_transport"})"
                                 "\n");
    Aggregator agg;
    auto summary = read_zeek_json(file, agg);
    CHECK(summary.rows == 2);
    CHECK(summary.accepted == 1);
    CHECK(summary.skipped.at("protocol not named by Zeek (unknown_transport)") == 1);
    REQUIRE(agg.size() == 1);
    const ObservedEdge e = agg.edges().front();
    CHECK(e.key.responder_port == 104);
    CHECK(e.stats.first_seen == 1793603700.0);  // 07:15:00Z
    CHECK(e.stats.bytes == 10);
    CHECK(e.stats.established);
}

TEST_CASE("Zeek TSV errors name file, line, column and field, and leave the aggregator alone", "[flows]") {
    TempDir dir("flows-zeek");
    auto lines = text_lines(read_text(kWikipediaConnLog));
    REQUIRE(lines.size() == 43);
    Aggregator agg = preloaded_aggregator();

    SECTION("a truncated last row (file cut mid-write): read up to it, with a warning") {
        lines.pop_back();                  // #close
        lines.back().resize(64);           // line 42 cut inside id.resp_h: "...\t141.142.220.235\t6705\t173.19"
        std::string file = dir.write("conn.log", join_lines(lines).substr(0, join_lines(lines).size() - 1));
        Aggregator fresh;
        auto summary = read_zeek_tsv(file, fresh);
        CHECK(summary.rows == 33);  // the 34 rows but the cut one
        CHECK(summary.incomplete);
        REQUIRE(summary.warnings.size() == 1);
        CHECK(summary.warnings[0] ==
              "line 42: the last line has no newline and does not read (id.resp_p: truncated row: 5 of 22 fields "
              "(#fields on line 7)): skipped, as a log still being written ends this way; read the file again when it "
              "is complete");
    }
    SECTION("a truncated row followed by a newline is an error") {
        lines.pop_back();
        lines.back().resize(64);
        std::string file = dir.write("conn.log", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.file == file);
        CHECK(d.line == 42);
        CHECK(d.field == "id.resp_p");  // the first missing column
        CHECK(d.column == 65);  // just past the last byte
        CHECK(d.message == "truncated row: 5 of 22 fields (#fields on line 7)");
        require_preloaded_unchanged(agg);
    }
    SECTION("a port above 65535") {
        lines[11] = "1300000000.000000\tCmES5u32sYpV7JYN\t141.142.220.118\t43927\t141.142.2.2\t70000\tudp\tdns\t0.000435"
                    "\t38\t89\tSF\tF\tF\t0\tDd\t1\t66\t1\t117\t-\t17";
        std::string file = dir.write("conn.log", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.file == file);
        CHECK(d.line == 12);
        CHECK(d.column == 70);
        CHECK(d.field == "id.resp_p");
        CHECK(d.to_string() == file + ":12:70: id.resp_p: expected a port 0-65535, got \"70000\"");
        require_preloaded_unchanged(agg);
    }
    SECTION("a bad address") {
        lines[20] = "1300000000.000000\tCpmdRlaUoJLN3uIRa\t141.142.220.318\t45000\t141.142.2.2\t53\tudp\tdns\t0.000384"
                    "\t38\t89\tSF\tF\tF\t0\tDd\t1\t66\t1\t117\t-\t17";
        std::string file = dir.write("conn.log", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.line == 21);
        CHECK(d.column == 37);
        CHECK(d.field == "id.orig_h");
        CHECK(d.message == "expected an IP address, got \"141.142.220.318\"");
        require_preloaded_unchanged(agg);
    }
    SECTION("a bad timestamp and a bad byte count") {
        auto bad_ts = lines;
        bad_ts[8].replace(0, 17, "yesterday");
        Diagnostic d = input_error_of([&] { read_zeek_tsv(dir.write("ts.log", join_lines(bad_ts)), agg); });
        CHECK(d.line == 9);
        CHECK(d.column == 1);
        CHECK(d.field == "ts");

        auto bad_bytes = lines;
        bad_bytes[11] = "1300000000.000000\tCmES5u32sYpV7JYN\t141.142.220.118\t43927\t141.142.2.2\t53\tudp\tdns\t0.000435"
                        "\t38\t-89\tSF\tF\tF\t0\tDd\t1\t66\t1\t117\t-\t17";
        d = input_error_of([&] { read_zeek_tsv(dir.write("bytes.log", join_lines(bad_bytes)), agg); });
        CHECK(d.line == 12);
        CHECK(d.field == "resp_bytes");
        CHECK(d.message == "expected a byte count, got \"-89\"");
        require_preloaded_unchanged(agg);
    }
    SECTION("rows without a #fields line") {
        lines.erase(lines.begin() + 6);  // #fields
        std::string file = dir.write("conn.log", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.line == 8);  // the first row, now that #fields is gone
        CHECK(d.field == "#fields");
        require_preloaded_unchanged(agg);
    }
    SECTION("#fields without a required column") {
        lines[6] = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tprotocol";
        std::string file = dir.write("conn.log", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.line == 7);
        CHECK(d.field == "proto");
        CHECK(d.message == "missing required column in #fields");
        require_preloaded_unchanged(agg);
    }
    SECTION("a row with more fields than #fields names") {
        lines[30] += "\textra";
        Diagnostic d = input_error_of([&] { read_zeek_tsv(dir.write("conn.log", join_lines(lines)), agg); });
        CHECK(d.line == 31);
        CHECK(d.message == "row has 23 fields, but #fields on line 7 names 22");
        require_preloaded_unchanged(agg);
    }
    SECTION("a file that does not exist") {
        Diagnostic d = input_error_of([&] { read_zeek_tsv(dir.path / "nope.log", agg); });
        CHECK(d.line == 0);
        CHECK(d.message == "cannot open: No such file or directory (check the path)");
        require_preloaded_unchanged(agg);
    }
}

TEST_CASE("Zeek JSON errors name file, line and field, and leave the aggregator alone", "[flows]") {
    TempDir dir("flows-zeek");
    auto lines = text_lines(wikipedia_as_json());
    REQUIRE(lines.size() == 34);
    Aggregator agg = preloaded_aggregator();

    SECTION("a port above 65535") {
        auto object = nlohmann::json::parse(lines[3]);
        object["id.resp_p"] = 70000;
        lines[3] = object.dump();
        std::string file = dir.write("conn.json", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_json(file, agg); });
        CHECK(d.file == file);
        CHECK(d.line == 4);
        CHECK(d.field == "id.resp_p");
        CHECK(d.column == static_cast<int>(lines[3].find("\"id.resp_p\"")) + 1);
        CHECK(d.message == "expected a port 0-65535, got 70000");
    }
    SECTION("a missing required field") {
        auto object = nlohmann::json::parse(lines[5]);
        object.erase("id.resp_h");
        lines[5] = object.dump();
        Diagnostic d = input_error_of([&] { read_zeek_json(dir.write("conn.json", join_lines(lines)), agg); });
        CHECK(d.line == 6);
        CHECK(d.field == "id.resp_h");
        CHECK(d.message == "missing required field");
    }
    SECTION("a bad address and a bad ISO timestamp") {
        auto object = nlohmann::json::parse(lines[7]);
        object["id.orig_h"] = "10.0.0";
        auto bad_address = lines;
        bad_address[7] = object.dump();
        Diagnostic d = input_error_of([&] { read_zeek_json(dir.write("a.json", join_lines(bad_address)), agg); });
        CHECK(d.line == 8);
        CHECK(d.field == "id.orig_h");

        object = nlohmann::json::parse(lines[9]);
        object["ts"] = "2011-02-30T07:06:40Z";
        lines[9] = object.dump();
        d = input_error_of([&] { read_zeek_json(dir.write("b.json", join_lines(lines)), agg); });
        CHECK(d.line == 10);
        CHECK(d.field == "ts");
        CHECK(d.message == "expected a timestamp (epoch seconds, epoch milliseconds or ISO 8601), got \"2011-02-30T07:06:40Z\"");
    }
    SECTION("a line cut mid-write") {
        lines.back().resize(lines.back().size() / 2);
        std::string file = dir.write("conn.json", join_lines(lines));
        Diagnostic d = input_error_of([&] { read_zeek_json(file, agg); });
        CHECK(d.line == 34);
        CHECK(d.column > 0);
        CHECK(d.message.starts_with("invalid JSON: "));
    }
    require_preloaded_unchanged(agg);
}

namespace {

// A conn.log of about 10 MB: large enough to be aggregated on a second thread. From row
// second_block on (if >= 0) it has a new header block with another #fields order.
// Rows listed in bad_ports get port 70000.
struct LargeLog {
    std::string text;
    Aggregator expected;
    std::vector<int> line_of_row;
    std::vector<int> port_column_of_row;
    int second_fields_line = 0;
};

constexpr int kLargeRows = 130000;

LargeLog large_log(int second_block, const std::vector<int>& bad_ports = {}) {
    LargeLog log;
    auto wikipedia = text_lines(read_text(kWikipediaConnLog));
    int line = 0;
    auto add_line = [&](const std::string& text) {
        log.text += text + "\n";
        ++line;
    };
    for (int i = 0; i < 8; ++i) add_line(wikipedia[i]);
    bool layout_b = false;
    for (int i = 0; i < kLargeRows; ++i) {
        if (i == second_block) {
            add_line("#close\t2023-11-14-22-13-20");
            for (const char* h : {"#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
                                  "#path\tconn", "#open\t2023-11-14-22-13-20"})
                add_line(h);
            add_line("#fields\tts\tproto\tid.orig_h\tid.resp_h\tid.resp_p\tconn_state\torig_bytes\tresp_bytes\tduration");
            log.second_fields_line = line;
            add_line("#types\ttime\tenum\taddr\taddr\tport\tstring\tcount\tcount\tinterval");
            layout_b = true;
        }
        char fraction[8];
        std::snprintf(fraction, sizeof fraction, "%06d", (i % 1000) * 1000);
        std::string ts = std::to_string(1700000000 + i / 1000) + "." + fraction;
        std::string orig = "10.0." + std::to_string(i % 40) + "." + std::to_string(1 + i % 7);
        std::string resp = "10.1.0." + std::to_string(1 + i % 5);
        int port_number = std::array<int, 3>{443, 104, 2575}[i % 3];
        bool bad = std::find(bad_ports.begin(), bad_ports.end(), i) != bad_ports.end();
        std::string port = bad ? "70000" : std::to_string(port_number);
        std::string proto = i % 11 == 0 ? "udp" : "tcp";
        std::string duration = i % 13 == 0 ? "-" : "0.5";
        std::string state = i % 4 == 0 ? "S0" : "SF";
        std::string ob = std::to_string(i % 1000), rb = std::to_string(i * 7 % 1000);
        std::string row;
        if (!layout_b)
            row = ts + "\tC" + std::to_string(i) + "\t" + orig + "\t51000\t" + resp + "\t" + port + "\t" + proto +
                  "\t-\t" + duration + "\t" + ob + "\t" + rb + "\t" + state + "\tF\tF\t0\tShADad\t6\t1491\t4\t949\t-\t6";
        else
            row = ts + "\t" + proto + "\t" + orig + "\t" + resp + "\t" + port + "\t" + state + "\t" + ob + "\t" + rb +
                  "\t" + duration;
        add_line(row);
        log.line_of_row.push_back(line);
        log.port_column_of_row.push_back(static_cast<int>(row.find("\t" + port + "\t")) + 2);

        FlowRecord r;
        r.initiator = ip(orig.c_str());
        r.responder = ip(resp.c_str());
        r.protocol = proto == "udp" ? Protocol::udp : Protocol::tcp;
        r.responder_port = static_cast<uint16_t>(port_number);
        r.start = std::stod(ts);
        r.duration = duration == "-" ? 0 : 0.5;
        r.bytes = std::stoull(ob) + std::stoull(rb);
        r.established = state == "SF";
        log.expected.add(r);
    }
    add_line("#close\t2023-11-14-22-13-20");
    REQUIRE(log.text.size() > (size_t{9} << 20));
    return log;
}

}  // namespace

// Large files are aggregated on a second thread while they are parsed (src/flows/zeek_tsv.cpp);
// none of that may show in the result or the errors.
TEST_CASE("Zeek TSV: a large file gives exact edges, progress and errors", "[flows]") {
    TempDir dir("flows-zeek");
    int second_block = GENERATE(-1, kLargeRows * 2 / 5, kLargeRows * 4 / 5);
    CAPTURE(second_block);

    SECTION("edges, counts and progress") {
        LargeLog log = large_log(second_block);
        std::string file = dir.write("conn.log", log.text);
        std::vector<IngestProgress> calls;
        Aggregator agg;
        auto summary = read_zeek_tsv(file, agg, [&](const IngestProgress& p) { calls.push_back(p); });
        CHECK(summary.rows == kLargeRows);
        CHECK(summary.accepted == kLargeRows);
        CHECK(agg.records() == kLargeRows);
        REQUIRE(agg.size() == log.expected.size());
        CHECK(same_edges(agg.edges(), log.expected.edges()));
        REQUIRE(!calls.empty());
        CHECK(calls.back().bytes_done == log.text.size());
        CHECK(calls.back().rows == kLargeRows);
    }
    SECTION("an error near the end names its line") {
        LargeLog log = large_log(second_block, {120000});
        std::string file = dir.write("conn.log", log.text);
        Aggregator agg = preloaded_aggregator();
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.line == log.line_of_row[120000]);
        CHECK(d.line == 120000 + 8 + (second_block >= 0 ? 9 : 0) + 1);  // header lines, 1-based
        CHECK(d.column == log.port_column_of_row[120000]);
        CHECK(d.field == "id.resp_p");
        require_preloaded_unchanged(agg);
    }
    SECTION("of several errors the first is reported") {
        LargeLog log = large_log(second_block, {125000, 20000, 110000});
        std::string file = dir.write("conn.log", log.text);
        Aggregator agg = preloaded_aggregator();
        Diagnostic d = input_error_of([&] { read_zeek_tsv(file, agg); });
        CHECK(d.line == log.line_of_row[20000]);
        CHECK(d.column == log.port_column_of_row[20000]);
        require_preloaded_unchanged(agg);
    }
    SECTION("a truncated last row: the rows before it are read, with a warning") {
        LargeLog log = large_log(second_block);
        log.text.resize(log.text.rfind("#close"));  // drop the #close line
        log.text.resize(log.text.size() - 20);      // and cut the last row mid-write
        std::string file = dir.write("conn.log", log.text);
        Aggregator agg;
        auto summary = read_zeek_tsv(file, agg);
        CHECK(summary.rows == log.line_of_row.size() - 1);
        CHECK(summary.incomplete);
        REQUIRE(summary.warnings.size() == 1);
        int fields_line = second_block >= 0 ? log.second_fields_line : 7;
        CHECK_THAT(summary.warnings[0],
                   Catch::StartsWith("line " + std::to_string(log.line_of_row.back()) + ": the last line has no newline") &&
                       Catch::Contains("truncated row: ") &&
                       Catch::Contains("(#fields on line " + std::to_string(fields_line) + "))"));
    }
}
