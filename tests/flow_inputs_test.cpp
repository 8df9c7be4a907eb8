// Flow logs as hospitals have them: compressed when rotated, written with other Zeek
// settings, still being written, captured on several interfaces, or not connection logs
// at all. Each is read, or refused with a located error, or read with a warning.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/capture_writer.hpp"
#include "support/flow_fixtures.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/flows/pcap.hpp"
#include "wardgate/flows/readers.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {


std::string gzip_text(const std::string& text) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, text.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

struct Read {
    ReadSummary summary;
    std::vector<ObservedEdge> edges;
};

Read read(const std::string& file) {
    Aggregator agg;
    Read r;
    r.summary = read_flow_file(file, agg);
    r.edges = agg.edges();
    return r;
}

const std::string kConnHeader =
    "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\n";
const std::string kConnRow1 = "1763683200.000000\tC1\t10.1.0.1\t40001\t10.2.0.1\t443\ttcp\t1.5\t100\t2000\tSF\n";
const std::string kConnRow2 = "1763683300.000000\tC2\t10.1.0.2\t40002\t10.2.0.1\t104\ttcp\t1.5\t100\t2000\tSF\n";

}  // namespace

TEST_CASE("a gzip-compressed conn.log reads as the log it holds", "[flows][gzip]") {
    TempDir tmp("gzip");
    const std::string plain = read_text(kWikipediaConnLog);
    auto direct = read(kWikipediaConnLog);
    REQUIRE(direct.summary.accepted > 0);

    SECTION("one member") {
        auto gz = read(tmp.write("conn.log.gz", gzip_text(plain)));
        CHECK(gz.summary.rows == direct.summary.rows);
        CHECK(gz.summary.accepted == direct.summary.accepted);
        REQUIRE(gz.edges.size() == direct.edges.size());
        for (size_t i = 0; i < gz.edges.size(); ++i) {
            CHECK(gz.edges[i].key == direct.edges[i].key);
            CHECK(gz.edges[i].stats.connections == direct.edges[i].stats.connections);
        }
    }
    SECTION("two members, as cat a.gz b.gz writes") {
        size_t half = plain.find('\n', plain.size() / 2) + 1;
        auto gz = read(tmp.write("conn.log.gz", gzip_text(plain.substr(0, half)) + gzip_text(plain.substr(half))));
        CHECK(gz.summary.accepted == direct.summary.accepted);
    }
    SECTION("cut short: refused, naming the offset") {
        std::string whole = gzip_text(plain);
        auto d = input_error_of([&] { read(tmp.write("cut.log.gz", whole.substr(0, whole.size() / 2))); });
        CHECK_THAT(d.message, Catch::StartsWith("gzip-compressed file is cut short at compressed byte ") &&
                                  Catch::EndsWith("nothing from it was read"));
    }
    SECTION("damaged: the checksum does not match") {
        std::string whole = gzip_text(plain);
        whole[whole.size() - 6] ^= 0x55;  // inside the CRC-32 of the trailer
        auto d = input_error_of([&] { read(tmp.write("bad.log.gz", whole)); });
        CHECK_THAT(d.message, Catch::Contains("is damaged (incorrect data check)"));
    }
    SECTION("garbage after the last member") {
        auto d = input_error_of([&] { read(tmp.write("tail.log.gz", gzip_text(plain) + "trailing text")); });
        CHECK_THAT(d.message, Catch::Contains("bytes after its end that are not another gzip member"));
    }
    SECTION("a compressed capture") {
        auto frames = std::vector<Frame>{{1.0, ethernet(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(40000, 161, 10)))},
                                         {1.1, ethernet(0x0800, ipv4("10.0.0.2", "10.0.0.1", 17, udp(161, 40000, 10)))}};
        auto pcap = write_pcap(tmp.path / "c.pcap", 1, frames);
        auto gz = read(tmp.write("c.pcap.gz", gzip_text(read_text(pcap))));
        REQUIRE(gz.edges.size() == 1);
        CHECK(gz.edges[0].stats.established);
    }
}

