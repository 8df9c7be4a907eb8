// The baseline store: WAL, idempotent and crash-safe ingest, retention, queries, and
// the ingest / flows / plan --db commands. What holds for any store runs twice: on a SQLite
// file and on a database of a real PostgreSQL server.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/ip_address.hpp"
#include "support/store_backends.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/ingest.hpp"

using namespace wardgate;
using wardgate::testing::ip;
using wardgate::testing::kExampleSite;
using wardgate::testing::kSharedData;
using wardgate::testing::TempDir;
using wardgate::testing::shell_quoted;
using wardgate::testing::store_location;
namespace fs = std::filesystem;

namespace {

std::string db_of(const TempDir& t) { return (t.path / "baseline.db").string(); }

uint64_t total_connections(const BaselineStore& s) {
    uint64_t n = 0;
    for (const auto& e : s.query()) n += e.stats.connections;
    return n;
}

// A CSV flow file on the example site's addresses, at fixed times in 2026.
const char* kSiteFlows =
    "initiator,responder,protocol,port,start,duration,bytes,established\n"
    "10.110.0.21,10.50.0.30,tcp,443,2026-03-01T08:00:00Z,2,1000,true\n"   // pump -> drug library: declared
    "10.110.0.21,10.50.0.30,tcp,443,2026-03-02T08:00:00Z,2,1000,true\n"
    "10.200.0.21,10.110.0.21,tcp,23,2026-03-03T09:00:00Z,1,80,true\n"     // workstation -> pump telnet: unexplained
    "10.110.0.41,8.8.8.8,tcp,443,2026-03-04T10:00:00Z,1,500,true\n"       // monitor -> internet: unexplained
    "10.90.0.21,10.110.0.21,tcp,8080,2026-03-05T11:00:00Z,1,500,true\n";  // biomed -> pump 8080: approved

}  // namespace

TEST_CASE("store: the database is in WAL mode with its tables", "[store]") {
    TempDir tmp("store");
    {
        BaselineStore store(db_of(tmp));
        CHECK(store.journal_mode() == "wal");
        CHECK(store.integrity_check() == "ok");
    }
    // WAL is a property of the file: another connection sees it too.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db_of(tmp).c_str(), &raw) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
    sqlite3_finalize(stmt);
    std::set<std::string> tables;
    sqlite3_prepare_v2(raw, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) tables.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    CHECK(tables.count("edges") == 1);
    CHECK(tables.count("ingested_files") == 1);
}

TEST_CASE("store: ingesting the same file twice counts it once", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    BaselineStore store(db);
    const std::string conn = kSharedData + "/zeek/wikipedia/conn.log";
    const std::string pcap = kSharedData + "/zeek/wikipedia/wikipedia.pcap";

    auto first = ingest_file(store, conn);
    CHECK_FALSE(first.commit.already_ingested);
    CHECK(first.records == 34);
    CHECK(first.commit.new_edges.size() == first.edges);
    const uint64_t edges = store.edge_count();
    const uint64_t connections = total_connections(store);
    CHECK(connections == 34);

    auto again = ingest_file(store, conn);
    CHECK(again.commit.already_ingested);
    CHECK(again.commit.previous.records == 34);
    CHECK(again.commit.previous.format == "zeek-tsv");
    CHECK(store.edge_count() == edges);
    CHECK(total_connections(store) == connections);

    // The same traffic from the capture: a second source, and no edge key is new but one:
    // a lone SYN+ACK, which Zeek turned around ('^h') and the capture reader does not.
    auto capture = ingest_file(store, pcap);
    CHECK(capture.format == FlowFormat::pcap);
    CHECK(capture.capture);
    REQUIRE(capture.commit.new_edges.size() == 1);
    const EdgeKey lone = capture.commit.new_edges[0].edge.key;
    CHECK(lone == EdgeKey{ip("173.192.163.128"), ip("141.142.220.235"), Protocol::tcp, 6705});
    CHECK_FALSE(capture.commit.new_edges[0].edge.stats.established);
    CHECK(ingest_file(store, pcap).commit.already_ingested);
    CHECK(store.files().size() == 2);
    // Merged over both sources, each key once.
    CHECK(store.edges().size() == edges + 1);

    SECTION("a copy of the file elsewhere is the same file") {
        fs::copy_file(conn, tmp.path / "copy.log");
        CHECK(ingest_file(store, tmp.path / "copy.log").commit.already_ingested);
    }
}

