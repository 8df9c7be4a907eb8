#include "wardgate/assess/risk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "wardgate/assess/peer_deviation.hpp"
#include "wardgate/core/insecure.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

std::string_view to_string(ExposureFactor f) {
    switch (f) {
        case ExposureFactor::lifecycle: return "lifecycle";
        case ExposureFactor::internet_seen: return "internet-seen";
        case ExposureFactor::internet_declared: return "internet-declared";
        case ExposureFactor::insecure_protocol: return "insecure-protocol";
        case ExposureFactor::insecure_attempts: return "insecure-attempts";
        case ExposureFactor::unexplained_peers: return "unexplained-peers";
        case ExposureFactor::peer_deviation: return "peer-deviation";
        case ExposureFactor::workstation_peers: return "workstation-peers";
        case ExposureFactor::monitor: return "monitor";
        case ExposureFactor::no_profile: return "no-profile";
    }
    return "?";
}

int risk_score(Level impact, int exposure_points) {
    double i = static_cast<double>(static_cast<int>(impact)) / 3.0;
    double e = (1.0 + std::min(exposure_points, 10)) / 11.0;
    return static_cast<int>(std::lround(100.0 * i * e));
}

Level score_level(int score) {
    return score >= 60 ? Level::high : score >= 30 ? Level::medium : score > 0 ? Level::low : Level::none;
}

Level exposure_level(int points) { return points >= 5 ? Level::high : points >= 2 ? Level::medium : Level::low; }