TEST_CASE("Zeek written with other settings is read", "[flows][zeek]") {
    TempDir tmp("zeek-settings");
    SECTION("TSV with Log::default_scope_sep = \"_\"") {
        std::string header = kConnHeader;
        for (const char* f : {"id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"}) {
            std::string scoped = f;
            scoped[2] = '_';
            header.replace(header.find(f), scoped.size(), scoped);
        }
        auto r = read(tmp.write("conn.log", header + kConnRow1 + kConnRow2));
        CHECK(r.summary.accepted == 2);
        CHECK(find_edge(r.edges, "10.1.0.2", "10.2.0.1", Protocol::tcp, 104));
        CHECK(r.summary.warnings.empty());
    }
    SECTION("JSON with the scope separator \"_\", JSON::TS_MILLIS and ISO 8601 times") {
        auto r = read(tmp.write(
            "conn.json",
            "{\"ts\":1763683200123,\"id_orig_h\":\"10.1.0.1\",\"id_orig_p\":1,\"id_resp_h\":\"10.2.0.1\",\"id_resp_p\":443,"
            "\"proto\":\"tcp\",\"conn_state\":\"SF\"}\n"
            "{\"ts\":\"2025-11-21T00:05:00.5Z\",\"id.orig_h\":\"10.1.0.2\",\"id.orig_p\":1,\"id.resp_h\":\"10.2.0.1\","
            "\"id.resp_p\":104,\"proto\":\"tcp\",\"conn_state\":\"SF\"}\n"));
        REQUIRE(r.summary.accepted == 2);
        auto millis = find_edge(r.edges, "10.1.0.1", "10.2.0.1", Protocol::tcp, 443);
        REQUIRE(millis);
        CHECK(millis->stats.first_seen == Approx(1763683200.123));
        auto iso = find_edge(r.edges, "10.1.0.2", "10.2.0.1", Protocol::tcp, 104);
        REQUIRE(iso);
        CHECK(iso->stats.first_seen == Approx(1763683500.5));
    }
}

TEST_CASE("a Zeek log that is not a conn log is refused, not counted as connections", "[flows][zeek]") {
    struct Case {
        const char* name;
        const char* file;
        std::string content;
        int line;
        const char* field;  // empty: not checked
        const char* message_start;
    };
    const Case cases[] = {
        {"TSV named by #path", "dns.log",
         "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\n"
         "1.0\tC\t10.0.0.1\t5353\t10.0.0.2\t53\tudp\tpacs.local\n",
         2, "#path", "this is Zeek's \"dns\" log, not a conn log"},
        {"TSV without #path, known by its fields", "http.log",
         "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\turi\tproto\n"
         "1.0\tC\t10.0.0.1\t1\t10.0.0.2\t80\tGET\t/\ttcp\n",
         2, "#fields", "these are the fields of Zeek's http log"},
        {"JSON with _path", "dns.json",
         "{\"_path\":\"dns\",\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53,"
         "\"proto\":\"udp\",\"query\":\"x\"}\n",
         1, "_path", "this is Zeek's \"dns\" log"},
        {"JSON known by its fields", "dns.json",
         "{\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53,\"proto\":\"udp\","
         "\"query\":\"pacs.local\",\"qtype_name\":\"A\"}\n",
         1, "", "these are the fields of Zeek's dns log"},
    };
    TempDir tmp("zeek-other");
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            auto d = input_error_of([&] { read(tmp.write(c.file, c.content)); });
            CHECK(d.line == c.line);
            if (*c.field) CHECK(d.field == c.field);
            CHECK_THAT(d.message, Catch::StartsWith(c.message_start));
        }
    }
}

TEST_CASE("a conn log without conn_state is read with a warning", "[flows][zeek]") {
    TempDir tmp("zeek-no-state");
    SECTION("TSV") {
        auto r = read(tmp.write("conn.log", "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\n"
                                            "1.0\t10.0.0.1\t10.0.0.2\t443\ttcp\n"));
        CHECK(r.summary.accepted == 1);
        REQUIRE(r.summary.warnings.size() == 1);
        CHECK_THAT(r.summary.warnings[0], Catch::StartsWith("line 2: no conn_state field: no connection counts as answered"));
        CHECK_FALSE(r.edges[0].stats.established);
    }
    SECTION("JSON") {
        auto r = read(tmp.write("conn.json", "{\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\","
                                             "\"id.resp_p\":443,\"proto\":\"tcp\"}\n"));
        REQUIRE(r.summary.warnings.size() == 1);
        CHECK_THAT(r.summary.warnings[0], Catch::StartsWith("no conn_state field"));
    }
}

