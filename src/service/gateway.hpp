#pragma once
// The service's state and what it does on each event; the event loop (serve.cpp) only
// calls these. Every method logs and records its failures instead of throwing: the
// service keeps running with the last good policy.
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "wardgate/observe/observer.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/policy/ir.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/resolve/bind.hpp"
#include "wardgate/resolve/refresher.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/serve.hpp"
#include "wardgate/service/status.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/site/site.hpp"
#include "background_scorer.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "published_source.hpp"

namespace wardgate::service::detail {

std::string now_text();  // ISO 8601 UTC
// An entry of the status's last_apply / last_reload, stamped now.
ApplyRecord record(std::string result, std::string version, std::string message);

class Gateway {
public:
    explicit Gateway(const ServeOptions& options);

    // Rolls back overdue commits, loads the site, applies it and sets up the VLAN links.
    void start();
    // The site directory changed (or SIGHUP): validate, then apply; a broken site leaves
    // the running policy in place.
    void reload(const std::string& what_changed);
    // Starts reading the table back to compare it with the policy (unless a check is under way);
    // drift_checked() takes the answer when drift_fd() is readable, and re-asserts on drift.
    void check_drift();
    int drift_fd() const { return drift_job_.fd(); }
    void drift_checked();
    // Commit-confirmed bookkeeping: rolls back an overdue record, notices confirmations.
    void tick();

    nlohmann::json status();  // with fresh counters
    void write_metrics();     // when a metrics file is configured

    // serve --from: the database's socket to poll (-1: none), an announcement on it, and the
    // heartbeat timer (which also catches up on versions missed while the database was away).
    int published_fd() const { return source_ ? source_->fd() : -1; }
    // The scorecard of the site last loaded is computed beside the loop: readable when done.
    int scored_fd() const { return scorer_.fd(); }
    void scored();
    void published_announced();
    void heartbeat();

private:
    struct Desired {
        std::string version;
        nft::Ruleset ruleset;
        std::vector<SegmentStatus> segments;
        std::vector<ServiceStatus::Monitored> monitored_devices;
        std::vector<std::string> trials;
        std::string site_name;
        Policy policy;  // what the ruleset was lowered from: DNS refreshes re-lower it
        std::optional<PublishedVersion> published;  // serve --from: the version (and its one slice) it came from
        std::string took;  // "site 120 ms, flows 3 ms, ...": where loading it went, for the apply's log line
    };
    // `loading` says where the time before lowering went, for the apply's log line.
    Desired desired_of(Policy policy, const std::string& loading);
    std::optional<Desired> load_site(const std::string& why);
    // serve --from (gateway_published.cpp).
    std::optional<Desired> load_published(const std::string& why);
    std::optional<Desired> load_kept();
    std::optional<Desired> desired_of(AcceptedSlice a, const std::string& why, double accept_ms);  // accept_ms: fetching and checking it
    void published_applied(const PublishedVersion& v);
    void refused(const std::string& why);
    // "monitoring" when the whole site's default deny only logs, else "enforcing".
    static std::string active_state(const Desired& d) {
        return d.policy.mode == EnforcementMode::monitor ? "monitoring" : "enforcing";
    }
    bool enforce(Desired d, bool commit_confirmed);
    void setup_vlans(const Policy& policy);
    void score();  // starts the scorecard of the site last loaded, if not started yet
    void rolled_back(const RollbackRecord& r, const std::string& message);
    void refresh_counters();
    // DNS-only endpoints (gateway_dns.cpp): the live table compiles and refreshes them.
    DnsBindOptions dns_bind_options() const;
    void follow_dns(const DnsSettings& settings);
    void dns_loaded(const Site& site, const DnsAnswers& compiled_with);
    void dns_published(Policy& policy);
    void refresh_dns();
    void open_alert_sinks();
    void add_dns_status(nlohmann::json& status) const;
    std::string dns_metrics() const;
    std::string table() const { return "wardgate"; }

    ServeOptions o_;
    std::filesystem::path state_dir_;
    SiteLoadCache site_cache_;  // an edit re-reads only the devices it changed
    FlowReadCache flow_cache_;  // and no flow file whose contents stayed the same
    CompileMemo compile_memo_;  // the groups as built and what the observed baseline made of the kept edges
    nft::SetDigests set_digests_;  // the ruleset's sets' digests, for its version
    netlink::SetEncodings set_encodings_;  // and in the kernel's encoding, for applies and drift checks
    std::shared_ptr<const Pipeline> loaded_;  // its scorecard not started yet
    BackgroundScorer scorer_;
    BackgroundJob<netlink::Drift> drift_job_;  // the drift check under way
    netlink::SetEncodings drift_encodings_;    // its own: it runs beside the applies
    std::string drift_version_;                // what it checks against
    uint64_t table_writes_ = 0, drift_writes_ = 0;  // commits to the table: in all, and when it started
    ServiceStatus st_;
    std::optional<Desired> desired_;   // what is enforced
    std::optional<Desired> fallback_;  // what was enforced before it (restored by a rollback)
    std::optional<Desired> waiting_;   // loaded while a commit waited for confirmation
    std::set<std::string> rejected_;   // versions rolled back unconfirmed: not re-asserted
    std::optional<RollbackRecord> pending_;
    std::string handled_rollback_;     // id of the last rollback counted
    std::unique_ptr<DnsRefresher> dns_;                   // null until a site with DNS-only endpoints loads
    std::vector<std::unique_ptr<AlertSink>> dns_alerts_;  // where DNS failures and refused versions are raised
    std::unique_ptr<observe::ConntrackWatch> conntrack_;  // counts lost conntrack events; none: unknown
    std::unique_ptr<PublishedSource> source_;             // serve --from; null when serving a site directory
};

}  // namespace wardgate::service::detail