TEST_CASE("store: new edges know whether the peer was seen before", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    BaselineStore store(db);
    ingest_file(store, tmp.write("a.csv", "initiator,responder,protocol,port,start\n10.0.0.1,10.0.0.2,tcp,443,1000\n"));
    auto r = ingest_file(store, tmp.write("b.csv",
                                          "initiator,responder,protocol,port,start\n"
                                          "10.0.0.1,10.0.0.2,tcp,443,2000\n"     // known edge
                                          "10.0.0.2,10.0.0.1,tcp,22,2000\n"      // known pair, new port
                                          "10.0.0.1,10.0.0.3,udp,53,2000\n"      // new peer
                                          "10.0.0.1,10.0.0.3,udp,123,2000\n"));  // same new peer, same file
    REQUIRE(r.commit.new_edges.size() == 3);
    std::map<uint16_t, bool> known;
    for (const auto& n : r.commit.new_edges) known[n.edge.key.responder_port] = n.peer_known;
    CHECK(known.at(22));
    CHECK_FALSE(known.at(53));
    CHECK_FALSE(known.at(123));  // judged against the store before this file
    auto e = store.edges(EdgeQuery{.port = 443});
    REQUIRE(e.size() == 1);
    CHECK(e[0].stats.connections == 2);
    CHECK(e[0].stats.first_seen == 1000);
    CHECK(e[0].stats.last_seen == 2000);
}

TEST_CASE("store: new edges are judged alike whether the file is small or large against the store", "[store]") {
    // A file with few edges against a large store is checked edge by edge with indexed
    // lookups; one with many edges against a small store against all the store's keys at once.
    // Both must give the same answer.
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    for (int filler : {0, 300}) {
        INFO("unrelated edges in the store: " << filler);
        TempDir tmp("store");
        BaselineStore store(store_location(backend, tmp));
        std::string text = "initiator,responder,protocol,port,start\n";
        for (int i = 0; i < filler; ++i) text += "10.9.1." + std::to_string(i % 250) + ",10.8.0." + std::to_string(i / 250) + ",tcp,80,500\n";
        if (filler) ingest_file(store, tmp.write("filler.csv", text));
        ingest_file(store, tmp.write("a.csv", "initiator,responder,protocol,port,start\n"
                                              "10.0.0.1,10.0.0.2,tcp,443,1000\n"
                                              "10.0.0.5,10.0.0.6,udp,514,1000\n"));
        auto r = ingest_file(store, tmp.write("b.csv",
                                              "initiator,responder,protocol,port,start\n"
                                              "10.0.0.1,10.0.0.2,tcp,443,2000\n"    // known edge
                                              "10.0.0.1,10.0.0.2,tcp,8443,2000\n"   // known pair this way round
                                              "10.0.0.6,10.0.0.5,tcp,22,2000\n"     // known pair the other way round
                                              "10.0.0.1,10.0.0.3,udp,53,2000\n"));  // new peer
        std::map<uint16_t, bool> known;
        for (const auto& n : r.commit.new_edges) known[n.edge.key.responder_port] = n.peer_known;
        CHECK(known == std::map<uint16_t, bool>{{8443, true}, {22, true}, {53, false}});
        CHECK(store.edge_count() == static_cast<uint64_t>(filler) + 5);
    }
}

