// The baseline shared by many writers: a real PostgreSQL server that several collectors,
// sensors and ingest runs write at once, with counts added exactly and no deadlock; and what
// both backends keep beyond edges (application sightings, MACs, alert marks, scorecards).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/ip_address.hpp"
#include "support/store_backends.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/ingest.hpp"

using namespace wardgate;
using wardgate::testing::ip;
using wardgate::testing::shell_quoted;
using wardgate::testing::store_location;
using wardgate::testing::TempDir;
using wardgate::testing::days_of;

namespace {

// Key i of a pool shared by every writer: scattered addresses, both families, some ports.
EdgeKey pool_key(int i) {
    const std::string initiator = i % 7 == 0 ? "fd00::" + std::to_string(i % 97 + 1)
                                             : "10." + std::to_string(i % 13) + "." + std::to_string(i % 251) + ".7";
    const std::string responder = i % 7 == 0 ? "fd00::a:" + std::to_string(i % 5 + 1) : "10.50.0." + std::to_string(i % 29 + 1);
    return EdgeKey{ip(initiator.c_str()), ip(responder.c_str()), i % 3 ? Protocol::tcp : Protocol::udp, static_cast<uint16_t>(100 + i % 41)};
}

struct Expected {
    double first_seen = 1e300;
    double last_seen = 0;
    uint64_t connections = 0;
    uint64_t bytes = 0;
    bool established = false;
    std::set<uint32_t> days;
};

}  // namespace

TEST_CASE("shared store: four writers at once on overlapping edges lose no count and do not deadlock", "[store][postgresql]") {
    TempDir tmp("shared");
    const std::string db = store_location("postgresql", tmp, "writers");
    constexpr int kWriters = 4, kBatches = 12, kPerBatch = 1500, kPool = 2500;

    // Every batch is a random subset of the pool in random order, so writers meet on the same
    // rows constantly; each batch is one commit under its own writer's source.
    struct Batch {
        IngestedFile file;
        std::vector<ObservedEdge> edges;
    };
    std::vector<std::vector<Batch>> plans(kWriters);
    std::map<std::pair<EdgeKey, std::string>, Expected> expected;
    std::mt19937 random(20261205);
    for (int w = 0; w < kWriters; ++w) {
        const std::string source = "collector-" + std::to_string(w % 2);  // two writers share each source
        for (int b = 0; b < kBatches; ++b) {
            Batch batch;
            batch.file.file.path = "batch";
            batch.file.file.hash = "writer-" + std::to_string(w) + "-batch-" + std::to_string(b);
            batch.file.source = source;
            batch.file.format = "netflow";
            std::vector<int> keys(kPool);
            for (int i = 0; i < kPool; ++i) keys[i] = i;
            std::shuffle(keys.begin(), keys.end(), random);
            keys.resize(kPerBatch);
            for (int k : keys) {
                ObservedEdge e;
                e.key = pool_key(k);
                e.stats.first_seen = 1.7e9 + static_cast<double>(random() % 3000000) + 0.25;
                e.stats.last_seen = e.stats.first_seen + static_cast<double>(random() % 500);
                e.stats.connections = 1 + random() % 9;
                e.stats.bytes = random() % 100000;
                e.stats.established = random() % 4 != 0;
                e.days.insert(utc_day(e.stats.first_seen));
                e.days.insert(utc_day(e.stats.last_seen));
                e.stats.days_seen = static_cast<uint32_t>(e.days.size());
                Expected& x = expected[{e.key, source}];
                x.first_seen = std::min(x.first_seen, e.stats.first_seen);
                x.last_seen = std::max(x.last_seen, e.stats.last_seen);
                x.connections += e.stats.connections;
                x.bytes += e.stats.bytes;
                x.established = x.established || e.stats.established;
                for (uint32_t d : e.days.days()) x.days.insert(d);
                batch.edges.push_back(std::move(e));
            }
            batch.file.records = batch.edges.size();
            plans[w].push_back(std::move(batch));
        }
    }
    { BaselineStore create(db); }  // the schema, before the race

    std::vector<std::string> errors(kWriters);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
        writers.emplace_back([&, w] {
            try {
                BaselineStore store(db);
                for (const auto& batch : plans[w]) store.commit_file(batch.file, batch.edges);
            } catch (const std::exception& e) {
                errors[w] = e.what();
            }
        });
    for (auto& t : writers) t.join();
    for (const auto& e : errors) CHECK(e.empty());

    BaselineStore store(db);
    CHECK(store.files().size() == static_cast<size_t>(kWriters * kBatches));
    const auto rows = store.query();
    REQUIRE(rows.size() == expected.size());
    size_t exact = 0;
    for (const auto& row : rows) {
        auto it = expected.find({row.key, row.source});
        REQUIRE(it != expected.end());
        const Expected& x = it->second;
        const bool same = row.stats.connections == x.connections && row.stats.bytes == x.bytes &&
                          row.stats.first_seen == x.first_seen && row.stats.last_seen == x.last_seen &&
                          row.stats.established == x.established &&
                          days_of(row) == std::vector<uint32_t>(x.days.begin(), x.days.end());
        if (same) ++exact;
    }
    CHECK(exact == expected.size());
}

