#pragma once
// What the gateway service reports: over its Unix socket (`wardgate status`, JSON) and as
// Prometheus text for node_exporter's textfile collector.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/assess/scorecard.hpp"
#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::service {

// "fnv1a64:<16 hex digits>": nft::ruleset_digest of the ruleset (its nft text without the
// comment header, each set counted by its own digest): equal versions install the same table.
std::string policy_version(const nft::Ruleset& ruleset, nft::SetDigests* digests = nullptr);

struct SegmentStatus {
    std::string name;
    std::string mode;                 // enforce | monitor
    std::optional<uint16_t> vlan;
    uint64_t dropped_packets = 0, dropped_bytes = 0;    // the drop chain's rules that drop
    // The drop chain's rules that accept: would-be drops of a segment or devices in monitor.
    uint64_t would_be_dropped_packets = 0, would_be_dropped_bytes = 0;
    bool counters_known = false;
    uint64_t accepted_packets = 0, accepted_bytes = 0;  // counters of the segment's accept chain
    bool accept_counters_known = false;
};

struct ApplyRecord {
    std::string time;                 // ISO 8601 UTC; empty: never
    std::string result;               // ok | unchanged | failed | rejected
    std::string version;
    std::string message;
    std::vector<std::string> diagnostics;  // site problems of a rejected reload, "file:line:col: field: message"
};

struct Counters {
    uint64_t applies = 0;             // commits that changed the kernel
    uint64_t apply_failures = 0;
    uint64_t reloads = 0;             // site changes seen
    uint64_t rejected_reloads = 0;    // site edits that did not validate
    uint64_t rollbacks = 0;           // unconfirmed commits rolled back
    uint64_t drift_events = 0;        // drift checks that found a difference
    uint64_t reasserts = 0;           // re-applies after drift
};

// serve --from: the database it follows and what it last got from it.
struct ControllerStatus {
    std::string database;             // the URI without its password
    bool reachable = false;
    std::string last_error;           // why it is not reachable, or the last refusal
    std::string last_contact;         // ISO 8601 UTC
    int64_t applied_version = 0;      // the published version enforced; 0: none
    std::string applied_published_at;
    int64_t latest_version = 0;       // the newest published version seen
    uint64_t refused_versions = 0;    // versions whose signature, digest or document failed
    std::string last_refusal;
};

struct ServiceStatus {
    std::string site;                 // the site's name
    std::string site_dir;
    std::string gateway;              // the [[gateway]] whose slice it enforces ("" = the whole site)
    int pid = 0;
    std::string started;
    std::string policy_version;       // what the service enforces (applied successfully); empty: nothing yet
    std::string site_version;         // of the site as last loaded successfully
    std::string enforcement;          // enforcing | monitoring | waiting-for-confirmation | paused | not-applied
    ApplyRecord last_apply;           // the last attempt to change the kernel
    ApplyRecord last_reload;          // the last time the site was (re)loaded
    bool drift = false;               // the kernel differs from the policy right now
    std::string last_drift_check;
    std::string last_drift;           // when a check last found a difference
    std::vector<std::string> drift_differences;  // what it found
    bool drift_reasserted = false;    // and whether the policy was put back
    std::vector<SegmentStatus> segments;
    struct Monitored {
        std::string device, why;
    };
    std::vector<Monitored> monitored_devices;  // in monitor on their own or by role
    std::vector<std::string> trials;           // "deny DENY-7 (policy.toml:50): logs what it matches and drops nothing"
    std::optional<uint64_t> conntrack_lost_events;  // unknown: the conntrack listener could not start
    std::optional<std::string> pending_commit;       // id of an unconfirmed commit
    std::string pending_deadline;
    std::string vlan;                 // VLAN links: "", "ok", or the error
    Counters counters;
    std::vector<Kpi> kpis;            // the scorecard of the site as last loaded
    std::optional<ControllerStatus> controller;  // serve --from
};

nlohmann::json to_json(const ServiceStatus& s);
// The text `wardgate status` prints.
std::string render_status_text(const nlohmann::json& status);

// Prometheus text exposition format (version 0.0.4).
std::string render_metrics(const ServiceStatus& s);
// Atomically, readable by node_exporter (mode 0644).
void write_metrics_file(const std::filesystem::path& path, const std::string& text);

// Asks the service on `socket`; throws std::runtime_error when it cannot be reached or
// does not answer within the timeout.
nlohmann::json query_status(const std::filesystem::path& socket,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

// /run/wardgate/status.sock, or /run/wardgate/netns-<inode>/status.sock in a network
// namespace other than the host's.
std::filesystem::path default_socket_path();

}  // namespace wardgate::service