TEST_CASE("store: processes opening one new database at once all get it", "[store]") {
    // Each connection switches the new file to WAL; SQLite refuses, without waiting, the write
    // lock that switch needs while another connection holds it. Six at once, fifty times,
    // failed about one open in forty before the switch retried.
    TempDir tmp("store");
    int failures = 0;
    std::string first_failure;
    for (int round = 0; round < 50; ++round) {
        const auto db = tmp.path / ("new" + std::to_string(round) + ".db");
        std::latch start(6);
        std::vector<std::string> errors(6);
        std::vector<std::thread> openers;
        for (size_t i = 0; i < errors.size(); ++i)
            openers.emplace_back([&, i] {
                start.arrive_and_wait();
                try {
                    BaselineStore store(db);
                    store.files();
                } catch (const StoreError& e) {
                    errors[i] = e.what();
                }
            });
        for (auto& t : openers) t.join();
        for (const auto& e : errors)
            if (!e.empty() && failures++ == 0) first_failure = e;
        CHECK(BaselineStore(db).journal_mode() == "wal");
    }
    INFO(first_failure);
    CHECK(failures == 0);
}

TEST_CASE("store: a killed ingest leaves the database intact, holding whole files only", "[store]") {
    TempDir tmp("store");
    // Small files first, then one big enough that the kill lands inside it.
    std::vector<std::string> small;
    for (int f = 0; f < 3; ++f) {
        std::string text = "initiator,responder,protocol,port,start\n";
        for (int i = 0; i < 100; ++i)
            text += "10.1." + std::to_string(f) + "." + std::to_string(i) + ",10.50.0.10,tcp,104," +
                    std::to_string(1000 + i) + "\n";
        small.push_back(tmp.write("small" + std::to_string(f) + ".csv", text));
    }
    std::string big = (tmp.path / "big.csv").string();
    {
        std::ofstream out(big);
        out << "initiator,responder,protocol,port,start\n";
        for (int i = 0; i < 400000; ++i)
            out << "10.2." << (i >> 16 & 255) << "." << (i >> 8 & 255) << ",10.50." << (i & 255) << ".1,tcp,"
                << (1024 + i % 50000) << "," << 5000 + i << "\n";
    }
    const uint64_t small_records = 300, big_records = 400000;

    for (int delay_ms : {20, 300, 900}) {
        DYNAMIC_SECTION("killed " << delay_ms << " ms after the small files committed") {
            const std::string db = (tmp.path / ("crash" + std::to_string(delay_ms) + ".db")).string();
            pid_t child = ::fork();
            REQUIRE(child >= 0);
            if (child == 0) {
                int null = ::open("/dev/null", O_WRONLY);
                ::dup2(null, STDOUT_FILENO);
                ::execl(WARDGATE_BINARY, WARDGATE_BINARY, "ingest", "--db", db.c_str(), small[0].c_str(),
                        small[1].c_str(), small[2].c_str(), big.c_str(), static_cast<char*>(nullptr));
                ::_exit(127);
            }
            // Wait until the small files are in, then a little longer, then kill.
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            bool committed = false;
            while (!committed && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                if (!fs::exists(db)) continue;
                try {
                    BaselineStore probe(db);
                    committed = probe.files().size() >= 3;
                } catch (const StoreError&) {
                }
            }
            REQUIRE(committed);
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            ::kill(child, SIGKILL);
            int status = 0;
            ::waitpid(child, &status, 0);

            BaselineStore store(db);
            CHECK(store.integrity_check() == "ok");
            auto files = store.files();
            REQUIRE((files.size() == 3 || files.size() == 4));
            uint64_t recorded = 0;
            for (const auto& f : files) recorded += f.records;
            // Edges hold exactly the records of the files listed: nothing partial.
            CHECK(total_connections(store) == recorded);
            CHECK(recorded == (files.size() == 3 ? small_records : small_records + big_records));
            // Ingesting everything again completes the store, counting each file once.
            auto rerun = testing::run_wardgate("ingest --db " + db + " " + small[0] + " " + small[1] + " " + small[2] +
                                               " " + big);
            CHECK(rerun.exit_code == 0);
            CHECK(total_connections(store) == small_records + big_records);
            CHECK(store.files().size() == 4);
        }
    }
}

