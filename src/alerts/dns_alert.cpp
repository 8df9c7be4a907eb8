#include <fmt/format.h>

#include "wardgate/alerts/alerts.hpp"

namespace wardgate {

Alert dns_failure_alert(const std::string& endpoint, const std::string& name, const std::string& error,
                        const std::vector<IpAddress>& kept, double now) {
    Alert a;
    a.kind = AlertKind::dns_failure;
    a.findings = {AlertKind::dns_failure};
    a.severity = Severity::warning;
    a.edge.stats.first_seen = a.edge.stats.last_seen = now;
    a.peer = name;
    a.responder = "endpoint " + endpoint;
    std::string addresses;
    for (const auto& ip : kept) addresses += (addresses.empty() ? "" : ", ") + ip.to_string();
    a.message = fmt::format("endpoint {}: {} does not resolve ({}); keeping its last addresses: {}", endpoint, name, error,
                            addresses.empty() ? "none" : addresses);
    return a;
}

Alert policy_refused_alert(const std::string& gateway, const std::string& why, double now) {
    Alert a;
    a.kind = AlertKind::policy_refused;
    a.findings = {AlertKind::policy_refused};
    a.severity = Severity::critical;
    a.edge.stats.first_seen = a.edge.stats.last_seen = now;
    a.responder = gateway.empty() ? "gateway" : "gateway " + gateway;
    a.message = fmt::format("{}: refused a published policy version, the running policy stays: {}", a.responder, why);
    return a;
}

}  // namespace wardgate
