// Which observed edges deserve an alert, about which device, and how serious.
#include <algorithm>

#include "wardgate/alerts/alerts.hpp"
#include "wardgate/core/insecure.hpp"
#include "wardgate/graph/classify.hpp"

namespace wardgate {

namespace {

Level fda_tier(FdaClass c) {
    switch (c) {
        case FdaClass::I: return Level::low;
        case FdaClass::II: return Level::medium;
        case FdaClass::III: return Level::high;
        default: return Level::none;
    }
}

Severity base_severity(AlertKind k) {
    switch (k) {
        case AlertKind::new_peer:
        case AlertKind::new_port: return Severity::warning;
        default: return Severity::error;
    }
}

// Which end the alert is about: a clinical device before others, then the higher risk,
// then the responder (the one being reached).
const Device* pick_device(const Entity& initiator, const Entity& responder, const Site& site, bool& initiated) {
    const Device* a = initiator.kind == Entity::Kind::device ? &site.devices[initiator.index] : nullptr;
    const Device* b = responder.kind == Entity::Kind::device ? &site.devices[responder.index] : nullptr;
    initiated = false;
    if (!a && !b) return nullptr;
    if (a && b) {
        auto rank = [](const Device& d) { return std::pair(d.clinical(), device_risk(d)); };
        initiated = rank(*a) > rank(*b);
    } else {
        initiated = a != nullptr;
    }
    return initiated ? a : b;
}

std::string service_text(const EdgeKey& k) {
    return flow_service_text(k.protocol, k.responder_port, k.initiator.family);
}

std::string describe(const Alert& a) {
    const std::string flow = a.initiator + " -> " + a.responder + " " + service_text(a.edge.key);
    std::string what;
    switch (a.kind) {
        case AlertKind::denied_attempt: what = "denied attempt " + flow + " (" + a.rule + ")"; break;
        case AlertKind::insecure_protocol: what = "insecure protocol " + a.insecure + ": " + flow; break;
        case AlertKind::internet_contact: what = "internet contact with " + a.peer + ": " + flow; break;
        case AlertKind::peer_deviation: what = "unlike its siblings: " + a.deviation + ": " + flow; break;
        case AlertKind::new_peer: what = "new peer " + a.peer + ": " + flow; break;
        case AlertKind::new_port: what = "new port " + service_text(a.edge.key) + " with known peer " + a.peer + ": " + flow; break;
        case AlertKind::dns_failure:
        case AlertKind::policy_refused: return a.message;
    }
    if (a.findings.size() > 1) {
        what += "; also";
        for (size_t i = 1; i < a.findings.size(); ++i) what += std::string(i > 1 ? "," : "") + " " + std::string(to_string(a.findings[i]));
    }
    return a.device + " (" + a.role + ", " + std::string(to_string(a.lifecycle)) + ", risk " +
           std::string(to_string(a.risk)) + "): " + what;
}

}  // namespace

std::string_view to_string(AlertKind k) {
    switch (k) {
        case AlertKind::denied_attempt: return "denied-attempt";
        case AlertKind::insecure_protocol: return "insecure-protocol";
        case AlertKind::internet_contact: return "internet-contact";
        case AlertKind::peer_deviation: return "peer-deviation";
        case AlertKind::new_peer: return "new-peer";
        case AlertKind::new_port: return "new-port";
        case AlertKind::dns_failure: return "dns-failure";
        case AlertKind::policy_refused: return "policy-refused";
    }
    return "?";
}

std::string_view to_string(Severity s) {
    switch (s) {
        case Severity::notice: return "notice";
        case Severity::warning: return "warning";
        case Severity::error: return "error";
        case Severity::critical: return "critical";
    }
    return "?";
}

Level device_risk(const Device& d) { return std::max({fda_tier(d.fda_class), d.phi, d.downtime_impact}); }

AlertDetector::AlertDetector(const AddressBook& book, const Policy& policy, const Date& today)
    : book_(book), policy_(policy), today_(today), evaluator_(policy) {}

std::optional<Alert> AlertDetector::assess(const ObservedEdge& edge, bool new_edge, bool peer_known) const {
    return assess(edge, new_edge, peer_known, nullptr);
}

std::optional<Alert> AlertDetector::assess_dropped(const ObservedEdge& edge, const std::string& dropped_by, bool new_edge,
                                                   bool peer_known) const {
    return assess(edge, new_edge, peer_known, &dropped_by);
}

std::optional<Alert> AlertDetector::assess(const ObservedEdge& edge, bool new_edge, bool peer_known,
                                           const std::string* dropped_by) const {
    const EdgeKey& k = edge.key;
    ClassifiedEdge c = std::move(classify_edges({edge}, book_, today_).front());
    if (c.unrouted) return std::nullopt;  // link-local and multicast never cross the gateway
    bool device_initiated = false;
    const Device* device = pick_device(c.initiator, c.responder, book_.site(), device_initiated);
    if (!device) return std::nullopt;

    Verdict verdict = evaluator_.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
    const bool denied = dropped_by || verdict.by == Verdict::By::deny_rule;
    const bool explained = c.explained() || verdict.allowed;
    std::optional<PeerDeviation> deviation;
    if (new_edge && siblings_ && !c.explained())
        deviation = siblings_->deviation(static_cast<uint32_t>(device - book_.site().devices.data()), c, device_initiated);
    if (!denied && !deviation && (explained || !new_edge)) return std::nullopt;

    Alert a;
    a.edge = edge;
    const Entity& peer = device_initiated ? c.responder : c.initiator;
    a.initiator = book_.name(c.initiator);
    a.responder = book_.name(c.responder);
    a.device = device->name;
    a.device_initiated = device_initiated;
    a.peer = book_.name(peer);
    a.role = device->role;
    a.segment = device->segment;
    a.vendor = device->vendor;
    a.model = device->model;
    a.lifecycle = device->lifecycle;
    a.fda_class = device->fda_class;
    a.phi = device->phi;
    a.downtime_impact = device->downtime_impact;
    a.risk = device_risk(*device);

    if (denied) {
        a.findings.push_back(AlertKind::denied_attempt);
        if (dropped_by) {
            a.rule = *dropped_by;
        } else {
            const auto& why = policy_.rules[verdict.rule].why;
            if (!why.empty()) a.rule = why.front().source;
        }
    }
    if (auto name = insecure_protocol(k.protocol, k.responder_port, edge.stats.applications)) {
        a.findings.push_back(AlertKind::insecure_protocol);
        a.insecure = *name;
    }
    if (book_.is_internet(peer)) a.findings.push_back(AlertKind::internet_contact);
    if (deviation) {
        a.findings.push_back(AlertKind::peer_deviation);
        a.deviation = deviation->text();
    }
    if (new_edge) a.findings.push_back(peer_known ? AlertKind::new_port : AlertKind::new_peer);
    if (a.findings.empty()) return std::nullopt;
    a.kind = a.findings.front();

    a.severity = base_severity(a.kind);
    if ((a.risk == Level::high || a.lifecycle == Lifecycle::end_of_support) && a.severity != Severity::critical)
        a.severity = static_cast<Severity>(static_cast<int>(a.severity) + 1);
    a.message = describe(a);
    return a;
}

std::vector<Alert> AlertDetector::detect(const std::vector<NewEdge>& new_edges) const {
    std::vector<Alert> out;
    for (const auto& n : new_edges)
        if (auto a = assess(n.edge, true, n.peer_known)) out.push_back(std::move(*a));
    return out;
}

void AlertLimiter::restore(const std::vector<AlertMark>& marks) {
    marks_ = marks;
    std::sort(marks_.begin(), marks_.end(), [](const AlertMark& a, const AlertMark& b) { return a.key < b.key; });
}

std::vector<AlertMark> AlertLimiter::marks() const { return marks_; }

bool AlertLimiter::admit(Alert& alert) {
    const EdgeKey& key = alert.edge.key;
    auto it = std::lower_bound(marks_.begin(), marks_.end(), key,
                               [](const AlertMark& m, const EdgeKey& k) { return m.key < k; });
    if (it == marks_.end() || it->key != key) {
        marks_.insert(it, AlertMark{key, alert.time(), 0});
        alert.suppressed = 0;
        return true;
    }
    if (alert.time() < it->last_sent + window_) {
        ++it->suppressed;
        return false;
    }
    alert.suppressed = it->suppressed;
    it->last_sent = alert.time();
    it->suppressed = 0;
    return true;
}

}  // namespace wardgate
