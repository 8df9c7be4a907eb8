#pragma once
// Live observation on the gateway: conntrack events and NFLOG drops of the network
// namespace the process runs in, aggregated and committed to the baseline store
// periodically (sources "conntrack" and "nflog"), with alerts when a site is given.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "wardgate/alerts/alerts.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/flows/aggregator.hpp"
#include "wardgate/observe/conntrack.hpp"
#include "wardgate/observe/nflog.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/pending_commits.hpp"

namespace wardgate::observe {

inline constexpr const char* kConntrackSource = "conntrack";

struct ObserverOptions {
    bool conntrack = true;
    std::optional<uint16_t> nflog_group;
    ConntrackListenerOptions conntrack_options;
    NflogListenerOptions nflog_options;
    std::chrono::milliseconds flush_interval{60000};
    std::optional<std::chrono::milliseconds> duration;  // none: until stopped
    std::optional<double> retention_seconds;            // age out edges not seen for this long
};

struct ObserveSummary {
    uint64_t conntrack_events = 0;   // NEW, UPDATE and DESTROY events read
    uint64_t nflog_packets = 0;      // logged packets read
    uint64_t records = 0;            // flow records from conntrack
    uint64_t denied_records = 0;     // denied-attempt records from NFLOG
    uint64_t edges = 0;              // distinct edges committed (summed over commits)
    uint64_t denied_edges = 0;
    uint64_t new_edges = 0;          // edges the store had not seen before
    uint64_t conntrack_lost = 0;     // receive buffer overruns (each lost events)
    uint64_t nflog_lost = 0;
    uint64_t undecodable = 0;        // events or packets of other protocols, or cut short
    uint64_t commits = 0;
    uint64_t aged_out = 0;           // edges removed by the retention setting
    uint64_t alerts = 0, alerts_suppressed = 0;
    uint64_t uncommitted_records = 0;  // kept while the database does not answer
    std::string commit_error;          // why, when uncommitted_records > 0
    std::map<std::string, uint64_t> denied_by;  // LogPrefix::describe() -> packets
    std::map<std::string, uint64_t> trial_connections;  // approval on trial -> new connections it logged
};

class Observer {
public:
    // Opens the listeners; throws ObserveError. store must outlive the observer.
    Observer(BaselineStore& store, const ObserverOptions& options);
    ~Observer();
    Observer(const Observer&) = delete;
    Observer& operator=(const Observer&) = delete;

    // Alerts for the edges of each commit: new edges as `wardgate ingest --site` raises
    // them, and a denied-attempt alert for every edge NFLOG logged. Both must outlive
    // the observer.
    void set_alerts(const AlertDetector* detector, AlertDispatcher* dispatcher);

    // Reads events until stop is set or the duration has passed, committing every flush
    // interval and once more at the end.
    void run(const std::atomic<bool>& stop);
    // Reads whatever is queued now, without waiting.
    void poll_once(int timeout_ms = 0);
    // Commits what was aggregated since the last commit, with the bytes and answers of
    // the connections still open (from a dump of the conntrack table).
    void flush();

    const ObserveSummary& summary() const { return summary_; }

private:
    void take(const ConntrackEvent& e);
    void commit(const std::string& source, const std::string& format, Aggregator& edges);
    void report(const CommittedBatch& c, bool denied);

    BaselineStore& store_;
    ObserverOptions options_;
    std::unique_ptr<ConntrackListener> conntrack_;
    std::unique_ptr<NflogListener> nflog_;
    ConntrackFlows flows_;
    Aggregator pending_, pending_denied_;
    PendingCommits pending_commits_;  // batches the database did not take yet
    std::map<EdgeKey, std::string> denied_rule_;  // the last prefix seen per denied edge, for alerts
    const AlertDetector* detector_ = nullptr;
    AlertDispatcher* dispatcher_ = nullptr;
    ObserveSummary summary_;
    std::string batch_id_;
    uint64_t batch_ = 0;
};

// The gateway service's conntrack listener: runs on its own thread and only counts
// (events, lost events); on_record, when given, gets every flow record on that thread.
class ConntrackWatch {
public:
    explicit ConntrackWatch(const ConntrackListenerOptions& options = {},
                            std::function<void(const FlowRecord&)> on_record = {});  // throws ObserveError
    ~ConntrackWatch();
    ConntrackWatch(const ConntrackWatch&) = delete;
    ConntrackWatch& operator=(const ConntrackWatch&) = delete;

    uint64_t events() const { return events_.load(); }
    uint64_t lost_events() const { return lost_.load(); }

private:
    void loop();

    std::unique_ptr<ConntrackListener> listener_;
    std::function<void(const FlowRecord&)> on_record_;
    int stop_fd_ = -1;
    std::atomic<uint64_t> events_{0}, lost_{0};
    std::thread thread_;
};

}  // namespace wardgate::observe
