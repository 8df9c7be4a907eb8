#include "wardgate/assess/scorecard.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "wardgate/assess/risk.hpp"
#include "wardgate/core/insecure.hpp"

namespace wardgate {

std::string Kpi::text() const {
    if (!of) return value == std::floor(value) ? fmt::format("{}", static_cast<uint64_t>(value)) : fmt::format("{:.1f}", value);
    return fmt::format("{} of {} ({}%)", static_cast<uint64_t>(std::llround(value)), *of,
                       *of ? static_cast<int>(std::lround(100.0 * value / static_cast<double>(*of))) : 0);
}

namespace {

bool declared_only(const Site& site, Lifecycle stage) {
    auto it = site.stances.find(stage);
    if (it == site.stances.end()) return false;
    return !it->second.baseline && !it->second.approvals && !it->second.internet;
}

bool enforced(const Site& site, const Device& d) { return !site.monitor_cause(d); }

}  // namespace

Scorecard compute_scorecard(const AddressBook& book, const std::vector<ClassifiedEdge>& edges, const Date& today) {
    return compute_scorecard(book, edges, today, assess_risk(book, edges));
}

Scorecard compute_scorecard(const AddressBook& book, const std::vector<ClassifiedEdge>& edges, const Date& today,
                            const std::vector<DeviceRisk>& risks) {
    const Site& site = book.site();
    Scorecard card;
    card.site = site.name;
    card.today = to_string(today);
    size_t medical = 0, profiled = 0, enforced_devices = 0, eos = 0, eos_strict = 0;
    for (const auto& d : site.devices) {
        if (d.clinical()) {
            ++medical;
            profiled += site.find_profile(d.vendor, d.model) != nullptr;
        }
        enforced_devices += enforced(site, d);
        if (d.lifecycle == Lifecycle::end_of_support) {
            ++eos;
            eos_strict += declared_only(site, Lifecycle::end_of_support);
        }
    }
    std::set<uint32_t> internet;
    size_t unexplained = 0, insecure = 0;
    for (const auto& c : edges) {
        if (c.unrouted) continue;
        bool device_end = c.initiator.kind == Entity::Kind::device || c.responder.kind == Entity::Kind::device;
        if (!device_end) continue;
        if (c.initiator.kind == Entity::Kind::device && book.is_internet(c.responder)) internet.insert(c.initiator.index);
        if (c.responder.kind == Entity::Kind::device && book.is_internet(c.initiator)) internet.insert(c.responder.index);
        unexplained += !c.explained();
        const auto& k = c.observed.key;
        if (insecure_protocol(k.protocol, k.responder_port, c.observed.stats.applications) && !matching_deny(c, book))
            ++insecure;
    }
    size_t expiring = 0;
    const auto horizon = std::chrono::sys_days(today) + std::chrono::days(90);
    for (const auto& a : site.approvals)
        if (a.expires && !a.expired(today) && std::chrono::sys_days(*a.expires) <= horizon) ++expiring;
    size_t high = 0;
    double total = 0;
    for (const auto& r : risks) {
        high += r.level == Level::high;
        total += r.score;
    }
    const size_t devices = site.devices.size();
    card.kpis = {
        {"profile_coverage", "medical devices with a manufacturer profile", true, medical, static_cast<double>(profiled)},
        {"enforced_devices", "devices whose segment enforces (not monitor)", true, devices, static_cast<double>(enforced_devices)},
        {"eos_declared_only", "end-of-support devices on a declared-only stance", true, eos, static_cast<double>(eos_strict)},
        {"internet_contact_devices", "devices seen in contact with the internet", false, devices,
         static_cast<double>(internet.size())},
        {"unexplained_flows", "observed device flows no profile or approval explains", false, std::nullopt,
         static_cast<double>(unexplained)},
        {"insecure_flows", "observed device flows of an insecure protocol no deny blocks", false, std::nullopt,
         static_cast<double>(insecure)},
        {"approvals_expiring_90d", "approvals that expire within 90 days", false, std::nullopt, static_cast<double>(expiring)},
        {"high_risk_devices", "devices with a risk score of 60 or more", false, devices, static_cast<double>(high)},
        {"mean_risk_score", "mean risk score of all devices (0-100)", false, std::nullopt,
         devices ? std::round(total / static_cast<double>(devices) * 10) / 10 : 0.0},
    };
    return card;
}

}  // namespace wardgate
