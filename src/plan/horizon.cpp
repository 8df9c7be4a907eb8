#include "wardgate/plan/horizon.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "wardgate/plan/plan.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

namespace {

Date add_days(const Date& d, int n) { return Date{std::chrono::sys_days(d) + std::chrono::days(n)}; }

// The days in (today, until] on which something takes effect: the day after an approval's last
// day, the day after a device's end of life or end of support.
std::set<std::chrono::sys_days> change_days(const Site& site, const Date& today, const Date& until) {
    std::set<std::chrono::sys_days> out;
    auto consider = [&](const std::optional<Date>& last) {
        if (!last) return;
        auto day = std::chrono::sys_days(add_days(*last, 1));
        if (day > std::chrono::sys_days(today) && day <= std::chrono::sys_days(until)) out.insert(day);
    };
    for (const auto& a : site.approvals) consider(a.expires);
    for (const auto& d : site.devices) {
        consider(d.eol);
        consider(d.eos);
    }
    return out;
}

std::vector<HorizonEvent> events_on(const Date& day, const Site& before, const Site& after) {
    std::vector<HorizonEvent> out;
    for (const auto& a : before.approvals)
        if (a.expires && add_days(*a.expires, 1) == day) {
            std::string who = a.by.empty() ? "" : "; by " + a.by;
            std::string ticket = a.ticket.empty() ? "" : "; ticket " + a.ticket;
            out.push_back({HorizonEvent::Kind::approval_expires, a.id,
                           fmt::format("approval {} expires (its last day was {}{}{}): {} to {} {}", a.id,
                                       to_string(*a.expires), ticket, who, a.from.to_string(), a.to.to_string(),
                                       a.service.to_string())});
        }
    const SiteNames was_named(before);
    for (const auto& d : after.devices) {
        const Device* was = was_named.device(d.name);
        if (!was || was->lifecycle == d.lifecycle) continue;
        bool eos = d.lifecycle == Lifecycle::end_of_support;
        out.push_back({HorizonEvent::Kind::stage_raised, d.name,
                       fmt::format("{} moves from {} to {} (its end of {} was {})", d.name, to_string(was->lifecycle),
                                   to_string(d.lifecycle), eos ? "support" : "life",
                                   to_string(eos ? *d.eos : *d.eol))});
    }
    return out;
}

std::string flow_key(const BlockedFlow& f) {
    return f.initiator_ip + ">" + f.responder_ip + "|" + f.service + (f.monitored ? "|monitored" : "");
}

std::set<std::string> blocked_keys(const std::vector<DeviceImpact>& impact) {
    std::set<std::string> out;
    for (const auto& d : impact)
        for (const auto& f : d.flows) out.insert(flow_key(f));
    return out;
}

std::vector<HorizonLoss> losses(const std::vector<DeviceImpact>& impact, const std::set<std::string>& before) {
    std::map<std::tuple<std::string, std::string, bool, bool>, HorizonLoss> grouped;
    for (const auto& d : impact)
        for (const auto& f : d.flows) {
            if (before.count(flow_key(f))) continue;
            bool from_peer = f.initiator != d.device;
            const std::string& peer = from_peer ? f.initiator : f.responder;
            auto& l = grouped[{peer, f.service, from_peer, f.monitored}];
            l.peer = peer;
            l.service = f.service;
            l.peer_initiates = from_peer;
            l.monitored = f.monitored;
            l.devices.push_back(d.device);
            if (!d.role.empty()) l.roles.push_back(d.role);
            l.connections += f.connections;
            l.applications.insert(l.applications.end(), f.applications.begin(), f.applications.end());
        }
    std::vector<HorizonLoss> out;
    for (auto& [key, l] : grouped) {
        for (auto* v : {&l.devices, &l.roles, &l.applications}) {
            std::sort(v->begin(), v->end());
            v->erase(std::unique(v->begin(), v->end()), v->end());
        }
        out.push_back(std::move(l));
    }
    // The widest losses first.
    std::stable_sort(out.begin(), out.end(),
                     [](const HorizonLoss& a, const HorizonLoss& b) { return a.devices.size() > b.devices.size(); });
    return out;
}

}  // namespace

std::optional<uint32_t> parse_horizon(std::string_view text) {
    uint32_t scale = 1;
    if (!text.empty() && (text.back() == 'd' || text.back() == 'w')) {
        scale = text.back() == 'w' ? 7 : 1;
        text.remove_suffix(1);
    }
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n == 0 || n > 3650 / scale)
        return std::nullopt;
    return n * scale;
}

