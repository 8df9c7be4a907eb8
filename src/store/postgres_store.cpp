// The baseline in a PostgreSQL database that several collectors, sensors and gateways share.
//
// The same tables as the SQLite store, with PostgreSQL's types: addresses as bytea (4 or 16
// bytes, so they sort as SQLite's blobs do), an edge's days as a sorted bigint[]. A batch is
// copied into temporary tables, then folded into the shared ones with upserts that add counts
// and widen times, rows taken in key order so that concurrent writers never wait on each
// other in a cycle; the server's deadlock or serialisation failures are retried all the same.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <unordered_map>

#include "postgres.hpp"
#include "store_backend.hpp"
#include "wardgate/flows/aggregator.hpp"

namespace wardgate::store_internal {

// Named, not anonymous: the SQLite store's file has helpers of the same names.
namespace postgres_tables {

constexpr int kSchemaVersion = 1;
// pg_advisory_xact_lock key under which the schema is created (any constant of wardgate's own).
constexpr const char* kSchemaLock = "7157302154628706921";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS wardgate_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS edges (
    initiator    bytea            NOT NULL,
    responder    bytea            NOT NULL,
    protocol     integer          NOT NULL,
    port         integer          NOT NULL,
    source       text             NOT NULL,
    first_seen   double precision NOT NULL,
    last_seen    double precision NOT NULL,
    connections  bigint           NOT NULL,
    bytes        bigint           NOT NULL,
    established  boolean          NOT NULL,
    days         bigint[]         NOT NULL DEFAULT '{}',
    applications integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (initiator, responder, protocol, port, source)
);
CREATE INDEX IF NOT EXISTS edges_by_responder ON edges (responder);
CREATE TABLE IF NOT EXISTS ingested_files (
    hash        text PRIMARY KEY,
    path        text             NOT NULL,
    size        bigint           NOT NULL,
    mtime       double precision NOT NULL,
    source      text             NOT NULL,
    format      text             NOT NULL,
    records     bigint           NOT NULL,
    edges       bigint           NOT NULL,
    ingested_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS application_sightings (
    initiator   bytea            NOT NULL,
    responder   bytea            NOT NULL,
    protocol    integer          NOT NULL,
    port        integer          NOT NULL,
    application text             NOT NULL,
    subject     text             NOT NULL DEFAULT '',
    first_seen  double precision NOT NULL,
    detail      text             NOT NULL,
    PRIMARY KEY (initiator, responder, protocol, port, application, subject)
);
CREATE TABLE IF NOT EXISTS host_macs (
    address    bytea            NOT NULL,
    mac        bigint           NOT NULL,
    first_seen double precision NOT NULL,
    last_seen  double precision NOT NULL,
    PRIMARY KEY (address, mac)
);
CREATE TABLE IF NOT EXISTS alert_marks (
    initiator  bytea            NOT NULL,
    responder  bytea            NOT NULL,
    protocol   integer          NOT NULL,
    port       integer          NOT NULL,
    last_sent  double precision NOT NULL,
    suppressed bigint           NOT NULL,
    PRIMARY KEY (initiator, responder, protocol, port)
);
CREATE TABLE IF NOT EXISTS scorecards (
    recorded_at double precision NOT NULL,
    site        text             NOT NULL,
    day         text             NOT NULL,
    kpi         text             NOT NULL,
    value       double precision NOT NULL,
    PRIMARY KEY (site, recorded_at, kpi)
);
CREATE OR REPLACE FUNCTION wardgate_days_union(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a @> b THEN a
                ELSE ARRAY(SELECT DISTINCT d FROM unnest(a || b) AS u(d) ORDER BY d) END
$$;
)sql";

// Per connection, emptied at each commit: a batch lands here by COPY before the upserts.
constexpr const char* kIncoming = R"sql(
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_edges (LIKE edges) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_sightings (LIKE application_sightings) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_macs (LIKE host_macs) ON COMMIT DELETE ROWS;
)sql";

constexpr const char* kEdgeColumns =
    "initiator, responder, protocol, port, source, first_seen, last_seen, connections, bytes, established, days, "
    "applications";
constexpr const char* kFileColumns = "hash, path, size, mtime, source, format, records, edges, ingested_at";

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

IngestedFile file_from_row(const pg::Result& r, int row) {
    IngestedFile f;
    f.file.hash = r.text(row, 0);
    f.file.path = r.text(row, 1);
    f.file.size = r.count(row, 2);
    f.file.mtime = r.real(row, 3);
    f.source = r.text(row, 4);
    f.format = r.text(row, 5);
    f.records = r.count(row, 6);
    f.edges = r.count(row, 7);
    f.ingested_at = r.real(row, 8);
    return f;
}

EdgeKey key_from_row(const pg::Result& r, int row) {
    return EdgeKey{r.address(row, 0), r.address(row, 1), static_cast<Protocol>(r.integer(row, 2, 0, 255)),
                   static_cast<uint16_t>(r.integer(row, 3, 0, 65535))};
}

// One COPY text row: fields joined by tabs.
class CopyRow {
public:
    explicit CopyRow(std::string& out) : out_(out) {}
    ~CopyRow() { out_ += '\n'; }
    CopyRow& operator<<(std::string_view text) {
        if (fields_++) out_ += '\t';
        pg::append_copy_field(out_, text);
        return *this;
    }
    CopyRow& operator<<(const IpAddress& a) { return *this << pg::bytea_text(a); }
    CopyRow& operator<<(int64_t v) { return *this << std::string_view(std::to_string(v)); }
    CopyRow& operator<<(double v) { return *this << std::string_view(pg::real_text(v)); }

private:
    std::string& out_;
    int fields_ = 0;
};

// A batch's edges with any key given twice folded into one, sorted by key: one INSERT must not
// meet the same row twice.
std::vector<ObservedEdge> folded_by_key(const std::vector<ObservedEdge>& edges) {
    Aggregator folded;
    folded.reserve(edges.size());
    for (const auto& e : edges) folded.add(e);
    return folded.edges();
}

std::string address_array(const std::vector<IpAddress>& addresses) {
    std::string out = "{";
    for (const auto& a : addresses) {
        if (out.size() > 1) out += ',';
        out += "\"\\" + pg::bytea_text(a) + "\"";  // the backslash escaped inside the array literal
    }
    return out + "}";
}

class PostgresStore final : public StoreBackend {
public:
    explicit PostgresStore(const std::string& url) : db_(url) {
        pg::prepare_schema(db_, {"schema", kSchemaVersion, kSchemaLock, kSchema, "the baseline"});
        db_.on_connect(kIncoming);
    }

