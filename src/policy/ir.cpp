#include "wardgate/policy/ir.hpp"

#include <algorithm>
#include <cstdio>

namespace wardgate {

bool AddressGroup::contains(const IpAddress& a) const {
    if (any) return true;
    // Prefixes are collapsed, so they do not overlap: only the last one starting at or below `a` can hold it.
    auto it = std::upper_bound(prefixes.begin(), prefixes.end(), a,
                               [](const IpAddress& v, const Prefix& p) { return v < p.address; });
    return it != prefixes.begin() && std::prev(it)->contains(a);
}

bool AddressGroup::has(Family f) const {
    return any || std::any_of(prefixes.begin(), prefixes.end(), [&](const Prefix& p) { return p.family() == f; });
}

bool Rule::matches_service(Protocol p, uint16_t port, Family f) const {
    // No services: the rule matches every packet between its groups, as the ruleset renders it.
    return services.empty() || std::any_of(services.begin(), services.end(), [&](const Service& s) { return s.matches(p, port, f); });
}

bool Rule::trial() const {
    return !why.empty() && std::all_of(why.begin(), why.end(), [](const Provenance& w) { return w.trial; });
}

std::string_view Rule::trial_effect() const {
    return action == Action::deny ? "logs what it matches and drops nothing"
                                  : "lets its flows through and logs each new connection";
}

std::string rule_id(const Policy& p, const Rule& r) {
    std::string text = r.action == Rule::Action::allow ? "allow|" : "deny|";
    if (r.trial()) text += "trial|";
    text += p.groups[r.src].name + "|" + p.groups[r.dst].name + "|";
    for (const auto& s : r.services) text += s.to_string() + ";";
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char out[16];
    std::snprintf(out, sizeof out, "%012llx", static_cast<unsigned long long>(h & 0xffffffffffffULL));
    return std::string("r-") + out;
}

std::string_view to_string(AddressGroup::Kind k) {
    switch (k) {
        case AddressGroup::Kind::devices: return "devices";
        case AddressGroup::Kind::role: return "role";
        case AddressGroup::Kind::segment: return "segment";
        case AddressGroup::Kind::endpoint: return "endpoint";
        case AddressGroup::Kind::device: return "device";
        case AddressGroup::Kind::network: return "network";
        case AddressGroup::Kind::site: return "site";
        case AddressGroup::Kind::tag: return "tag";
    }
    return "?";
}

std::string_view to_string(Provenance::Kind k) {
    switch (k) {
        case Provenance::Kind::declared: return "declared";
        case Provenance::Kind::approved: return "approved";
        case Provenance::Kind::baseline: return "baseline";
        case Provenance::Kind::denied: return "denied";
    }
    return "?";
}

}  // namespace wardgate

namespace wardgate {

std::string_view to_string(BaselineRefusal::Reason r) {
    switch (r) {
        case BaselineRefusal::Reason::unknown_peer: return "unknown-peer";
        case BaselineRefusal::Reason::outside_peer: return "outside-peer";
        case BaselineRefusal::Reason::not_answered: return "not-answered";
        case BaselineRefusal::Reason::immature: return "not-mature";
        case BaselineRefusal::Reason::insecure: return "insecure-protocol";
        case BaselineRefusal::Reason::approval_expired: return "approval-expired";
    }
    return "?";
}

std::string_view heading(BaselineRefusal::Reason r) {
    switch (r) {
        case BaselineRefusal::Reason::unknown_peer: return "peer not in inventory: add it or approve the flow";
        case BaselineRefusal::Reason::outside_peer:
            return "peer outside the site is not a named endpoint: declare it, approve it or name the endpoint";
        case BaselineRefusal::Reason::not_answered: return "never answered: no completed exchange was seen";
        case BaselineRefusal::Reason::immature: return "not yet mature: kept after more observation";
        case BaselineRefusal::Reason::insecure:
            return "insecure protocol: only a declaration or an approval opens it";
        case BaselineRefusal::Reason::approval_expired: return "approval expired: not re-admitted by the baseline";
    }
    return "?";
}

Service Pinhole::service() const {
    Service s{protocol, {}, {}};
    if (has_ports(protocol)) s.ports = {{port, port}};
    if (auto m = protocol == Protocol::icmp ? icmp_message(port) : std::nullopt) s.icmp_types = {{src.family, m->type, -1}};
    return s;
}

}  // namespace wardgate
