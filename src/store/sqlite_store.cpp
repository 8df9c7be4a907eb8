// The baseline in one SQLite file (WAL journal), for a single host.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <unordered_set>

#include "day_blob.hpp"
#include "sqlite.hpp"
#include "store_backend.hpp"

namespace wardgate::store_internal {

namespace {

// 2: no index on last_seen. Keeping it cost an index update on every ingested edge, while
// only the rare age-out scan used it.
// 3: edges.days, the distinct UTC days each edge was seen (see day_blob.hpp).
// 4: edges.applications (ApplicationSet bits) and application_sightings, what showed each.
// 5: application_sightings.subject in the key: one sighting per DHCP client and message type.
// 6: host_macs, the Ethernet source addresses each address's frames came from.
constexpr int kSchemaVersion = 7;

// How long a writer waits for another process to finish writing before it gives up.
constexpr int kBusyTimeoutMs = 10000;

// Addresses are stored as 4- or 16-byte blobs (compact, and they sort by address).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS edges (
    initiator   BLOB    NOT NULL,
    responder   BLOB    NOT NULL,
    protocol    INTEGER NOT NULL,
    port        INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    first_seen  REAL    NOT NULL,
    last_seen   REAL    NOT NULL,
    connections INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    established INTEGER NOT NULL,
    days        BLOB    NOT NULL DEFAULT x'',
    applications INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (initiator, responder, protocol, port, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_by_responder ON edges (responder);
CREATE TABLE IF NOT EXISTS ingested_files (
    hash        TEXT PRIMARY KEY,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    mtime       REAL    NOT NULL,
    source      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    records     INTEGER NOT NULL,
    edges       INTEGER NOT NULL,
    ingested_at REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS application_sightings (
    initiator   BLOB    NOT NULL,
    responder   BLOB    NOT NULL,
    protocol    INTEGER NOT NULL,
    port        INTEGER NOT NULL,
    application TEXT    NOT NULL,
    subject     TEXT    NOT NULL DEFAULT '',
    first_seen  REAL    NOT NULL,
    detail      TEXT    NOT NULL,
    PRIMARY KEY (initiator, responder, protocol, port, application, subject)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_macs (
    address     BLOB    NOT NULL,
    mac         INTEGER NOT NULL,
    first_seen  REAL    NOT NULL,
    last_seen   REAL    NOT NULL,
    PRIMARY KEY (address, mac)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_marks (
    initiator  BLOB    NOT NULL,
    responder  BLOB    NOT NULL,
    protocol   INTEGER NOT NULL,
    port       INTEGER NOT NULL,
    last_sent  REAL    NOT NULL,
    suppressed INTEGER NOT NULL,
    PRIMARY KEY (initiator, responder, protocol, port)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scorecards (
    recorded_at REAL NOT NULL,
    site        TEXT NOT NULL,
    day         TEXT NOT NULL,
    kpi         TEXT NOT NULL,
    value       REAL NOT NULL,
    PRIMARY KEY (site, recorded_at, kpi)
) WITHOUT ROWID;
)sql";

constexpr const char* kEdgeColumns =
    "initiator, responder, protocol, port, source, first_seen, last_seen, connections, bytes, established, days, "
    "applications";

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

IngestedFile file_from_row(const Statement& s) {
    IngestedFile f;
    f.file.hash = s.text(0);
    f.file.path = s.text(1);
    f.file.size = static_cast<uint64_t>(s.integer(2));
    f.file.mtime = s.real(3);
    f.source = s.text(4);
    f.format = s.text(5);
    f.records = static_cast<uint64_t>(s.integer(6));
    f.edges = static_cast<uint64_t>(s.integer(7));
    f.ingested_at = s.real(8);
    return f;
}

// What the store knew before a commit: whether an edge (under any source) or its pair of
// addresses (either way round) is there. A batch that is large against the store loads all
// the store's keys in one ordered scan; otherwise each edge costs one or two B-tree lookups.
class StoreKeys {
public:
    enum class Seen { none, pair, edge };

    StoreKeys(sqlite3* h, size_t batch)
        : forward_(h, "SELECT protocol, port FROM edges WHERE initiator = ? AND responder = ?"),
          reverse_(h, "SELECT 1 FROM edges WHERE initiator = ? AND responder = ? LIMIT 1") {
        // Reading up to four keys per edge of the batch costs less than the batch's lookups.
        Statement scan(h, "SELECT initiator, responder, protocol, port FROM edges LIMIT ?");
        const auto limit = static_cast<int64_t>(4 * batch + 1);
        scan.bind(1, limit);
        int64_t rows = 0;
        while (scan.step()) {
            EdgeKey k{scan.address(0), scan.address(1), static_cast<Protocol>(scan.integer(2)),
                      static_cast<uint16_t>(scan.integer(3))};
            edges_.insert(k);
            pairs_.insert(pair_of(k.initiator, k.responder));
            ++rows;
        }
        in_memory_ = rows < limit;
        if (!in_memory_) {
            edges_.clear();
            pairs_.clear();
        }
    }

    Seen find(const EdgeKey& k) {
        if (in_memory_) {
            if (edges_.count(k)) return Seen::edge;
            return pairs_.count(pair_of(k.initiator, k.responder)) || pairs_.count(pair_of(k.responder, k.initiator))
                       ? Seen::pair
                       : Seen::none;
        }
        // The rows of the (initiator, responder) pair tell both whether the edge is known
        // and whether the pair is; only a pair never seen this way round needs the reverse.
        forward_.bind(1, k.initiator).bind(2, k.responder);
        bool pair_seen = false;
        bool edge_seen = false;
        while (!edge_seen && forward_.step()) {
            pair_seen = true;
            edge_seen = forward_.integer(0) == static_cast<int64_t>(k.protocol) &&
                        forward_.integer(1) == static_cast<int64_t>(k.responder_port);
        }
        forward_.reset();
        if (edge_seen) return Seen::edge;
        if (!pair_seen) {
            reverse_.bind(1, k.responder).bind(2, k.initiator);
            pair_seen = reverse_.step();
            reverse_.reset();
        }
        return pair_seen ? Seen::pair : Seen::none;
    }

private:
    // A pair of addresses as an EdgeKey with protocol and port left at their defaults.
    static EdgeKey pair_of(const IpAddress& a, const IpAddress& b) { return EdgeKey{a, b, Protocol::tcp, 0}; }

    Statement forward_;
    Statement reverse_;
    bool in_memory_ = false;
    std::unordered_set<EdgeKey, EdgeKeyHash> edges_;
    std::unordered_set<EdgeKey, EdgeKeyHash> pairs_;
};

// A file that exists, has bytes and does not start as every SQLite database does is named for
// what it is not, before SQLite opens it (and before any lock is taken on it).
void refuse_other_files(const std::filesystem::path& db) {
    static constexpr char kHeader[] = "SQLite format 3";  // and its terminating NUL: 16 bytes
    int fd = ::open(db.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;  // absent: SQLite creates it; unreadable: SQLite says so
    char head[sizeof kHeader] = {};
    const ssize_t n = ::read(fd, head, sizeof head);
    ::close(fd);
    if (n <= 0) return;  // empty: SQLite starts a database in it
    if (n != static_cast<ssize_t>(sizeof head) || std::memcmp(head, kHeader, sizeof head) != 0)
        throw StoreError(db.string() +
                         ": not a wardgate baseline database (file is not a database): name the database "
                         "`wardgate ingest --db` wrote, or a new file to start one");
}

// Switching a new file to WAL reads its header and then upgrades to a write lock. When another
// process opens the same new file at that moment, SQLite refuses the upgrade at once rather
// than wait (waiting could deadlock), so the busy timeout does not cover it: retry here, for
// as long as that timeout would have waited.
void switch_to_wal(sqlite3* h, const std::string& name) {
    auto journal_mode = [h](int* rc) {
        sqlite3_stmt* raw = nullptr;
        std::string result;
        *rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
        if (*rc == SQLITE_OK) {
            *rc = sqlite3_step(raw);
            if (*rc == SQLITE_ROW) result = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
        }
        sqlite3_finalize(raw);
        return result;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    for (;;) {
        int rc = SQLITE_OK;
        std::string mode = journal_mode(&rc);
        if (rc == SQLITE_ROW && mode == "wal") return;
        if (rc == SQLITE_ROW) throw StoreError(name + ": cannot switch the database to WAL journal mode");
        if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline)
            throw_store_error(h, "cannot switch the database to WAL journal mode");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

class SqliteStore final : public StoreBackend {
public:
    explicit SqliteStore(const std::filesystem::path& db);

    std::optional<IngestedFile> find_file(const std::string& hash) override;
    CommitResult commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                             const std::vector<ApplicationSighting>& sightings,
                             const std::vector<MacSighting>& macs) override;
    uint64_t age_out(double cutoff) override;
    std::vector<StoredEdge> query(const EdgeQuery& q) override;
    std::vector<ApplicationSighting> sightings(const std::vector<IpAddress>& addresses) override;
    std::vector<MacSighting> macs() override;
    std::vector<IngestedFile> files() override;
    uint64_t edge_count() override;
    std::vector<AlertMark> alert_marks() override;
    void save_alert_marks(const std::vector<AlertMark>& marks) override;
    void record_scorecard(const ScorecardRecord& r) override;
    std::vector<ScorecardRecord> scorecards(const std::string& site) override;
    std::string name() override { return name_; }
    std::string journal_mode() override;
    std::string integrity_check() override;

private:
    std::string name_;
    Connection db_;
};

SqliteStore::SqliteStore(const std::filesystem::path& db) : name_(db.string()) {
    sqlite3* raw = nullptr;
    refuse_other_files(db);
    int rc = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) throw_store_error(raw, "cannot open the baseline database " + db.string());
    sqlite3* h = db_.get();
    sqlite3_busy_timeout(h, kBusyTimeoutMs);
    sqlite3_extended_result_codes(h, 1);
    switch_to_wal(h, db.string());
    // FULL: a committed file survives power loss too, at one fsync per file.
    exec(h, "PRAGMA synchronous=FULL");
    // A file with a million new edges touches pages all over both B-trees; with SQLite's 2 MiB
    // default cache nearly every one of them is read back, and ingest slows by two orders.
    exec(h, "PRAGMA cache_size=-65536");
    auto schema_version = [h] {
        Statement version(h, "PRAGMA user_version");
        version.step();
        return version.integer(0);
    };
    // Read without keeping the statement open: an open read would pin this connection's
    // snapshot, and the write transaction below would then fail at once, instead of waiting,
    // when another process (an ingest that just created the file) wrote in between.
    int64_t found = schema_version();
    if (found > kSchemaVersion)
        throw StoreError(db.string() + ": written by a newer wardgate (schema " + std::to_string(found) + ")");
    register_day_functions(h);
    if (found < kSchemaVersion) {
        Transaction t(h);
        // Another process (an ingest that created the file) may have migrated it while this one
        // waited for the write lock: then there is nothing to write, and writing anyway would
        // end that process's read snapshot and fail its next write at once.
        if (schema_version() >= kSchemaVersion) return;
        bool old_sightings = false;
        {
            Statement table(h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'application_sightings' AND "
                               "NOT EXISTS (SELECT 1 FROM pragma_table_info('application_sightings') WHERE name = 'subject')");
            old_sightings = table.step();
        }
        if (old_sightings) exec(h, "ALTER TABLE application_sightings RENAME TO application_sightings_v4");
        exec(h, kSchema);
        if (old_sightings) {
            exec(h, "INSERT INTO application_sightings (initiator, responder, protocol, port, application, "
                                    "first_seen, detail) SELECT initiator, responder, protocol, port, application, "
                                    "first_seen, detail FROM application_sightings_v4");
            exec(h, "DROP TABLE application_sightings_v4");
        }
        exec(h, "DROP INDEX IF EXISTS edges_by_last_seen");
        bool has_days = false;
        {
            Statement column(h, "SELECT 1 FROM pragma_table_info('edges') WHERE name = 'days'");
            has_days = column.step();
        }
        if (!has_days) {
            // Which days older edges were seen on is lost; the day of first_seen surely is one.
            exec(h, "ALTER TABLE edges ADD COLUMN days BLOB NOT NULL DEFAULT x''");
            exec(h, "UPDATE edges SET days = wardgate_day_of(first_seen)");
        }
        bool has_applications = false;
        {
            Statement column(h, "SELECT 1 FROM pragma_table_info('edges') WHERE name = 'applications'");
            has_applications = column.step();
        }
        if (!has_applications) exec(h, "ALTER TABLE edges ADD COLUMN applications INTEGER NOT NULL DEFAULT 0");
        exec(h, ("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        t.commit();
    }
}

std::optional<IngestedFile> SqliteStore::find_file(const std::string& hash) {
    Statement s(db_.get(),
                "SELECT hash, path, size, mtime, source, format, records, edges, ingested_at FROM ingested_files "
                "WHERE hash = ?");
    s.bind(1, hash);
    if (!s.step()) return std::nullopt;
    return file_from_row(s);
}

CommitResult SqliteStore::commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                                        const std::vector<ApplicationSighting>& sightings,
                                        const std::vector<MacSighting>& macs) {
    sqlite3* h = db_.get();
    CommitResult result;
    Transaction t(h);
    // Checked again inside the write lock: another process may have ingested the file meanwhile.
    if (auto previous = find_file(ingested.file.hash)) {
        result.already_ingested = true;
        result.previous = *previous;
        return result;
    }
    // Every edge is checked against the store as it was before this file, then written.
    StoreKeys before(h, edges.size());
    for (const auto& e : edges) {
        auto seen = before.find(e.key);
        if (seen == StoreKeys::Seen::edge) continue;
        result.new_edges.push_back({e, seen == StoreKeys::Seen::pair});
    }
    Statement upsert(h, std::string("INSERT INTO edges (") + kEdgeColumns +
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (initiator, responder, protocol, port, source) DO UPDATE SET "
                            "first_seen = min(first_seen, excluded.first_seen), "
                            "last_seen = max(last_seen, excluded.last_seen), "
                            "connections = connections + excluded.connections, "
                            "bytes = bytes + excluded.bytes, "
                            "established = max(established, excluded.established), "
                            "days = wardgate_days_union(days, excluded.days), "
                            "applications = applications | excluded.applications");
    std::string days;
    for (const auto& e : edges) {
        upsert.bind(1, e.key.initiator).bind(2, e.key.responder);
        upsert.bind(3, static_cast<int64_t>(e.key.protocol)).bind(4, static_cast<int64_t>(e.key.responder_port));
        upsert.bind(5, ingested.source).bind(6, e.stats.first_seen).bind(7, e.stats.last_seen);
        upsert.bind(8, static_cast<int64_t>(e.stats.connections)).bind(9, static_cast<int64_t>(e.stats.bytes));
        upsert.bind(10, static_cast<int64_t>(e.stats.established ? 1 : 0));
        days = encode_days(e.days);
        upsert.bind_blob(11, days.data(), days.size());
        upsert.bind(12, static_cast<int64_t>(e.stats.applications));
        upsert.step();
        upsert.reset();
    }
    Statement sighting(h,
                       "INSERT INTO application_sightings (initiator, responder, protocol, port, application, first_seen, "
                       "detail, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (initiator, responder, protocol, port, application, subject) "
                       "DO UPDATE SET first_seen = excluded.first_seen, detail = excluded.detail "
                       "WHERE excluded.first_seen < first_seen");
    for (const auto& s : sightings) {
        sighting.bind(1, s.key.initiator).bind(2, s.key.responder).bind(3, static_cast<int64_t>(s.key.protocol));
        sighting.bind(4, static_cast<int64_t>(s.key.responder_port)).bind(5, to_string(s.application));
        sighting.bind(6, s.first_seen).bind(7, s.detail).bind(8, s.subject);
        sighting.step();
        sighting.reset();
    }
    Statement mac(h,
                  "INSERT INTO host_macs (address, mac, first_seen, last_seen) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT (address, mac) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
                  "last_seen = max(last_seen, excluded.last_seen)");
    for (const auto& m : macs) {
        mac.bind(1, m.address).bind(2, static_cast<int64_t>(m.mac)).bind(3, m.first_seen).bind(4, m.last_seen);
        mac.step();
        mac.reset();
    }
    Statement file(h,
                   "INSERT INTO ingested_files (hash, path, size, mtime, source, format, records, edges, ingested_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    file.bind(1, ingested.file.hash).bind(2, ingested.file.path.string());
    file.bind(3, static_cast<int64_t>(ingested.file.size)).bind(4, ingested.file.mtime);
    file.bind(5, ingested.source).bind(6, ingested.format).bind(7, static_cast<int64_t>(ingested.records));
    file.bind(8, static_cast<int64_t>(edges.size())).bind(9, ingested.ingested_at > 0 ? ingested.ingested_at : now_seconds());
    file.step();
    t.commit();
    return result;
}

uint64_t SqliteStore::age_out(double cutoff) {
    sqlite3* h = db_.get();
    Transaction t(h);
    Statement s(h, "DELETE FROM edges WHERE last_seen < ?");
    s.bind(1, cutoff);
    s.step();
    auto removed = static_cast<uint64_t>(sqlite3_changes64(h));
    // Days before the cutoff go too, so an edge's days stay within the retention. Only rows
    // holding such a day compare below the cutoff's blob (see day_blob.hpp).
    const uint32_t first_kept = utc_day(cutoff);
    DaySet cutoff_day;
    cutoff_day.insert(first_kept);
    const std::string cutoff_blob = encode_days(cutoff_day);
    Statement days(h, "UPDATE edges SET days = wardgate_days_from(days, ?) WHERE days < ? AND length(days) > 0");
    days.bind(1, static_cast<int64_t>(first_kept)).bind_blob(2, cutoff_blob.data(), cutoff_blob.size());
    days.step();
    Statement batches(h, "DELETE FROM ingested_files WHERE format IN ('netflow', 'conntrack', 'nflog') AND ingested_at < ?");
    batches.bind(1, cutoff);
    batches.step();
    exec(h,
                         "DELETE FROM application_sightings WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE "
                         "e.initiator = application_sightings.initiator AND e.responder = application_sightings.responder "
                         "AND e.protocol = application_sightings.protocol AND e.port = application_sightings.port)");
    Statement macs(h, "DELETE FROM host_macs WHERE last_seen < ?");
    macs.bind(1, cutoff);
    macs.step();
    Statement marks(h, "DELETE FROM alert_marks WHERE last_sent < ?");
    marks.bind(1, cutoff);
    marks.step();
    t.commit();
    return removed;
}

std::vector<StoredEdge> SqliteStore::query(const EdgeQuery& q) {
    std::string sql = std::string("SELECT ") + kEdgeColumns + " FROM edges WHERE 1";
    if (q.since) sql += " AND last_seen >= ?";
    if (q.until) sql += " AND first_seen <= ?";
    if (q.protocol) sql += " AND protocol = ?";
    if (q.port) sql += " AND port = ?";
    if (q.source) sql += " AND source = ?";
    if (!q.include_denied) sql += " AND source <> ?";
    if (!q.addresses.empty()) {
        std::string list;
        for (size_t i = 0; i < q.addresses.size(); ++i) list += (i ? ", ?" : "?") + std::to_string(100 + i);
        sql += " AND (initiator IN (" + list + ") OR responder IN (" + list + "))";
    }
    sql += " ORDER BY initiator, responder, protocol, port, source";
    Statement s(db_.get(), sql);
    int next = 1;  // the address list is bound as ?100, ?101...
    if (q.since) s.bind(next++, *q.since);
    if (q.until) s.bind(next++, *q.until);
    if (q.protocol) s.bind(next++, static_cast<int64_t>(*q.protocol));
    if (q.port) s.bind(next++, static_cast<int64_t>(*q.port));
    if (q.source) s.bind(next++, *q.source);
    if (!q.include_denied) s.bind(next++, std::string_view(kDeniedSource));
    for (size_t i = 0; i < q.addresses.size(); ++i) s.bind(static_cast<int>(100 + i), q.addresses[i]);
    std::vector<StoredEdge> out;
    while (s.step()) {
        StoredEdge e;
        e.key.initiator = s.address(0);
        e.key.responder = s.address(1);
        e.key.protocol = static_cast<Protocol>(s.integer(2));
        e.key.responder_port = static_cast<uint16_t>(s.integer(3));
        e.source = s.text(4);
        e.stats.first_seen = s.real(5);
        e.stats.last_seen = s.real(6);
        e.stats.connections = static_cast<uint64_t>(s.integer(7));
        e.stats.bytes = static_cast<uint64_t>(s.integer(8));
        e.stats.established = s.integer(9) != 0;
        e.days = s.days(10);
        e.stats.days_seen = static_cast<uint32_t>(e.days.size());
        e.stats.applications = known_applications(static_cast<ApplicationSet>(s.integer(11)));
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<ApplicationSighting> SqliteStore::sightings(const std::vector<IpAddress>& addresses) {
    std::string sql =
        "SELECT initiator, responder, protocol, port, application, first_seen, detail, subject FROM application_sightings";
    std::string list;
    for (size_t i = 0; i < addresses.size(); ++i) list += (i ? ", ?" : "?") + std::to_string(100 + i);
    if (!addresses.empty()) sql += " WHERE initiator IN (" + list + ") OR responder IN (" + list + ")";
    Statement s(db_.get(), sql);
    for (size_t i = 0; i < addresses.size(); ++i) s.bind(static_cast<int>(100 + i), addresses[i]);
    std::vector<ApplicationSighting> out;
    while (s.step()) {
        auto application = parse_application(s.text(4));
        if (!application) continue;  // named by a newer version
        out.push_back({EdgeKey{s.address(0), s.address(1), static_cast<Protocol>(s.integer(2)),
                               static_cast<uint16_t>(s.integer(3))},
                       *application, s.real(5), s.text(6), s.text(7)});
    }
    return out;
}

std::vector<MacSighting> SqliteStore::macs() {
    Statement s(db_.get(), "SELECT address, mac, first_seen, last_seen FROM host_macs ORDER BY address, mac");
    std::vector<MacSighting> out;
    while (s.step()) out.push_back({s.address(0), static_cast<uint64_t>(s.integer(1)), s.real(2), s.real(3)});
    return out;
}

std::vector<IngestedFile> SqliteStore::files() {
    Statement s(db_.get(),
                "SELECT hash, path, size, mtime, source, format, records, edges, ingested_at FROM ingested_files "
                "ORDER BY ingested_at, path");
    std::vector<IngestedFile> out;
    while (s.step()) out.push_back(file_from_row(s));
    return out;
}

uint64_t SqliteStore::edge_count() {
    Statement s(db_.get(), "SELECT count(*) FROM edges");
    s.step();
    return static_cast<uint64_t>(s.integer(0));
}

std::vector<AlertMark> SqliteStore::alert_marks() {
    Statement s(db_.get(), "SELECT initiator, responder, protocol, port, last_sent, suppressed FROM alert_marks");
    std::vector<AlertMark> out;
    while (s.step()) {
        AlertMark m;
        m.key = EdgeKey{s.address(0), s.address(1), static_cast<Protocol>(s.integer(2)),
                        static_cast<uint16_t>(s.integer(3))};
        m.last_sent = s.real(4);
        m.suppressed = static_cast<uint64_t>(s.integer(5));
        out.push_back(m);
    }
    return out;
}

void SqliteStore::save_alert_marks(const std::vector<AlertMark>& marks) {
    sqlite3* h = db_.get();
    Transaction t(h);
    Statement s(h,
                "INSERT INTO alert_marks (initiator, responder, protocol, port, last_sent, suppressed) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (initiator, responder, protocol, port) DO UPDATE SET "
                "last_sent = excluded.last_sent, suppressed = excluded.suppressed");
    for (const auto& m : marks) {
        s.bind(1, m.key.initiator).bind(2, m.key.responder).bind(3, static_cast<int64_t>(m.key.protocol));
        s.bind(4, static_cast<int64_t>(m.key.responder_port)).bind(5, m.last_sent);
        s.bind(6, static_cast<int64_t>(m.suppressed));
        s.step();
        s.reset();
    }
    t.commit();
}

void SqliteStore::record_scorecard(const ScorecardRecord& r) {
    sqlite3* h = db_.get();
    Transaction t(h);
    Statement s(h, "INSERT OR REPLACE INTO scorecards (recorded_at, site, day, kpi, value) VALUES (?, ?, ?, ?, ?)");
    for (const auto& [kpi, value] : r.values) {
        s.bind(1, r.recorded_at).bind(2, r.site).bind(3, r.day).bind(4, kpi).bind(5, value);
        s.step();
        s.reset();
    }
    t.commit();
}

std::vector<ScorecardRecord> SqliteStore::scorecards(const std::string& site) {
    Statement s(db_.get(),
                "SELECT recorded_at, day, kpi, value FROM scorecards WHERE site = ? ORDER BY recorded_at, kpi");
    s.bind(1, site);
    std::vector<ScorecardRecord> out;
    while (s.step()) {
        double at = s.real(0);
        if (out.empty() || out.back().recorded_at != at) out.push_back({at, site, s.text(1), {}});
        out.back().values.emplace_back(s.text(2), s.real(3));
    }
    return out;
}

std::string SqliteStore::journal_mode() {
    Statement s(db_.get(), "PRAGMA journal_mode");
    s.step();
    return s.text(0);
}

std::string SqliteStore::integrity_check() {
    Statement s(db_.get(), "PRAGMA integrity_check");
    std::string out;
    while (s.step()) out += (out.empty() ? "" : "\n") + s.text(0);
    return out;
}

std::unique_ptr<StoreBackend> open_sqlite_store(const std::filesystem::path& file) {
    return std::make_unique<SqliteStore>(file);
}

}  // namespace wardgate::store_internal