    std::optional<IngestedFile> find_file(const std::string& hash) override {
        auto r = db_.exec(std::string("SELECT ") + kFileColumns + " FROM ingested_files WHERE hash = $1", {hash});
        if (r.rows() == 0) return std::nullopt;
        return file_from_row(r, 0);
    }

    CommitResult commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                             const std::vector<ApplicationSighting>& sightings,
                             const std::vector<MacSighting>& macs) override {
        const auto folded = folded_by_key(edges);
        std::string edge_rows;
        for (const auto& e : folded) {
            CopyRow row(edge_rows);
            row << e.key.initiator << e.key.responder << static_cast<int64_t>(e.key.protocol)
                << static_cast<int64_t>(e.key.responder_port) << ingested.source << e.stats.first_seen
                << e.stats.last_seen << static_cast<int64_t>(e.stats.connections) << static_cast<int64_t>(e.stats.bytes)
                << std::string_view(e.stats.established ? "t" : "f") << pg::days_text(e.days)
                << static_cast<int64_t>(e.stats.applications);
        }
        std::string sighting_rows;
        for (const auto& s : sightings) {
            CopyRow row(sighting_rows);
            row << s.key.initiator << s.key.responder << static_cast<int64_t>(s.key.protocol)
                << static_cast<int64_t>(s.key.responder_port) << to_string(s.application) << s.subject << s.first_seen
                << s.detail;
        }
        std::string mac_rows;
        for (const auto& m : macs) {
            CopyRow row(mac_rows);
            row << m.address << static_cast<int64_t>(m.mac) << m.first_seen << m.last_seen;
        }
        return db_.transaction([&] {
            CommitResult result;
            // Two writers committing the same file queue here; the second then finds it recorded.
            db_.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {ingested.file.hash});
            if (auto previous = find_file(ingested.file.hash)) {
                result.already_ingested = true;
                result.previous = *previous;
                return result;
            }
            db_.copy_in(std::string("COPY incoming_edges (") + kEdgeColumns + ") FROM STDIN", edge_rows);
            result.new_edges = new_edges(edges);
            db_.exec(std::string("INSERT INTO edges AS e (") + kEdgeColumns + ") SELECT " + kEdgeColumns +
                     " FROM incoming_edges ORDER BY initiator, responder, protocol, port, source "
                     "ON CONFLICT (initiator, responder, protocol, port, source) DO UPDATE SET "
                     "first_seen = least(e.first_seen, excluded.first_seen), "
                     "last_seen = greatest(e.last_seen, excluded.last_seen), "
                     "connections = e.connections + excluded.connections, "
                     "bytes = e.bytes + excluded.bytes, "
                     "established = e.established OR excluded.established, "
                     "days = wardgate_days_union(e.days, excluded.days), "
                     "applications = e.applications | excluded.applications");
            if (!sighting_rows.empty()) {
                db_.copy_in("COPY incoming_sightings (initiator, responder, protocol, port, application, subject, "
                            "first_seen, detail) FROM STDIN",
                            sighting_rows);
                // The earliest of each edge, application and subject, in key order.
                db_.exec("INSERT INTO application_sightings AS a SELECT DISTINCT ON (initiator, responder, protocol, port, "
                         "application, subject) * FROM incoming_sightings ORDER BY initiator, responder, protocol, port, "
                         "application, subject, first_seen "
                         "ON CONFLICT (initiator, responder, protocol, port, application, subject) DO UPDATE SET "
                         "first_seen = excluded.first_seen, detail = excluded.detail "
                         "WHERE excluded.first_seen < a.first_seen");
            }
            if (!mac_rows.empty()) {
                db_.copy_in("COPY incoming_macs (address, mac, first_seen, last_seen) FROM STDIN", mac_rows);
                db_.exec("INSERT INTO host_macs AS h SELECT address, mac, min(first_seen), max(last_seen) "
                         "FROM incoming_macs GROUP BY address, mac ORDER BY address, mac "
                         "ON CONFLICT (address, mac) DO UPDATE SET first_seen = least(h.first_seen, excluded.first_seen), "
                         "last_seen = greatest(h.last_seen, excluded.last_seen)");
            }
            db_.exec(std::string("INSERT INTO ingested_files (") + kFileColumns +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     {ingested.file.hash, ingested.file.path.string(), std::to_string(ingested.file.size),
                      pg::real_text(ingested.file.mtime), ingested.source, ingested.format,
                      std::to_string(ingested.records), std::to_string(edges.size()),
                      pg::real_text(ingested.ingested_at > 0 ? ingested.ingested_at : now_seconds())});
            return result;
        });
    }