TEST_CASE("store: retention ages out edges not seen since the cutoff", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    BaselineStore store(db);
    ingest_file(store, tmp.write("flows.csv",
                                 "initiator,responder,protocol,port,start,duration\n"
                                 "10.0.0.1,10.0.0.2,tcp,443,1000,10\n"
                                 "10.0.0.1,10.0.0.3,tcp,443,5000,10\n"
                                 "10.0.0.1,10.0.0.4,tcp,443,9000,10\n"));
    CHECK(store.age_out(5005) == 1);  // last seen 1010
    CHECK(store.edge_count() == 2);
    CHECK(store.age_out(5010) == 0);  // 5010 is not before 5010
    CHECK(store.age_out(9000) == 1);
    auto left = store.edges();
    REQUIRE(left.size() == 1);
    CHECK(left[0].key.responder == ip("10.0.0.4"));
}

TEST_CASE("store: retention forgets old live batches but keeps every file's record", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    BaselineStore store(db);
    ingest_file(store, tmp.write("flows.csv", "initiator,responder,protocol,port,start\n10.0.0.1,10.0.0.2,tcp,443,1000\n"));
    const ObservedEdge edge{EdgeKey{ip("10.0.0.1"), ip("10.0.0.9"), Protocol::udp, 2055}, EdgeStats{1000, 1000, 1, 0, true, 0}, {}};
    for (const char* format : {"netflow", "conntrack", "nflog"}) {
        IngestedFile batch;
        batch.file.path = std::string(format) + " batch";
        batch.file.hash = std::string(format) + ":run:1";
        batch.source = format;
        batch.format = format;
        batch.records = 1;
        batch.ingested_at = 1000;
        store.commit_file(batch, {edge});
    }
    REQUIRE(store.files().size() == 4);
    store.age_out(2000);
    // Live batches are never looked up again, so their records go with their edges; a file's
    // record stays, so that ingesting the file again still counts nothing twice.
    auto files = store.files();
    REQUIRE(files.size() == 1);
    CHECK(files[0].format == "csv");
    CHECK(store.edge_count() == 0);
}

TEST_CASE("store: queries by address, port, protocol, time and source", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    BaselineStore store(db);
    ingest_file(store, tmp.write("site.csv", kSiteFlows), "span-icu");
    ingest_file(store, kSharedData + "/zeek/dhcp/conn.log");
    CHECK(store.edges(EdgeQuery{.addresses = {ip("10.110.0.21")}}).size() == 3);
    CHECK(store.edges(EdgeQuery{.port = 443}).size() == 2);
    CHECK(store.edges(EdgeQuery{.protocol = Protocol::udp}).size() == 4);  // the DHCP edges
    auto since = parse_time_argument("2026-03-03");
    auto until = parse_time_argument("2026-03-04T23:59:59Z");
    REQUIRE(since);
    REQUIRE(until);
    auto window = store.edges(EdgeQuery{.since = since, .until = until});
    REQUIRE(window.size() == 2);  // internet on the 4th, telnet on the 3rd (sorted by initiator)
    CHECK(window[0].key.responder == ip("8.8.8.8"));
    CHECK(window[1].key.responder_port == 23);
    CHECK(store.query(EdgeQuery{.source = "span-icu"}).size() == 4);
    CHECK(store.query(EdgeQuery{.source = "zeek-tsv"}).size() == 4);
}