TEST_CASE("a log still being written is read up to its unfinished last line", "[flows][zeek]") {
    TempDir tmp("zeek-live");
    SECTION("TSV cut inside the last row") {
        std::string cut = kConnRow2.substr(0, 30);
        auto r = read(tmp.write("conn.log", kConnHeader + kConnRow1 + cut));
        CHECK(r.summary.accepted == 1);
        CHECK(r.summary.incomplete);
        REQUIRE(r.summary.warnings.size() == 1);
        CHECK_THAT(r.summary.warnings[0], Catch::StartsWith("line 5: the last line has no newline and does not read"));
    }
    SECTION("TSV whose complete last row only lacks its newline") {
        auto r = read(tmp.write("conn.log", kConnHeader + kConnRow1 + kConnRow2.substr(0, kConnRow2.size() - 1)));
        CHECK(r.summary.accepted == 2);
        CHECK_FALSE(r.summary.incomplete);
        CHECK(r.summary.warnings.empty());
    }
    SECTION("a damaged row that is not the last is still an error") {
        auto d = input_error_of([&] { read(tmp.write("conn.log", kConnHeader + kConnRow2.substr(0, 30) + "\n" + kConnRow1)); });
        CHECK(d.line == 4);
    }
    SECTION("JSON cut inside the last object") {
        std::string row = "{\"ts\":1.0,\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":443,\"proto\":\"tcp\","
                          "\"conn_state\":\"SF\"}";
        auto r = read(tmp.write("conn.json", row + "\n" + row.substr(0, 40)));
        CHECK(r.summary.accepted == 1);
        CHECK(r.summary.incomplete);
        REQUIRE(r.summary.warnings.size() == 1);
        CHECK_THAT(r.summary.warnings[0], Catch::StartsWith("line 2: the last line has no newline"));
    }
}

TEST_CASE("pcapng from several interfaces", "[flows][pcap]") {
    TempDir tmp("pcapng-interfaces");
    // One UDP exchange seen on each interface.
    std::vector<Frame> frames = {{1.0, ethernet(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17, udp(40000, 161, 10)))},
                                 {1.1, ethernet(0x0800, ipv4("10.0.0.2", "10.0.0.1", 17, udp(161, 40000, 10)))},
                                 {1.2, ethernet(0x0800, ipv4("10.0.1.1", "10.0.1.2", 17, udp(40001, 514, 10)))},
                                 {1.3, ethernet(0x0800, ipv4("10.0.1.2", "10.0.1.1", 17, udp(514, 40001, 10)))}};
    SECTION("different snapshot lengths: every interface is read") {
        auto file = tmp.write("two.pcapng", pcapng_bytes({{1, 262144}, {1, 65535}}, frames, {0, 0, 1, 1}));
        auto r = read(file);
        CHECK(r.summary.warnings.empty());
        CHECK_FALSE(r.summary.incomplete);
        CHECK(r.summary.rows == 4);
        REQUIRE(r.edges.size() == 2);
        CHECK(find_edge(r.edges, "10.0.0.1", "10.0.0.2", Protocol::udp, 161));
        CHECK(find_edge(r.edges, "10.0.1.1", "10.0.1.2", Protocol::udp, 514));
    }
    SECTION("different link types: refused with what to do") {
        auto file = tmp.write("mixed.pcapng", pcapng_bytes({{1, 262144}, {113, 262144}}, frames, {0, 0, 0, 0}));
        auto d = input_error_of([&] { read(file); });
        CHECK_THAT(d.message, Catch::StartsWith("interface 1 has link type 113 (LINUX_SLL) and interface 0 link type 1 (EN10MB)") &&
                                  Catch::Contains("split it by interface"));
    }
}

TEST_CASE("ingest records nothing of an incomplete file unless told to", "[flows][ingest]") {
    TempDir tmp("ingest-partial");
    auto log = tmp.write("conn.log", kConnHeader + kConnRow1 + kConnRow2.substr(0, 30));
    auto db = (tmp.path / "b.db").string();
    auto refused = run_wardgate("ingest --db " + db + " " + log);
    CHECK(refused.exit_code == 1);
    CHECK_THAT(refused.err, Catch::Contains("the last line has no newline") &&
                                Catch::Contains("the file is incomplete, so nothing from it was recorded"));
    CHECK_THAT(refused.out, Catch::Contains("the store holds 0 edges"));
    auto partial = run_wardgate("ingest --partial --db " + db + " " + log);
    CHECK(partial.exit_code == 0);
    CHECK_THAT(partial.out, Catch::Contains("warning: line 5: the last line has no newline") &&
                                Catch::Contains("the store holds 1 edges"));
    SECTION("the same log compressed counts as the same file") {
        auto whole = tmp.write("whole.log", kConnHeader + kConnRow1 + kConnRow2);
        auto gz = tmp.write("whole.log.gz", gzip_text(kConnHeader + kConnRow1 + kConnRow2));
        CHECK(run_wardgate("ingest --db " + db + " " + whole).exit_code == 0);
        auto again = run_wardgate("ingest --db " + db + " " + gz);
        CHECK(again.exit_code == 0);
        CHECK_THAT(again.out, Catch::Contains("already ingested"));
    }
}