namespace {

// Roles whose devices deliver therapy or keep watch over a patient's life: a compromise can
// hurt the patient directly, whatever the FDA class says.
constexpr std::array kLifeCriticalRoles = {"infusion-pump", "insulin-pump", "ventilator", "anesthesia", "dialysis",
                                           "defibrillator", "patient-monitor", "ecmo", "heart-lung"};

ImpactFactor safety_of(const Device& d) {
    ImpactFactor f;
    switch (d.fda_class) {
        case FdaClass::none: break;
        case FdaClass::I: f = {Level::low, "FDA class I"}; break;
        case FdaClass::II: f = {Level::medium, "FDA class II"}; break;
        case FdaClass::III: f = {Level::high, "FDA class III"}; break;
    }
    if (d.clinical() && f.level < Level::high)
        for (std::string_view role : kLifeCriticalRoles)
            if (d.role.find(role) != std::string::npos) {
                f = {Level::high, f.source + ", raised by its role " + d.role + " (therapy or life support)"};
                break;
            }
    return f;
}

ImpactFactor level_factor(Level l, std::string_view what) {
    if (l == Level::none) return {};
    return {l, fmt::format("{} {}", what, to_string(l))};
}

bool is_internet_peer(const PeerRef& p, const Site& site) {
    switch (p.kind) {
        case PeerRef::Kind::any: return true;
        case PeerRef::Kind::cidr: return p.cidr.length == 0;
        case PeerRef::Kind::endpoint: {
            const Endpoint* e = site.find_endpoint(p.name);
            return e && e->is_internet();
        }
        case PeerRef::Kind::role:
            return std::any_of(site.endpoints.begin(), site.endpoints.end(),
                               [&](const Endpoint& e) { return e.is_internet() && e.role == p.name; });
        default: return false;
    }
}

std::string list(const std::set<std::string>& items, size_t shown) {
    std::string out;
    size_t i = 0;
    for (const auto& s : items) {
        if (i == shown) {
            out += fmt::format(" and {} more", items.size() - shown);
            break;
        }
        out += (i++ ? ", " : "") + s;
    }
    return out;
}

// What the edges show about one device.
struct Seen {
    std::set<std::string> internet;     // "192.0.2.44 tcp/443"
    std::set<std::string> insecure;     // "telnet (tcp/23) from ws-01"
    std::set<std::string> insecure_denied;  // the same, where a deny of the site already blocks it
    std::set<std::string> unexplained;  // peer names
    std::set<std::string> workstations; // peer names
    std::set<std::string> clinical_peers;
    std::vector<const PeerDeviation*> deviations;
};

std::map<uint32_t, Seen> seen_per_device(const AddressBook& book, const std::vector<ClassifiedEdge>& edges) {
    const Site& site = book.site();
    std::map<uint32_t, Seen> out;
    for (const auto& c : edges) {
        if (c.unrouted) continue;
        const auto& k = c.observed.key;
        for (int side = 0; side < 2; ++side) {
            const Entity& me = side == 0 ? c.initiator : c.responder;
            const Entity& peer = side == 0 ? c.responder : c.initiator;
            if (me.kind != Entity::Kind::device) continue;
            Seen& s = out[me.index];
            std::string peer_name = book.name(peer);
            std::string service = flow_service_text(k.protocol, k.responder_port, k.initiator.family);
            if (book.is_internet(peer)) s.internet.insert(peer_name + " " + service);
            if (auto insecure = insecure_protocol(k.protocol, k.responder_port, c.observed.stats.applications)) {
                std::string what = fmt::format("{} ({}) {} {}", *insecure, service, side == 0 ? "to" : "from", peer_name);
                if (const Deny* deny = matching_deny(c, book))
                    s.insecure_denied.insert(what + " (deny " + deny->id + ")");
                else
                    s.insecure.insert(what);
            }
            if (!c.explained()) s.unexplained.insert(peer_name);
            if (peer.segment >= 0 && site.segments[static_cast<size_t>(peer.segment)].kind == SegmentKind::workstations)
                s.workstations.insert(peer_name);
            if (peer.kind == Entity::Kind::device && site.devices[peer.index].clinical())
                s.clinical_peers.insert(peer_name);
        }
    }
    return out;
}

std::vector<RiskReason> exposure_of(const Device& d, const Seen& seen, const Site& site) {
    std::vector<RiskReason> out;
    if (d.lifecycle == Lifecycle::end_of_support)
        out.push_back({ExposureFactor::lifecycle, 3,
                       d.eos ? "end of support since " + to_string(*d.eos) + ": the manufacturer no longer patches it"
                             : "end of support: the manufacturer no longer patches it",
                       "replace it; until then keep it on the declared-only stance"});
    else if (d.lifecycle == Lifecycle::limited_support)
        out.push_back({ExposureFactor::lifecycle, 1,
                       d.eol ? "limited support since " + to_string(*d.eol) : "limited support",
                       "plan its replacement before its end of support" +
                           (d.eos ? " (" + to_string(*d.eos) + ")" : std::string())});
    auto stance = site.stances.find(d.lifecycle);
    bool internet_allowed = stance == site.stances.end() || stance->second.internet;
    if (!seen.internet.empty()) {
        out.push_back({ExposureFactor::internet_seen, 3, "internet contact seen: " + list(seen.internet, 3),
                       "block its internet contact, or name the vendor endpoint it needs"});
    } else if (const Profile* p = site.find_profile(d.vendor, d.model); p && internet_allowed) {
        std::set<std::string> declared;
        for (const auto& f : p->flows)
            if (is_internet_peer(f.peer, site)) declared.insert(f.peer.to_string() + " " + f.service.to_string());
        if (!declared.empty())
            out.push_back({ExposureFactor::internet_declared, 1,
                           "its profile declares internet contact: " + list(declared, 3),
                           "narrow the declared internet flow to the vendor's own endpoint"});
    }
    if (!seen.insecure.empty())
        out.push_back({ExposureFactor::insecure_protocol, 2, "insecure protocols seen: " + list(seen.insecure, 3),
                       "deny the cleartext protocol, or have the vendor replace it with an encrypted one"});
    else if (!seen.insecure_denied.empty())
        out.push_back({ExposureFactor::insecure_attempts, 1,
                       "insecure protocols tried and denied: " + list(seen.insecure_denied, 3),
                       "find and stop what keeps trying them"});
    if (!seen.unexplained.empty())
        out.push_back({ExposureFactor::unexplained_peers, seen.unexplained.size() >= 3 ? 2 : 1,
                       fmt::format("{} unexplained peer{} (no profile or approval): {}", seen.unexplained.size(),
                                   seen.unexplained.size() == 1 ? "" : "s", list(seen.unexplained, 3)),
                       "review the unexplained peers: declare, approve or deny each"});
    if (!seen.deviations.empty()) {
        std::string what;
        for (size_t i = 0; i < seen.deviations.size() && i < 2; ++i) what += (i ? ", " : "") + seen.deviations[i]->text();
        if (seen.deviations.size() > 2) what += fmt::format(" and {} more", seen.deviations.size() - 2);
        out.push_back({ExposureFactor::peer_deviation, seen.deviations.size() >= 3 ? 2 : 1,
                       "unlike its siblings (" + seen.deviations.front()->group + "): " + what,
                       "find out why it differs from its siblings; declare, approve or deny the odd flows"});
    }
    if (!seen.workstations.empty())
        out.push_back({ExposureFactor::workstation_peers, 1, "talks with workstations: " + list(seen.workstations, 3),
                       "limit workstation access to named, approved workstations"});
    if (auto m = site.monitor_cause(d)) {
        std::string what = m->scope == "site" ? "the site's policy" : m->scope;
        out.push_back({ExposureFactor::monitor, 2, m->why + ": the policy logs its would-be drops, it does not drop them",
                       m->by_segment() || m->scope == "site" ? "enforce " + what
                                                                                 : "take " + what + " out of monitor"});
    }
    if (d.clinical() && !site.find_profile(d.vendor, d.model))
        out.push_back({ExposureFactor::no_profile, 1,
                       "no manufacturer profile for " + d.vendor + " " + d.model + ": nothing declares what it needs",
                       "add the manufacturer's port table (MDS2) or MUD file as a profile"});
    std::stable_sort(out.begin(), out.end(), [](const RiskReason& a, const RiskReason& b) { return a.points > b.points; });
    return out;
}

}  // namespace

