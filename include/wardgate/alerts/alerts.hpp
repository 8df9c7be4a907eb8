#pragma once
// Deviation alerts: a device doing something its baseline and policy do not explain.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/assess/peer_deviation.hpp"
#include "wardgate/graph/address_book.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/policy/ir.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

// Most serious first: an alert's kind is its most serious finding.
// dns_failure and policy_refused are about the gateway, not a device: a DNS-only endpoint's name
// stopped resolving; a published policy version failed its signature or digest check.
enum class AlertKind {
    denied_attempt, insecure_protocol, internet_contact, peer_deviation, new_peer, new_port, dns_failure, policy_refused
};
std::string_view to_string(AlertKind k);  // "denied-attempt", "insecure-protocol", ...

// Named after syslog severities, which they map to.
enum class Severity { notice, warning, error, critical };
std::string_view to_string(Severity s);

// The device's risk level: the highest of its impact tiers for patient safety (FDA
// class I/II/III: low/medium/high), privacy (PHI) and downtime.
Level device_risk(const Device& d);

// The insecure protocol a service port stands for ("telnet", "FTP", "TFTP", "SMB",
// "NetBIOS", "HTTP", "VNC", "RDP"), if any.

struct Alert {
    AlertKind kind = AlertKind::new_port;
    std::vector<AlertKind> findings;  // every finding, most serious first (kind is the first)
    Severity severity = Severity::warning;
    ObservedEdge edge;
    std::string initiator;  // names: device, endpoint or address
    std::string responder;
    // The device the alert is about and what it is.
    std::string device;
    bool device_initiated = false;
    std::string peer;
    std::string role, segment, vendor, model;
    Lifecycle lifecycle = Lifecycle::support;
    FdaClass fda_class = FdaClass::none;
    Level phi = Level::none;
    Level downtime_impact = Level::none;
    Level risk = Level::none;
    std::string insecure;  // the insecure protocol's name, when one was found
    std::string rule;      // the deny that matched, e.g. "deny no-telnet-pumps"
    std::string deviation; // how it differs from its siblings: "reaches 10.20.0.9 tcp/8080; 0 of its 13 siblings do"
    std::string message;
    uint64_t suppressed = 0;  // alerts for this edge held back since the previous one sent

    double time() const { return edge.stats.last_seen; }
};

// The name stopped resolving; `kept` are the addresses still allowed. `now`: epoch seconds.
Alert dns_failure_alert(const std::string& endpoint, const std::string& name, const std::string& error,
                        const std::vector<IpAddress>& kept, double now);

// A published version the gateway will not enforce (`why`: the refusal); the running policy stays.
Alert policy_refused_alert(const std::string& gateway, const std::string& why, double now);

class AlertDetector {
public:
    // book and policy must outlive the detector.
    AlertDetector(const AddressBook& book, const Policy& policy, const Date& today);

    // An edge new to the baseline alerts unless a profile, an approval or the policy
    // explains it; any edge (new or not) alerts when an explicit deny matches it.
    // Edges with no managed device at either end raise nothing.
    std::optional<Alert> assess(const ObservedEdge& edge, bool new_edge, bool peer_known) const;
    // With siblings set, a new edge that no profile or approval explains and that few of the
    // device's siblings have raises a peer-deviation finding, even where the baseline allows it.
    // siblings must outlive the detector.
    void set_siblings(const SiblingBehaviour* siblings) { siblings_ = siblings; }
    std::vector<Alert> detect(const std::vector<NewEdge>& new_edges) const;
    // An attempt the gateway itself dropped and logged (NFLOG): always a denied attempt;
    // dropped_by names the chain or rule that logged it.
    std::optional<Alert> assess_dropped(const ObservedEdge& edge, const std::string& dropped_by, bool new_edge,
                                        bool peer_known) const;

private:
    std::optional<Alert> assess(const ObservedEdge& edge, bool new_edge, bool peer_known,
                                const std::string* dropped_by) const;

    const AddressBook& book_;
    const Policy& policy_;
    Date today_;
    Evaluator evaluator_;
    const SiblingBehaviour* siblings_ = nullptr;
};

// At most one alert per edge per window (of observation time); the next one sent says
// how many were held back in between.
class AlertLimiter {
public:
    explicit AlertLimiter(double window_seconds = 3600) : window_(window_seconds) {}
    void restore(const std::vector<AlertMark>& marks);
    std::vector<AlertMark> marks() const;
    // True: send it (alert.suppressed is set). False: held back and counted.
    bool admit(Alert& alert);

private:
    double window_;
    std::vector<AlertMark> marks_;  // sorted by key
};

}  // namespace wardgate
