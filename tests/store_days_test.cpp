// Days seen per edge: distinct UTC days, kept right whatever order files are ingested
// in, across sources, through retention and across the schema upgrade that added them.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "support/ip_address.hpp"
#include "support/store_backends.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/flows/readers.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/ingest.hpp"

using namespace wardgate;
using wardgate::testing::ip;
using wardgate::testing::TempDir;
using wardgate::testing::days_of;

namespace {

constexpr const char* kHeader = "initiator,responder,protocol,port,start,duration,bytes,established\n";

// The pump's edge to the drug library, on the days and times given.
std::string pump_rows(const std::vector<std::string>& starts) {
    std::string out = kHeader;
    for (const auto& s : starts) out += "10.110.0.21,10.50.0.30,tcp,443," + s + ",2,100,true\n";
    return out;
}

const EdgeKey kPump{ip("10.110.0.21"), ip("10.50.0.30"), Protocol::tcp, 443};

uint32_t day(const char* date) { return utc_day(*parse_time_argument(date)); }

StoredEdge pump_edge(const BaselineStore& store) {
    EdgeQuery q;
    q.port = 443;
    auto rows = store.query(q);
    REQUIRE(rows.size() == 1);
    return rows.front();
}

}  // namespace

TEST_CASE("days seen: the aggregator counts distinct UTC days of the connections' starts", "[store][days]") {
    TempDir tmp("days");
    Aggregator agg;
    read_flow_file(tmp.write("a.csv", pump_rows({"2026-03-01T00:00:00Z", "2026-03-01T23:59:59Z", "2026-03-03T12:00:00Z",
                                                 "2026-03-01T08:00:00Z"})),
                   agg);
    auto edges = agg.edges();
    REQUIRE(edges.size() == 1);
    CHECK(edges[0].stats.connections == 4);
    CHECK(edges[0].stats.days_seen == 2);
    CHECK(days_of(edges[0]) == std::vector<uint32_t>{day("2026-03-01"), day("2026-03-03")});

    CHECK(utc_day(86399.9) == 0);
    CHECK(utc_day(86400) == 1);
    CHECK(utc_day(-1) == 0);
    CHECK(utc_day(1e300) == UINT32_MAX - 1);  // from a malformed timestamp: no overflow

    // Merging another aggregator on the same and another day counts the shared day once.
    Aggregator more;
    read_flow_file(tmp.write("b.csv", pump_rows({"2026-03-03T13:00:00Z", "2026-03-04T01:00:00Z"})), more);
    agg.merge(more);
    CHECK(agg.edges()[0].stats.days_seen == 3);
}

TEST_CASE("days seen: files with the same edge on the same and on other days, ingested in either order",
          "[store][days]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("days");
    // Same day in both (a, b), then b and c add one new day each.
    const std::string a = tmp.write("a.csv", pump_rows({"2026-03-01T08:00:00Z", "2026-03-01T20:00:00Z"}));
    const std::string b = tmp.write("b.csv", pump_rows({"2026-03-01T23:00:00Z", "2026-03-02T01:00:00Z"}));
    const std::string c = tmp.write("c.csv", pump_rows({"2026-03-05T10:00:00Z"}));
    const std::vector<uint32_t> all = {day("2026-03-01"), day("2026-03-02"), day("2026-03-05")};

    SECTION("same day in two files counts once") {
        for (const auto& order : {std::vector<std::string>{a, b}, std::vector<std::string>{b, a}}) {
            TempDir db("days-db");
            BaselineStore store(testing::store_location(backend, db));
            ingest_file(store, order[0]);
            CHECK(pump_edge(store).stats.days_seen == (order[0] == a ? 1u : 2u));
            ingest_file(store, order[1]);
            auto e = pump_edge(store);
            CHECK(e.stats.connections == 4);
            CHECK(e.stats.days_seen == 2);
        }
    }
    SECTION("every order of three files gives the same days") {
        const std::vector<std::vector<std::string>> orders = {{a, b, c}, {c, b, a}, {b, c, a}, {c, a, b}};
        for (const auto& order : orders) {
            TempDir db("days-db");
            BaselineStore store(testing::store_location(backend, db));
            for (const auto& f : order) ingest_file(store, f);
            ingest_file(store, order[0]);  // already ingested: nothing counts twice
            auto e = pump_edge(store);
            CHECK(e.stats.connections == 5);
            CHECK(e.stats.days_seen == 3);
            CHECK(days_of(e) == all);
            auto folded = store.edges();
            REQUIRE(folded.size() == 1);
            CHECK(folded[0].stats.days_seen == 3);
        }
    }
    SECTION("under different sources the days fold together without double counting") {
        TempDir db("days-db");
        BaselineStore store(testing::store_location(backend, db));
        ingest_file(store, a, "zeek-ward-3");
        ingest_file(store, b, "pcap-ward-3");
        CHECK(store.query().size() == 2);
        auto folded = store.edges();
        REQUIRE(folded.size() == 1);
        CHECK(folded[0].stats.days_seen == 2);

        // As plan reads them: the store merged with a flow file, one day shared, one new.
        Aggregator flows;
        read_flow_file(c, flows);
        read_flow_file(tmp.write("d.csv", pump_rows({"2026-03-02T09:00:00Z"})), flows);
        store.merge_into(flows);
        auto merged = flows.edges();
        REQUIRE(merged.size() == 1);
        CHECK(merged[0].stats.days_seen == 3);
        CHECK(merged[0].stats.connections == 6);
    }
}

