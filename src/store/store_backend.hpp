#pragma once
// What a baseline database must do, whatever holds it: a SQLite file on one host, or a
// PostgreSQL server many collectors and gateways share. BaselineStore forwards to one.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/store/baseline_store.hpp"

namespace wardgate::store_internal {

class StoreBackend {
public:
    virtual ~StoreBackend() = default;

    virtual std::optional<IngestedFile> find_file(const std::string& hash) = 0;
    virtual CommitResult commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                                     const std::vector<ApplicationSighting>& sightings,
                                     const std::vector<MacSighting>& macs) = 0;
    virtual uint64_t age_out(double cutoff) = 0;
    // Sorted by initiator, responder, protocol, port, source (addresses as bytes).
    virtual std::vector<StoredEdge> query(const EdgeQuery& q) = 0;
    virtual std::vector<ApplicationSighting> sightings(const std::vector<IpAddress>& addresses) = 0;
    virtual std::vector<MacSighting> macs() = 0;
    virtual std::vector<IngestedFile> files() = 0;
    virtual uint64_t edge_count() = 0;
    virtual std::vector<AlertMark> alert_marks() = 0;
    virtual void save_alert_marks(const std::vector<AlertMark>& marks) = 0;
    virtual void record_scorecard(const ScorecardRecord& r) = 0;
    virtual std::vector<ScorecardRecord> scorecards(const std::string& site) = 0;
    virtual std::string name() = 0;  // for messages: the file, or the URI without its password
    virtual std::string journal_mode() = 0;
    virtual std::string integrity_check() = 0;
};

std::unique_ptr<StoreBackend> open_sqlite_store(const std::filesystem::path& file);
std::unique_ptr<StoreBackend> open_postgres_store(const std::string& url);

}  // namespace wardgate::store_internal
