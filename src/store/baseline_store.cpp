#include "wardgate/store/baseline_store.hpp"

#include "postgres.hpp"

#include <algorithm>

#include "../flows/field_parse.hpp"
#include "store_backend.hpp"
#include "wardgate/flows/aggregator.hpp"

namespace wardgate {

struct BaselineStore::Impl {
    std::filesystem::path location;
    std::unique_ptr<store_internal::StoreBackend> backend;
};

std::string database_display_name(const std::string& url) { return store_internal::pg::display_name(url); }

bool is_database_url(std::string_view location) {
    return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

BaselineStore::BaselineStore(const std::filesystem::path& db) : impl_(std::make_unique<Impl>()) {
    impl_->location = db;
    impl_->backend = is_database_url(db.native()) ? store_internal::open_postgres_store(db.native())
                                                  : store_internal::open_sqlite_store(db);
}

BaselineStore::~BaselineStore() = default;

const std::filesystem::path& BaselineStore::path() const { return impl_->location; }

std::optional<IngestedFile> BaselineStore::find_file(const std::string& hash) const {
    return impl_->backend->find_file(hash);
}

CommitResult BaselineStore::commit_file(const IngestedFile& ingested, const std::vector<ObservedEdge>& edges,
                                        const std::vector<ApplicationSighting>& sightings,
                                        const std::vector<MacSighting>& macs) {
    return impl_->backend->commit_file(ingested, edges, sightings, macs);
}

uint64_t BaselineStore::age_out(double cutoff) { return impl_->backend->age_out(cutoff); }

std::vector<StoredEdge> BaselineStore::query(const EdgeQuery& q) const { return impl_->backend->query(q); }

std::vector<ObservedEdge> BaselineStore::edges(const EdgeQuery& q) const {
    // One edge per key over every source, sorted by EdgeKey (databases sort addresses as bytes).
    Aggregator folded;
    merge_into(folded, q);
    return folded.edges();
}

void BaselineStore::merge_into(Aggregator& out, const EdgeQuery& q) const {
    for (auto& e : query(q)) out.add(ObservedEdge{e.key, e.stats, std::move(e.days)});
}

std::vector<ApplicationSighting> BaselineStore::sightings(const std::vector<IpAddress>& addresses) const {
    auto out = impl_->backend->sightings(addresses);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.identity() < b.identity(); });
    return out;
}

std::vector<MacSighting> BaselineStore::macs() const { return impl_->backend->macs(); }
std::vector<IngestedFile> BaselineStore::files() const { return impl_->backend->files(); }
uint64_t BaselineStore::edge_count() const { return impl_->backend->edge_count(); }
std::vector<AlertMark> BaselineStore::alert_marks() const { return impl_->backend->alert_marks(); }

void BaselineStore::save_alert_marks(const std::vector<AlertMark>& marks) { impl_->backend->save_alert_marks(marks); }

void BaselineStore::record_scorecard(const ScorecardRecord& r) { impl_->backend->record_scorecard(r); }

std::vector<ScorecardRecord> BaselineStore::scorecards(const std::string& site) const {
    return impl_->backend->scorecards(site);
}

std::string BaselineStore::name() const { return impl_->backend->name(); }
std::string BaselineStore::journal_mode() const { return impl_->backend->journal_mode(); }
std::string BaselineStore::integrity_check() const { return impl_->backend->integrity_check(); }

std::optional<double> parse_time_argument(std::string_view text) {
    if (text.size() == 10) return flows_internal::parse_iso8601(std::string(text) + "T00:00:00Z");
    return flows_internal::parse_timestamp(text);
}

}  // namespace wardgate