TEST_CASE("shared store: wardgate ingest processes at once on overlapping files, and the same file twice at once",
          "[store][postgresql]") {
    TempDir tmp("shared");
    const std::string db = store_location("postgresql", tmp, "ingests");
    // Eight files over the same 400 edges; four processes each ingest all eight in a different
    // order, so each file is committed once and its three other attempts find it recorded.
    std::vector<std::string> files;
    uint64_t records = 0;
    for (int f = 0; f < 8; ++f) {
        std::string text = "initiator,responder,protocol,port,start,duration,bytes\n";
        for (int i = 0; i < 400; ++i) {
            text += "10.20." + std::to_string(i % 20) + "." + std::to_string(i / 20 + 1) + ",10.50.0." +
                    std::to_string(i % 7 + 1) + ",tcp," + std::to_string(2000 + i % 11) + ",2026-03-0" +
                    std::to_string(f % 5 + 1) + "T08:00:0" + std::to_string(f) + "Z,1,100\n";
            ++records;
        }
        files.push_back(tmp.write("f" + std::to_string(f) + ".csv", text));
    }
    std::vector<testing::CommandResult> results(4);
    std::vector<std::thread> runs;
    for (int p = 0; p < 4; ++p)
        runs.emplace_back([&, p] {
            std::string args = "ingest --db " + shell_quoted(db);
            for (int f = 0; f < 8; ++f) args += " " + files[static_cast<size_t>((f + 2 * p) % 8)];
            results[static_cast<size_t>(p)] = testing::run_wardgate(args);
        });
    for (auto& t : runs) t.join();
    for (const auto& r : results) {
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
    }
    BaselineStore store(db);
    CHECK(store.files().size() == 8);
    uint64_t connections = 0;
    for (const auto& e : store.query()) connections += e.stats.connections;
    CHECK(connections == records);  // each file counted once, though four processes offered it
    CHECK(store.edge_count() == 400);
}

TEST_CASE("shared store: an unreachable or missing database is an error naming it, without its password",
          "[store][postgresql]") {
    TempDir tmp("shared");
    auto& server = testing::shared_postgres();
    const std::string missing = server.url("no_such_database") + "&password=s3cret-pw";
    auto r = testing::run_wardgate("flows --db " + shell_quoted(missing));
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("cannot connect to the baseline database postgresql://wardgate@"));
    CHECK_THAT(r.err, Catch::Contains("/no_such_database"));
    CHECK_THAT(r.err, Catch::Contains("does not exist"));
    CHECK(r.err.find("s3cret-pw") == std::string::npos);

    auto plan = testing::run_wardgate("plan " + testing::kExampleSite + " --db " +
                                      shell_quoted("postgresql:///x?host=" + tmp.path.string() + "&port=1"));
    CHECK(plan.exit_code == 1);
    CHECK_THAT(plan.err, Catch::Contains("cannot connect to the baseline database"));

    auto nonsense = testing::run_wardgate("flows --db " + shell_quoted("postgresql://[broken"));
    CHECK(nonsense.exit_code == 1);
    CHECK_THAT(nonsense.err, Catch::Contains("not a PostgreSQL connection URI"));
}

TEST_CASE("shared store: a database a newer wardgate wrote is refused, not misread", "[store][postgresql]") {
    TempDir tmp("shared");
    const std::string db = store_location("postgresql", tmp, "newer");
    { BaselineStore create(db); }
    const std::string name = db.substr(db.find(":///") + 4, db.find('?') - db.find(":///") - 4);
    testing::shared_postgres().execute(name, "UPDATE wardgate_meta SET value = '99' WHERE key = 'schema'");
    CHECK_THROWS_WITH(BaselineStore(db), Catch::Contains("written by a newer wardgate (schema 99)"));
}