    uint64_t age_out(double cutoff) override {
        const std::string at = pg::real_text(cutoff);
        const std::string first_kept = std::to_string(utc_day(cutoff));
        return db_.transaction([&] {
            const uint64_t removed = db_.exec("DELETE FROM edges WHERE last_seen < $1", {at}).affected();
            // Days are sorted, so only an edge whose first day is before the cutoff's holds old days.
            db_.exec("UPDATE edges SET days = ARRAY(SELECT d FROM unnest(days) AS u(d) WHERE d >= $1 ORDER BY d) "
                     "WHERE days[1] < $1",
                     {first_kept});
            db_.exec("DELETE FROM ingested_files WHERE format IN ('netflow', 'conntrack', 'nflog') AND ingested_at < $1",
                     {at});
            db_.exec("DELETE FROM application_sightings a WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE "
                     "e.initiator = a.initiator AND e.responder = a.responder AND e.protocol = a.protocol AND "
                     "e.port = a.port)");
            db_.exec("DELETE FROM host_macs WHERE last_seen < $1", {at});
            db_.exec("DELETE FROM alert_marks WHERE last_sent < $1", {at});
            return removed;
        });
    }

    std::vector<StoredEdge> query(const EdgeQuery& q) override {
        std::string sql = std::string("SELECT ") + kEdgeColumns + " FROM edges WHERE true";
        std::vector<std::string> params;
        auto param = [&](std::string value) {
            params.push_back(std::move(value));
            return "$" + std::to_string(params.size());
        };
        if (q.since) sql += " AND last_seen >= " + param(pg::real_text(*q.since));
        if (q.until) sql += " AND first_seen <= " + param(pg::real_text(*q.until));
        if (q.protocol) sql += " AND protocol = " + param(std::to_string(static_cast<int>(*q.protocol)));
        if (q.port) sql += " AND port = " + param(std::to_string(*q.port));
        if (q.source) sql += " AND source = " + param(*q.source);
        if (!q.include_denied) sql += " AND source <> " + param(kDeniedSource);
        if (!q.addresses.empty()) {
            const std::string list = param(address_array(q.addresses)) + "::bytea[]";
            sql += " AND (initiator = ANY(" + list + ") OR responder = ANY(" + list + "))";
        }
        sql += " ORDER BY initiator, responder, protocol, port, source";
        auto r = db_.exec(sql, params);
        std::vector<StoredEdge> out;
        out.reserve(static_cast<size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) {
            StoredEdge e;
            e.key = key_from_row(r, i);
            e.source = r.text(i, 4);
            e.stats.first_seen = r.real(i, 5);
            e.stats.last_seen = r.real(i, 6);
            e.stats.connections = r.count(i, 7);
            e.stats.bytes = r.count(i, 8);
            e.stats.established = r.boolean(i, 9);
            e.days = r.days(i, 10);
            e.stats.days_seen = static_cast<uint32_t>(e.days.size());
            e.stats.applications = known_applications(static_cast<ApplicationSet>(r.integer(i, 11, 0, std::numeric_limits<ApplicationSet>::max())));
            out.push_back(std::move(e));
        }
        return out;
    }

