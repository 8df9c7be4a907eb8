#pragma once
// The edge baseline: edges aggregated per source, and the files they came from, in a SQLite
// file (WAL journal) on one host or in a PostgreSQL database that several collectors,
// sensors and gateways share.
//
// Each file commits in one transaction together with its ingested_files row, so a
// crash loses at most the file being ingested, and a file already in ingested_files
// (same content hash) is not counted again. Concurrent writers add to the same edges
// without losing counts (upserts that add connections and bytes and widen the times).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/flow_record.hpp"

namespace wardgate {

// Thrown for database errors (cannot open, locked past the busy timeout, corrupt...).
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct FileIdentity {
    std::filesystem::path path;  // absolute
    uint64_t size = 0;
    double mtime = 0;            // seconds since the epoch
    // Hex SHA-1 over the size, the first MiB and the last MiB: cheap on a capture of
    // many GiB, and log files that differ anywhere but the middle differ here too.
    std::string hash;
};
// Throws InputError when the file cannot be read.
FileIdentity identify_file(const std::filesystem::path& file);

struct IngestedFile {
    FileIdentity file;
    std::string source;   // the label its edges were stored under
    std::string format;   // zeek-tsv, zeek-json, csv, pcap
    uint64_t records = 0; // flow records read from it
    uint64_t edges = 0;   // distinct edges in it
    double ingested_at = 0;
};

struct StoredEdge {
    EdgeKey key;
    std::string source;
    EdgeStats stats;  // stats.days_seen: days.size()
    DaySet days;      // within the retention when one is set (age_out drops older days)
};

// An edge of a committed file that the store had not seen under any source before.
struct NewEdge {
    ObservedEdge edge;
    bool peer_known = false;  // the two addresses had talked before (other port or direction)
};

struct CommitResult {
    bool already_ingested = false;  // the hash was in ingested_files: nothing was written
    IngestedFile previous;          // the earlier ingest, when already_ingested
    std::vector<NewEdge> new_edges;
};

// Edges under this source are attempts the gateway dropped (NFLOG): evidence for alerts
// and reports, not traffic to allow.
inline constexpr const char* kDeniedSource = "nflog";

struct ScorecardRecord {
    double recorded_at = 0;  // epoch seconds
    std::string site;
    std::string day;         // the day it was computed for (YYYY-MM-DD)
    std::vector<std::pair<std::string, double>> values;  // KPI key -> value, in the scorecard's order
};

struct EdgeQuery {
    std::optional<double> since;           // edges last seen at or after
    std::optional<double> until;           // edges first seen at or before
    std::optional<Protocol> protocol;
    std::optional<uint16_t> port;          // responder port
    std::vector<IpAddress> addresses;      // either end is one of these (empty: any)
    std::optional<std::string> source;
    bool include_denied = true;            // false: leave out kDeniedSource edges
};

// What the alert rate limiter remembers per edge, kept in the store so it spans runs.
struct AlertMark {
    EdgeKey key;
    double last_sent = 0;
    uint64_t suppressed = 0;
};

// "postgresql://..." or "postgres://...": a PostgreSQL connection URI rather than a file.
bool is_database_url(std::string_view location);
// postgresql://user@host:port/dbname: what messages and status show of a connection URI, never
// its password. Throws StoreError when it is no connection URI.
std::string database_display_name(const std::string& url);

class BaselineStore {
public:
    // Opens or creates the database: a SQLite file, or a PostgreSQL connection URI
    // (is_database_url), whose tables are created on first use. Throws StoreError.
    explicit BaselineStore(const std::filesystem::path& db);
    ~BaselineStore();
    BaselineStore(const BaselineStore&) = delete;
    BaselineStore& operator=(const BaselineStore&) = delete;

    std::optional<IngestedFile> find_file(const std::string& hash) const;
    // Writes the file's edges and its ingested_files row in one transaction, unless
    // its hash is already there. `ingested.file.hash` must be set. Each sighting is kept
    // when it is the earliest of its edge and application.
    CommitResult commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                             const std::vector<ApplicationSighting>& sightings = {},
                             const std::vector<MacSighting>& macs = {});
    // Removes edges whose last_seen is before cutoff (epoch seconds), and the days before
    // the cutoff's day from the edges that stay; returns how many edges went.
    // The records of live batches (collect, observe) committed before it go too: unlike a
    // file's, their identity is never asked for again.
    uint64_t age_out(double cutoff);

    std::vector<StoredEdge> query(const EdgeQuery& q = {}) const;
    // Sources folded together: one edge per key, sorted by key.
    std::vector<ObservedEdge> edges(const EdgeQuery& q = {}) const;
    // Folds the matching edges (all sources) into an aggregator, to merge them with flow files.
    void merge_into(Aggregator& out, const EdgeQuery& q = {}) const;
    // What showed each application on its edge, for edges with either end in `addresses`
    // (all when empty); sorted by edge and application. Age-out removes those of removed edges.
    std::vector<ApplicationSighting> sightings(const std::vector<IpAddress>& addresses = {}) const;
    // Which MAC each address's frames came from; age-out removes those not seen since.
    std::vector<MacSighting> macs() const;
    std::vector<IngestedFile> files() const;
    uint64_t edge_count() const;

    std::vector<AlertMark> alert_marks() const;
    void save_alert_marks(const std::vector<AlertMark>& marks);

    // The scorecard of one run (wardgate scorecard --record), kept for its trend.
    void record_scorecard(const ScorecardRecord& r);
    std::vector<ScorecardRecord> scorecards(const std::string& site) const;  // oldest first

    std::string name() const;             // for messages: the file, or the URI without its password
    std::string journal_mode() const;     // SQLite's; "postgresql" for a server
    std::string integrity_check() const;  // "ok" when intact
    const std::filesystem::path& path() const;  // the file or URI as given

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "2026-03-01", "2026-03-01T08:00:00Z", "2026-03-01 08:00:00+01:00" or epoch seconds.
std::optional<double> parse_time_argument(std::string_view text);

}  // namespace wardgate