TEST_CASE("shared store: sightings, MACs, alert marks and scorecards are kept alike by both backends", "[store]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("store: " << backend);
    TempDir tmp("shared");
    BaselineStore store(store_location(backend, tmp));
    const EdgeKey dicom{ip("10.60.0.5"), ip("10.50.0.10"), Protocol::tcp, 104};
    const EdgeKey dhcp{ip("0.0.0.0"), ip("255.255.255.255"), Protocol::udp, 67};
    auto file = [](const std::string& hash) {
        IngestedFile f;
        f.file.path = hash;
        f.file.hash = hash;
        f.source = "pcap";
        f.format = "pcap";
        return f;
    };
    ObservedEdge d{dicom, EdgeStats{5000, 5010, 1, 10, true, 0}, DaySet::of({0})};
    ObservedEdge h{dhcp, EdgeStats{5000, 5000, 2, 600, false, 0}, DaySet::of({0})};
    store.commit_file(file("one"), {d, h},
                      {{dicom, Application::dicom, 5000, "A-ASSOCIATE-RQ calling \"CT01\"\tcalled \"PACS\"", ""},
                       {dhcp, Application::dhcp, 5000, "DHCPDISCOVER", "00:17:88:01:02:03 DHCPDISCOVER"},
                       {dhcp, Application::dhcp, 4000, "earlier", "00:17:88:01:02:03 DHCPDISCOVER"}},
                      {{ip("10.60.0.5"), 0x001788010203ULL, 5000, 5000}, {ip("10.60.0.5"), 0x001788010203ULL, 4500, 6000}});
    // A later file: a later sighting changes nothing, an earlier one replaces it; MAC times widen.
    store.commit_file(file("two"), {d},
                      {{dicom, Application::dicom, 6000, "later", ""}, {dicom, Application::dicom, 3000, "earliest\\one", ""}},
                      {{ip("10.60.0.5"), 0x001788010203ULL, 4000, 7000}, {ip("fd00::5"), 0x0a0000000001ULL, 1, 2}});
    auto sightings = store.sightings();
    REQUIRE(sightings.size() == 2);
    CHECK(sightings[0].key == dhcp);
    CHECK(sightings[0].first_seen == 4000);
    CHECK(sightings[0].detail == "earlier");
    CHECK(sightings[1].key == dicom);
    CHECK(sightings[1].first_seen == 3000);
    CHECK(sightings[1].detail == "earliest\\one");
    CHECK(store.sightings({ip("10.50.0.10")}).size() == 1);
    auto macs = store.macs();
    REQUIRE(macs.size() == 2);
    CHECK(macs[0].address == ip("10.60.0.5"));
    CHECK(macs[0].first_seen == 4000);
    CHECK(macs[0].last_seen == 7000);
    CHECK(macs[1].mac == 0x0a0000000001ULL);

    store.save_alert_marks({{dicom, 100.5, 3}, {dhcp, 200, 0}});
    store.save_alert_marks({{dicom, 150, 4}});
    auto marks = store.alert_marks();
    REQUIRE(marks.size() == 2);
    std::map<uint16_t, std::pair<double, uint64_t>> by_port;
    for (const auto& m : marks) by_port[m.key.responder_port] = {m.last_sent, m.suppressed};
    CHECK(by_port[104] == std::pair<double, uint64_t>{150, 4});
    CHECK(by_port[67] == std::pair<double, uint64_t>{200, 0});

    store.record_scorecard({1000, "north", "2026-03-01", {{"segmented", 0.5}, {"blocked", 12}}});
    store.record_scorecard({2000, "north", "2026-03-02", {{"segmented", 0.75}}});
    store.record_scorecard({1500, "south", "2026-03-01", {{"segmented", 1}}});
    auto history = store.scorecards("north");
    REQUIRE(history.size() == 2);
    CHECK(history[0].day == "2026-03-01");
    CHECK(history[0].values == std::vector<std::pair<std::string, double>>{{"blocked", 12}, {"segmented", 0.5}});
    CHECK(history[1].values == std::vector<std::pair<std::string, double>>{{"segmented", 0.75}});
    CHECK(store.integrity_check() == "ok");
}

TEST_CASE("shared store: a row another program wrote in a form wardgate never writes stops the read, naming its column",
          "[store][postgresql]") {
    struct Damage {
        const char* update;
        const char* column;
        const char* expected;
    };
    const auto damage = GENERATE(Damage{"SET protocol = 999", "protocol", "an integer from 0 to 255"},
                                 Damage{"SET port = -1", "port", "an integer from 0 to 65535"},
                                 Damage{"SET initiator = '\\x0a0000'::bytea", "initiator", "an address"},
                                 Damage{"SET responder = '\\x'::bytea", "responder", "an address"},
                                 Damage{"SET days = '{20513,-3}'", "days", "an array of day numbers"},
                                 Damage{"SET days = '{20513,NULL}'", "days", "an array of day numbers"},
                                 Damage{"SET first_seen = 'NaN'", "first_seen", "a finite number"},
                                 Damage{"SET last_seen = 'Infinity'", "last_seen", "a finite number"},
                                 Damage{"SET connections = -5", "connections", "an integer from 0 to"},
                                 Damage{"SET applications = 70000", "applications", "an integer from 0 to 65535"});
    TempDir tmp("shared");
    const std::string db = store_location("postgresql", tmp, "damaged");
    REQUIRE(testing::run_wardgate("ingest " + testing::kExampleSite + "/flows/conn.log --db " + shell_quoted(db)).exit_code == 0);
    const std::string name = db.substr(db.find(":///") + 4, db.find('?') - db.find(":///") - 4);
    // One row of the baseline, as a program with write access to the table could leave it.
    testing::shared_postgres().execute(
        name, std::string("UPDATE edges ") + damage.update +
                  " WHERE ctid = (SELECT ctid FROM edges ORDER BY initiator, responder, protocol, port, source LIMIT 1)");
    INFO(damage.update);
    auto flows = testing::run_wardgate("flows --db " + shell_quoted(db));
    CHECK(flows.exit_code == 1);
    CHECK_THAT(flows.err, Catch::Contains(std::string("column \"") + damage.column + "\", row ") &&
                              Catch::Contains(std::string("of a result: expected ") + damage.expected));
    CHECK_THAT(flows.err, Catch::Contains("postgresql://"));
}