TEST_CASE("days seen: retention drops the days before the cutoff from edges that stay", "[store][days]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("days");
    BaselineStore store(testing::store_location(backend, tmp));
    ingest_file(store, tmp.write("a.csv", pump_rows({"2026-03-01T08:00:00Z", "2026-03-02T08:00:00Z",
                                                      "2026-03-10T08:00:00Z", "2026-03-11T08:00:00Z"})));
    CHECK(pump_edge(store).stats.days_seen == 4);
    CHECK(store.age_out(*parse_time_argument("2026-03-05T12:00:00Z")) == 0);
    auto e = pump_edge(store);
    CHECK(e.stats.days_seen == 2);
    CHECK(days_of(e) == std::vector<uint32_t>{day("2026-03-10"), day("2026-03-11")});
    CHECK(e.stats.connections == 4);  // the counts are totals; only the day list is bounded
}

TEST_CASE("days seen: a schema 2 database gains the days column, seeded with each edge's first day", "[store][days]") {
    TempDir tmp("days");
    const auto path = tmp.path / "old.db";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        const char* v2 = R"sql(
            CREATE TABLE edges (
                initiator BLOB NOT NULL, responder BLOB NOT NULL, protocol INTEGER NOT NULL, port INTEGER NOT NULL,
                source TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL, connections INTEGER NOT NULL,
                bytes INTEGER NOT NULL, established INTEGER NOT NULL,
                PRIMARY KEY (initiator, responder, protocol, port, source)) WITHOUT ROWID;
            CREATE INDEX edges_by_responder ON edges (responder);
            CREATE TABLE ingested_files (hash TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
                mtime REAL NOT NULL, source TEXT NOT NULL, format TEXT NOT NULL, records INTEGER NOT NULL,
                edges INTEGER NOT NULL, ingested_at REAL NOT NULL);
            CREATE TABLE alert_marks (initiator BLOB NOT NULL, responder BLOB NOT NULL, protocol INTEGER NOT NULL,
                port INTEGER NOT NULL, last_sent REAL NOT NULL, suppressed INTEGER NOT NULL,
                PRIMARY KEY (initiator, responder, protocol, port)) WITHOUT ROWID;
            -- 2026-03-01T08:00:00Z .. 2026-03-04T08:00:00Z, 7 connections
            INSERT INTO edges VALUES (x'0a6e0015', x'0a32001e', 6, 443, 'csv', 1772352000, 1772611200, 7, 700, 1);
            PRAGMA user_version = 2;
        )sql";
        char* error = nullptr;
        REQUIRE(sqlite3_exec(db, v2, nullptr, nullptr, &error) == SQLITE_OK);
        sqlite3_close(db);
    }
    BaselineStore store(path);
    auto e = pump_edge(store);
    CHECK(e.key == kPump);
    CHECK(e.stats.connections == 7);
    // Which of the four days it was seen on is not known: only the first surely.
    CHECK(days_of(e) == std::vector<uint32_t>{day("2026-03-01")});
    CHECK(e.stats.days_seen == 1);
    CHECK(e.stats.applications == 0);  // the column added later, empty for old edges
    CHECK(store.sightings().empty());
    ingest_file(store, tmp.write("later.csv", pump_rows({"2026-03-06T08:00:00Z", "2026-03-01T09:00:00Z"})));
    e = pump_edge(store);
    CHECK(e.stats.days_seen == 2);
    CHECK(e.stats.connections == 9);
    CHECK(store.integrity_check() == "ok");

    // Opening it again changes nothing.
    BaselineStore again(path);
    CHECK(pump_edge(again).stats.days_seen == 2);
}