    std::vector<ApplicationSighting> sightings(const std::vector<IpAddress>& addresses) override {
        std::string sql =
            "SELECT initiator, responder, protocol, port, application, first_seen, detail, subject "
            "FROM application_sightings";
        std::vector<std::string> params;
        if (!addresses.empty()) {
            params.push_back(address_array(addresses));
            sql += " WHERE initiator = ANY($1::bytea[]) OR responder = ANY($1::bytea[])";
        }
        auto r = db_.exec(sql, params);
        std::vector<ApplicationSighting> out;
        for (int i = 0; i < r.rows(); ++i) {
            auto application = parse_application(r.text(i, 4));
            if (!application) continue;  // named by a newer version
            out.push_back({key_from_row(r, i), *application, r.real(i, 5), r.text(i, 6), r.text(i, 7)});
        }
        return out;
    }

    std::vector<MacSighting> macs() override {
        auto r = db_.exec("SELECT address, mac, first_seen, last_seen FROM host_macs ORDER BY address, mac");
        std::vector<MacSighting> out;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back({r.address(i, 0), r.count(i, 1), r.real(i, 2), r.real(i, 3)});
        return out;
    }

    std::vector<IngestedFile> files() override {
        auto r = db_.exec(std::string("SELECT ") + kFileColumns + " FROM ingested_files ORDER BY ingested_at, path");
        std::vector<IngestedFile> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(file_from_row(r, i));
        return out;
    }

    uint64_t edge_count() override {
        return db_.exec("SELECT count(*) FROM edges").count(0, 0);
    }

    std::vector<AlertMark> alert_marks() override {
        auto r = db_.exec("SELECT initiator, responder, protocol, port, last_sent, suppressed FROM alert_marks");
        std::vector<AlertMark> out;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back({key_from_row(r, i), r.real(i, 4), r.count(i, 5)});
        return out;
    }