TEST_CASE("store: wardgate ingest and wardgate flows", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    const std::string flows = tmp.write("site.csv", kSiteFlows);
    auto r = testing::run_wardgate("ingest --db " + shell_quoted(db) + " " + flows + " " + kSharedData +
                                   "/pcap/telnet.pcap " + kSharedData + "/pcap/hl7.pcap");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("telnet.pcap: pcap, 92 packets, 1 records, 1 edges (1 new)"));
    CHECK_THAT(r.out, Catch::Contains("ingested 3 files: 7 records, 6 distinct edges, 6 new edges; the store holds 6 edges"));

    auto again = testing::run_wardgate("ingest --db " + shell_quoted(db) + " " + flows);
    CHECK_THAT(again.out, Catch::Contains("already ingested"));
    CHECK_THAT(again.out, Catch::Contains("ingested 0 files (1 already ingested)"));

    auto unexplained = testing::run_wardgate("flows --db " + shell_quoted(db) + " --site " + kExampleSite +
                                             " --today 2026-03-10 --unexplained --format json");
    INFO(unexplained.err);
    REQUIRE(unexplained.exit_code == 0);
    auto j = nlohmann::json::parse(unexplained.out);
    std::set<std::string> seen;
    for (const auto& e : j) seen.insert(e["initiator"]["name"].get<std::string>() + ">" + e["responder"]["name"].get<std::string>() +
                                        ":" + std::to_string(e["port"].get<int>()));
    CHECK(seen == std::set<std::string>{"ws-icu-01>pump-icu-01:23", "mon-icu-01>8.8.8.8:443", "192.168.0.2>192.168.0.1:23",
                                        "10.0.0.155>10.0.0.126:6661"});

    auto device = testing::run_wardgate("flows --db " + shell_quoted(db) + " --site " + kExampleSite +
                                        " --today 2026-03-10 --device pump-icu-01");
    CHECK_THAT(device.out, Catch::Contains("pump-icu-01 -> drug-library tcp/443"));
    CHECK_THAT(device.out, Catch::Contains("[declared]"));
    CHECK_THAT(device.out, Catch::Contains("ws-biomed-01 -> pump-icu-01 tcp/8080"));
    CHECK_THAT(device.out, Catch::Contains("[approved]"));
    CHECK_THAT(device.out, Catch::Contains("3 edges"));

    auto port = testing::run_wardgate("flows --db " + shell_quoted(db) + " --port 23 --since 2026-03-03");
    CHECK_THAT(port.out, Catch::Contains("10.200.0.21 -> 10.110.0.21 tcp/23"));
    CHECK_THAT(port.out, Catch::Contains("1 edge\n"));

    auto segment = testing::run_wardgate("flows --db " + shell_quoted(db) + " --site " + kExampleSite + " --segment workstations");
    CHECK_THAT(segment.out, Catch::Contains("1 edge\n"));

    auto pcap_only = testing::run_wardgate("flows --db " + shell_quoted(db) + " --source pcap");
    CHECK_THAT(pcap_only.out, Catch::Contains("192.168.0.2 -> 192.168.0.1 tcp/23"));
    CHECK_THAT(pcap_only.out, Catch::Contains("10.0.0.155 -> 10.0.0.126 tcp/6661"));
    CHECK_THAT(pcap_only.out, Catch::Contains("2 edges\n"));
    auto csv_only = testing::run_wardgate("flows --db " + shell_quoted(db) + " --source csv --port 23");
    CHECK_THAT(csv_only.out, Catch::Contains("10.200.0.21 -> 10.110.0.21 tcp/23"));
    CHECK_THAT(csv_only.out, Catch::Contains("1 edge\n"));

    auto no_site = testing::run_wardgate("flows --db " + shell_quoted(db) + " --device pump-icu-01");
    CHECK(no_site.exit_code == 1);
    CHECK_THAT(no_site.err, Catch::Contains("need --site"));
}

TEST_CASE("store: plan --db merges the stored edges with the site's flow files", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("store");
    const std::string db = store_location(backend, tmp);
    testing::run_wardgate("ingest --db " + shell_quoted(db) + " " + tmp.write("site.csv", kSiteFlows));
    auto without = testing::run_wardgate("plan " + kExampleSite + " --today 2026-03-10 --format json");
    auto with = testing::run_wardgate("plan " + kExampleSite + " --today 2026-03-10 --format json --db " + shell_quoted(db));
    INFO(with.err);
    REQUIRE((with.exit_code == 0 || with.exit_code == 2));
    CHECK(without.out.find("8.8.8.8") == std::string::npos);
    CHECK(with.out.find("8.8.8.8") != std::string::npos);  // the monitor's internet flow would be blocked
    auto missing = testing::run_wardgate("plan " + kExampleSite + " --db " + (tmp.path / "nope.db").string());
    CHECK(missing.exit_code == 1);
}