Horizon make_horizon(const Pipeline& today, uint32_t days) {
    Horizon h;
    h.site = today.policy.site;
    h.today = to_string(today.today);
    Date until = add_days(today.today, static_cast<int>(days));
    h.until = to_string(until);
    h.days = days;
    const Pipeline* prev = &today;
    Pipeline held;
    std::set<std::string> blocked_before = blocked_keys(make_plan(today.policy, std::nullopt, today.edges, *today.book).impact);
    for (auto sd : change_days(*today.site, today.today, until)) {
        Date day{sd};
        Pipeline next = recompile_on(today, day);
        Plan plan = make_plan(next.policy, snapshot_of(prev->policy), next.edges, *next.book);
        HorizonDay c;
        c.day = to_string(day);
        c.events = events_on(day, *prev->site, *next.site);
        for (const auto& r : plan.rules)
            ++(r.kind == RuleChange::Kind::added     ? c.rules_added
               : r.kind == RuleChange::Kind::removed ? c.rules_removed
                                                     : c.rules_changed);
        c.losses = losses(plan.impact, blocked_before);
        blocked_before = blocked_keys(plan.impact);
        // A date that changes nothing (a stage the inventory already states) is not an event.
        if (!c.events.empty() || !c.losses.empty() || c.rules_added + c.rules_removed + c.rules_changed > 0)
            h.changes.push_back(std::move(c));
        held = std::move(next);
        prev = &held;
    }
    return h;
}

static std::string list_names(const std::vector<std::string>& names, size_t shown) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
    return out;
}

std::string render_horizon_text(const Horizon& h) {
    std::string out;
    if (h.changes.empty())
        return fmt::format("Nothing changes in the next {} days ({} to {}): no approval expires and no device's "
                           "dates raise its stage.\n",
                           h.days, h.today, h.until);
    out += fmt::format("What changes in the next {} days ({} to {}), day by day:\n", h.days, h.today, h.until);
    for (const auto& c : h.changes) {
        out += "\n" + c.day + "\n";
        for (const auto& e : c.events) out += "  " + e.text + "\n";
        if (c.rules_added + c.rules_removed + c.rules_changed)
            out += fmt::format("  rules: {} removed, {} added, {} changed\n", c.rules_removed, c.rules_added, c.rules_changed);
        if (c.losses.empty()) out += "  no observed flow loses its allow\n";
        for (const auto& l : c.losses) {
            std::string who = l.devices.size() == 1 ? l.devices.front()
                                                    : fmt::format("{} devices", l.devices.size());
            if (l.devices.size() > 1 && !l.roles.empty()) who += " (" + list_names(l.roles, 3) + ")";
            std::string apps = l.applications.empty() ? "" : " (" + list_names(l.applications, 3) + ")";
            out += fmt::format("  {} {} {}{} {} {}, seen in {} connections{}\n", who,
                               l.monitored ? "would lose (monitor: logged, not dropped)" : "lose", l.service, apps,
                               l.peer_initiates ? "from" : "to", l.peer, l.connections,
                               l.devices.size() > 1 ? ": " + list_names(l.devices, 10) : "");
        }
    }
    return out;
}

nlohmann::json render_horizon_json(const Horizon& h) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : h.changes) {
        nlohmann::json events = nlohmann::json::array(), lost = nlohmann::json::array();
        for (const auto& e : c.events)
            events.push_back({{"kind", e.kind == HorizonEvent::Kind::approval_expires ? "approval-expires" : "stage-raised"},
                              {"subject", e.subject},
                              {"text", e.text}});
        for (const auto& l : c.losses)
            lost.push_back({{"peer", l.peer},
                            {"service", l.service},
                            {"direction", l.peer_initiates ? "from-peer" : "to-peer"},
                            {"monitored", l.monitored},
                            {"devices", l.devices},
                            {"roles", l.roles},
                            {"connections", l.connections},
                            {"applications", l.applications}});
        changes.push_back({{"day", c.day},
                           {"events", events},
                           {"rules", {{"added", c.rules_added}, {"removed", c.rules_removed}, {"changed", c.rules_changed}}},
                           {"losses", lost}});
    }
    return {{"format", 1}, {"site", h.site}, {"today", h.today}, {"until", h.until}, {"days", h.days}, {"changes", changes}};
}

}  // namespace wardgate