    void save_alert_marks(const std::vector<AlertMark>& marks) override {
        std::vector<AlertMark> sorted = marks;
        std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
        db_.transaction([&] {
            for (const auto& m : sorted)
                db_.exec("INSERT INTO alert_marks (initiator, responder, protocol, port, last_sent, suppressed) "
                         "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (initiator, responder, protocol, port) DO UPDATE "
                         "SET last_sent = excluded.last_sent, suppressed = excluded.suppressed",
                         {pg::bytea_text(m.key.initiator), pg::bytea_text(m.key.responder),
                          std::to_string(static_cast<int>(m.key.protocol)), std::to_string(m.key.responder_port),
                          pg::real_text(m.last_sent), std::to_string(m.suppressed)});
        });
    }

    void record_scorecard(const ScorecardRecord& r) override {
        db_.transaction([&] {
            for (const auto& [kpi, value] : r.values)
                db_.exec("INSERT INTO scorecards (recorded_at, site, day, kpi, value) VALUES ($1, $2, $3, $4, $5) "
                         "ON CONFLICT (site, recorded_at, kpi) DO UPDATE SET day = excluded.day, value = excluded.value",
                         {pg::real_text(r.recorded_at), r.site, r.day, kpi, pg::real_text(value)});
        });
    }

    std::vector<ScorecardRecord> scorecards(const std::string& site) override {
        auto rows = db_.exec("SELECT recorded_at, day, kpi, value FROM scorecards WHERE site = $1 ORDER BY recorded_at, kpi",
                             {site});
        std::vector<ScorecardRecord> out;
        for (int i = 0; i < rows.rows(); ++i) {
            const double at = rows.real(i, 0);
            if (out.empty() || out.back().recorded_at != at) out.push_back({at, site, rows.text(i, 1), {}});
            out.back().values.emplace_back(rows.text(i, 2), rows.real(i, 3));
        }
        return out;
    }

    std::string name() override { return db_.name(); }
    std::string journal_mode() override { return "postgresql"; }

    // The server keeps its own files consistent; what can be wrong from here is wardgate's
    // own data: an address that is neither 4 nor 16 bytes, or days out of order.
    std::string integrity_check() override {
        auto r = db_.exec("SELECT count(*) FROM edges WHERE length(initiator) NOT IN (4, 16) OR "
                          "length(responder) NOT IN (4, 16) OR days <> ARRAY(SELECT d FROM unnest(days) AS u(d) "
                          "ORDER BY d)");
        const int64_t bad = r.integer(0, 0);
        return bad == 0 ? "ok" : fmt::format("{} edges with malformed addresses or days", bad);
    }

private:
    // The batch's keys the store holds under no source, each with whether its two addresses
    // had talked before (either way round), judged before the batch is written.
    std::vector<NewEdge> new_edges(const std::vector<ObservedEdge>& edges) {
        auto r = db_.exec(
            "SELECT n.initiator, n.responder, n.protocol, n.port, "
            "EXISTS (SELECT 1 FROM edges e WHERE e.initiator = n.initiator AND e.responder = n.responder) OR "
            "EXISTS (SELECT 1 FROM edges e WHERE e.initiator = n.responder AND e.responder = n.initiator) "
            "FROM incoming_edges n WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.initiator = n.initiator AND "
            "e.responder = n.responder AND e.protocol = n.protocol AND e.port = n.port)");
        std::unordered_map<EdgeKey, bool, EdgeKeyHash> unseen;
        for (int i = 0; i < r.rows(); ++i) unseen.emplace(key_from_row(r, i), r.boolean(i, 4));
        std::vector<NewEdge> out;
        for (const auto& e : edges) {
            auto it = unseen.find(e.key);
            if (it == unseen.end()) continue;
            out.push_back({e, it->second});
            unseen.erase(it);  // a key given twice is new once
        }
        return out;
    }

    pg::Connection db_;
};

}  // namespace postgres_tables

std::unique_ptr<StoreBackend> open_postgres_store(const std::string& url) {
    return std::make_unique<postgres_tables::PostgresStore>(url);
}

}  // namespace wardgate::store_internal
