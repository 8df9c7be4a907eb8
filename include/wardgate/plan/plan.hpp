#pragma once
// What a change would do: rules added and removed, and every observed flow it would block.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/graph/classify.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/policy/verdict_diff.hpp"

namespace wardgate {

struct RuleChange {
    enum class Kind { added, removed, changed };
    Kind kind = Kind::added;
    ReadableRule rule;                     // the new rule (the old one when removed)
    std::optional<ReadableRule> before;    // for changed
};

struct BlockedFlow {
    std::string initiator, responder;      // names
    std::string initiator_ip, responder_ip;
    std::string service;                   // "tcp/23"
    uint64_t connections = 0;
    bool established = false;
    std::string last_seen;                 // ISO 8601 UTC
    std::string blocked_by;                // "default deny (segment icu)" or "deny no-telnet"
    bool monitored = false;                // logged but let through (monitor mode)
    std::vector<std::string> expired;      // approvals that used to cover it
    std::vector<std::string> applications; // what the traffic was recognised as (telnet, dicom...)
};

struct DeviceImpact {
    std::string device;                    // or "unmanaged" for flows between unmanaged hosts
    std::string role;
    std::string lifecycle;
    bool clinical = false;
    std::vector<BlockedFlow> flows;
    uint64_t connections() const;
};

// The kernel's table compared with the compiled policy (apply, plan --live).
struct LiveTable {
    bool missing = false;                  // no table inet wardgate at all
    std::vector<std::string> differences;  // what differs, as the drift check words it
    bool differs() const { return missing || !differences.empty(); }
};

// Enforce <-> monitor, for the whole site, one segment or one device.
struct ModeChange {
    std::string scope;   // "site", "segment icu" or "device pump-01"
    std::string before, after;  // "enforce" | "monitor"
};

struct Plan {
    std::string site;
    bool have_state = false;
    std::string state_saved_at;
    // plan --at: the policy as it will be on `at`, compared with the policy of `today`.
    std::optional<std::string> at;
    std::string today;
    std::vector<RuleChange> rules;
    std::vector<ReadablePinhole> pinholes_added, pinholes_removed;
    std::vector<DeviceImpact> impact;      // clinical end-of-support devices first
    std::vector<PolicyNote> notes;
    std::vector<ModeChange> modes;         // changed modes (all of them when there is no saved state)
    std::string mode;                      // the site's mode now: enforce | monitor
    std::vector<std::string> monitored_segments;  // segments whose default deny only logs, now
    // Devices in monitor on their own or by role, by cause ("role infusion-pump", "device x").
    struct MonitorGroup {
        std::string scope, why;
        std::vector<std::string> devices;  // sorted
    };
    std::vector<MonitorGroup> monitored_devices;
    // Approvals and denies on trial: "deny DENY-7 (policy.toml:50)" and what the trial does.
    struct Trial {
        std::string rule, origin, effect;
    };
    std::vector<Trial> trials;
    // `wardgate readiness` in brief: how many devices could be enforced now, and which devices
    // in monitor (any scope) are ready to leave it. Unset for plan --at.
    struct ReadinessSummary {
        uint32_t min_days = 7;
        size_t devices = 0, ready = 0;
        size_t monitored = 0;
        std::vector<std::string> ready_to_leave_monitor;
    };
    std::optional<ReadinessSummary> readiness;
    std::vector<BaselineRefusal> refused;  // observed flows the baseline does not keep, and why
    size_t unrouted_flows = 0;             // link-local/multicast/broadcast flows, left out of the impact
    std::optional<LiveTable> live;         // set when the kernel was read
    std::optional<VerdictDiff> verdicts;   // traffic whose verdict changes; needs a saved state with its IR
    size_t rule_count = 0, pinhole_count = 0, group_count = 0, element_count = 0;
    size_t observed_edges = 0;             // of a gateway's plan: those that pass it
    std::optional<GatewayScope> gateway;   // the plan of one gateway's slice

    bool has_changes() const {
        return !rules.empty() || !pinholes_added.empty() || !pinholes_removed.empty() || !modes.empty() ||
               (live && live->differs()) || (verdicts && !verdicts->empty());
    }
};

// `now`, when given, receives what the plan compared (readable_snapshot of `policy`): the
// `before` of the next plan.
Plan make_plan(const Policy& policy, const std::optional<PolicySnapshot>& before,
               const std::vector<ClassifiedEdge>& observed, const AddressBook& book, PolicySnapshot* now = nullptr);

std::string render_plan_text(const Plan& plan, bool color);
std::string mode_change_text(const ModeChange& m);
nlohmann::json render_plan_json(const Plan& plan);
// The JSON forms the plan uses (docs/schema/plan.schema.json, $defs service and provenance),
// shared with explain's.
nlohmann::json service_list_json(const std::vector<Service>& services);
nlohmann::json provenance_json(const Provenance& why);

// Human text of a verdict: which rule and provenance allowed it, or what denies it.
std::string describe_verdict(const Verdict& v, const Policy& policy);
std::string iso_time(double epoch);

}  // namespace wardgate