std::vector<DeviceRisk> assess_risk(const AddressBook& book, const std::vector<ClassifiedEdge>& edges) {
    const Site& site = book.site();
    auto seen = seen_per_device(book, edges);
    const auto deviations = peer_deviations(book, edges);
    const SiteNames names(site);
    for (const auto& d : deviations)
        seen[static_cast<uint32_t>(names.device_index(*names.device(d.device)))].deviations.push_back(&d);
    std::map<std::pair<std::string, std::string>, int> per_model;
    for (const auto& d : site.devices) ++per_model[{d.vendor, d.model}];
    static const Seen nothing;
    std::vector<DeviceRisk> out;
    for (uint32_t i = 0; i < site.devices.size(); ++i) {
        const Device& d = site.devices[i];
        auto it = seen.find(i);
        const Seen& s = it == seen.end() ? nothing : it->second;
        DeviceRisk r;
        r.device = d.name;
        r.role = d.role;
        r.segment = d.segment;
        r.vendor = d.vendor;
        r.model = d.model;
        r.stage = d.lifecycle;
        r.safety = safety_of(d);
        r.privacy = level_factor(d.phi, "PHI");
        r.availability = level_factor(d.downtime_impact, "downtime impact");
        r.impact = std::max({r.safety.level, r.privacy.level, r.availability.level});
        if (d.clinical()) {
            int siblings = per_model[{d.vendor, d.model}] - 1;
            bool several = siblings > 0 || !s.clinical_peers.empty();
            r.fda_tier = r.safety.level >= Level::medium && several ? 1 : 2;
            r.tier_reason = r.fda_tier == 1
                                ? (siblings > 0 ? fmt::format("networked, patient safety {}, and one exploit reaches its {} "
                                                              "sibling{} of the same model: several patients",
                                                              to_string(r.safety.level), siblings, siblings == 1 ? "" : "s")
                                                : fmt::format("networked, patient safety {}, and it talks with other "
                                                              "medical devices: several patients",
                                                              to_string(r.safety.level)))
                                : "a compromise would harm one patient at most, or not directly";
        }
        r.exposure = exposure_of(d, s, site);
        for (const auto& e : r.exposure) r.exposure_points += e.points;
        r.exposure_level = exposure_level(r.exposure_points);
        r.score = risk_score(r.impact, r.exposure_points);
        r.level = score_level(r.score);
        r.score_after = r.score;
        // The change that lowers the score most; the life cycle only when nothing else is there,
        // since replacing a device is rarely the next step.
        for (int pass = 0; pass < 2 && !r.best_change; ++pass)
            for (const auto& e : r.exposure) {
                if ((e.factor == ExposureFactor::lifecycle) != (pass == 1)) continue;
                int after = risk_score(r.impact, r.exposure_points - e.points);
                if (!r.best_change || after < r.score_after) {
                    r.best_change = e;
                    r.score_after = after;
                }
            }
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const DeviceRisk& a, const DeviceRisk& b) {
        return a.score != b.score ? a.score > b.score : a.device < b.device;
    });
    return out;
}

}  // namespace wardgate