TEST_CASE("store: a schema 4 database keeps its application sightings, now one per subject", "[store][dissect]") {
    TempDir tmp("sightings-v4");
    const auto path = tmp.path / "old.db";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        const char* v4 = R"sql(
            CREATE TABLE edges (
                initiator BLOB NOT NULL, responder BLOB NOT NULL, protocol INTEGER NOT NULL, port INTEGER NOT NULL,
                source TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL, connections INTEGER NOT NULL,
                bytes INTEGER NOT NULL, established INTEGER NOT NULL, days BLOB NOT NULL DEFAULT x'',
                applications INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (initiator, responder, protocol, port, source)) WITHOUT ROWID;
            CREATE TABLE ingested_files (hash TEXT PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
                mtime REAL NOT NULL, source TEXT NOT NULL, format TEXT NOT NULL, records INTEGER NOT NULL,
                edges INTEGER NOT NULL, ingested_at REAL NOT NULL);
            CREATE TABLE application_sightings (initiator BLOB NOT NULL, responder BLOB NOT NULL,
                protocol INTEGER NOT NULL, port INTEGER NOT NULL, application TEXT NOT NULL, first_seen REAL NOT NULL,
                detail TEXT NOT NULL, PRIMARY KEY (initiator, responder, protocol, port, application)) WITHOUT ROWID;
            CREATE TABLE alert_marks (initiator BLOB NOT NULL, responder BLOB NOT NULL, protocol INTEGER NOT NULL,
                port INTEGER NOT NULL, last_sent REAL NOT NULL, suppressed INTEGER NOT NULL,
                PRIMARY KEY (initiator, responder, protocol, port)) WITHOUT ROWID;
            INSERT INTO edges VALUES (x'00000000', x'ffffffff', 17, 67, 'span', 1772352000, 1772352000, 1, 300, 0,
                x'', 8);
            INSERT INTO application_sightings VALUES (x'00000000', x'ffffffff', 17, 67, 'dhcp', 1772352000,
                'DHCPDISCOVER client=00:17:88:01:02:03 hostname="lamp"');
            PRAGMA user_version = 4;
        )sql";
        char* error = nullptr;
        REQUIRE(sqlite3_exec(db, v4, nullptr, nullptr, &error) == SQLITE_OK);
        sqlite3_close(db);
    }
    BaselineStore store(path);
    auto kept = store.sightings();
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].subject.empty());
    CHECK(kept[0].detail == "DHCPDISCOVER client=00:17:88:01:02:03 hostname=\"lamp\"");
    // Two clients' messages on the same edge are two sightings now.
    const EdgeKey broadcast{*IpAddress::parse("0.0.0.0"), *IpAddress::parse("255.255.255.255"), Protocol::udp, 67};
    ObservedEdge edge{broadcast, {}, {}};
    edge.stats.first_seen = edge.stats.last_seen = 1772352100;
    edge.stats.connections = 1;
    IngestedFile file;
    file.file.hash = "feed";
    file.source = "span";
    store.commit_file(file, {edge},
                      {{broadcast, Application::dhcp, 1772352100, "DHCPREQUEST client=00:17:88:01:02:04", "00:17:88:01:02:04 DHCPREQUEST"},
                       {broadcast, Application::dhcp, 1772352101, "DHCPREQUEST client=00:17:88:01:02:05", "00:17:88:01:02:05 DHCPREQUEST"}});
    CHECK(store.sightings().size() == 3);
    CHECK(store.integrity_check() == "ok");
}
