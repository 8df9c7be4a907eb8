#include "wardgate/plan/readiness.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "wardgate/plan/plan.hpp"
#include "wardgate/policy/evaluate.hpp"

namespace wardgate {

namespace {

bool mature(const ObservedEdge& e, const Stance& s) {
    return e.stats.days_seen >= s.baseline_min_days || e.stats.connections >= s.baseline_min_connections;
}

std::string verdict_text(const DeviceReadiness& r, uint32_t min_days) {
    std::string facts = fmt::format("{} day{} observed", r.days_observed, r.days_observed == 1 ? "" : "s");
    if (r.ready)
        return fmt::format("ready to enforce: {}, 0 flows enforcement would block, 0 declared flows unseen", facts);
    std::vector<std::string> why;
    if (r.days_observed < min_days) why.push_back(facts + fmt::format(" (needs {})", min_days));
    if (r.would_block)
        why.push_back(fmt::format("{} observed flow{} enforcement would block{}", r.would_block, r.would_block == 1 ? "" : "s",
                                  r.immature ? fmt::format(" ({} only for want of maturity)", r.immature) : ""));
    if (r.declared_unseen)
        why.push_back(fmt::format("{} declared flow{} never seen", r.declared_unseen, r.declared_unseen == 1 ? "" : "s"));
    std::string out = "not ready: ";
    for (size_t i = 0; i < why.size(); ++i) out += (i ? ", " : "") + why[i];
    return out;
}

}  // namespace

Readiness assess_readiness(const Pipeline& p, uint32_t min_days) {
    const Site& site = *p.site;
    Readiness out;
    out.min_days = min_days;
    const Evaluator eval(p.policy);
    struct Acc {
        DaySet days;
        double last = 0;
        size_t would_block = 0, immature = 0;
        std::set<const DeclaredFlow*> seen_declared;
    };
    std::vector<Acc> acc(site.devices.size());
    for (const auto& c : p.edges) {
        if (c.unrouted) continue;
        const auto& k = c.observed.key;
        std::optional<Verdict> v;
        for (const Entity* e : {&c.initiator, &c.responder}) {
            if (e->kind != Entity::Kind::device) continue;
            Acc& a = acc[e->index];
            a.days.merge(c.observed.days);
            a.last = std::max(a.last, c.observed.stats.last_seen);
            for (const auto& d : c.declared) a.seen_declared.insert(d.flow);
            if (!v) v = eval.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
            if (v->allowed || v->by == Verdict::By::deny_rule) continue;  // a deny blocks on purpose
            ++a.would_block;
            const Device& dev = site.devices[e->index];
            auto stance = site.stances.find(dev.lifecycle);
            if (stance != site.stances.end() && stance->second.baseline && !c.explained() &&
                !mature(c.observed, stance->second))
                ++a.immature;
        }
    }
    std::map<std::string, GroupReadiness> segments, roles;
    for (size_t i = 0; i < site.devices.size(); ++i) {
        const Device& d = site.devices[i];
        const Acc& a = acc[i];
        DeviceReadiness r;
        r.device = d.name;
        r.role = d.role;
        r.segment = d.segment;
        r.days_observed = static_cast<uint32_t>(a.days.size());
        if (a.last > 0) r.last_seen = iso_time(a.last);
        r.would_block = a.would_block;
        r.immature = a.immature;
        if (const Profile* prof = site.find_profile(d.vendor, d.model))
            for (const auto& f : prof->flows) r.declared_unseen += f.required && !a.seen_declared.count(&f);
        r.ready = r.days_observed >= min_days && r.would_block == 0 && r.declared_unseen == 0;
        r.verdict = verdict_text(r, min_days);
        for (auto [groups, key] : {std::pair{&segments, d.segment}, std::pair{&roles, d.role}}) {
            auto& g = (*groups)[key];
            g.name = key;
            ++g.devices;
            g.ready += r.ready;
        }
        out.devices.push_back(std::move(r));
    }
    for (auto& [k, g] : segments) out.segments.push_back(g);
    for (auto& [k, g] : roles) out.roles.push_back(g);
    return out;
}

}  // namespace wardgate
