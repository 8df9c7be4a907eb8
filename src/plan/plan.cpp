#include "wardgate/plan/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "wardgate/policy/slice.hpp"
#include "wardgate/render/nft.hpp"

namespace wardgate {

uint64_t DeviceImpact::connections() const {
    uint64_t n = 0;
    for (const auto& f : flows) n += f.connections;
    return n;
}

std::string iso_time(double epoch) {
    auto secs = static_cast<long long>(epoch);
    auto tp = std::chrono::sys_seconds{std::chrono::seconds{secs}};
    auto day = std::chrono::floor<std::chrono::days>(tp);
    std::chrono::hh_mm_ss hms{tp - day};
    return fmt::format("{}T{:02}:{:02}:{:02}Z", to_string(Date{day}), hms.hours().count(), hms.minutes().count(),
                       hms.seconds().count());
}

static std::string describe_verdict_only(const Verdict& v, const Policy& policy);

std::string describe_verdict(const Verdict& v, const Policy& policy) {
    std::string text = describe_verdict_only(v, policy);
    if (v.trial_deny) {
        const auto& r = policy.rules[*v.trial_deny];
        text += "; " + (r.why.empty() ? std::string("a deny") : r.why.front().source) + " on trial logs it";
    }
    if (v.by == Verdict::By::default_deny && !v.monitored_device.empty())
        text += "; " + v.monitored_device + " is in monitor: logged and let through";
    return text;
}

static std::string describe_verdict_only(const Verdict& v, const Policy& policy) {
    switch (v.by) {
        case Verdict::By::deny_rule: {
            const auto& r = policy.rules[v.rule];
            return r.why.empty() ? "explicit deny" : r.why.front().source;
        }
        case Verdict::By::allow_rule:
            return fmt::format("rule {}{}", v.rule + 1, policy.rules[v.rule].trial() ? " (approval on trial, logged)" : "");
        case Verdict::By::pinhole: return "observed baseline";
        case Verdict::By::default_deny:
            return v.segment.empty() ? "default deny (outside the site)" : "default deny (segment " + v.segment + ")";
        case Verdict::By::not_new: return "not a new connection (an ICMP answer or error: invalid on its own)";
    }
    return "?";
}

static std::vector<RuleChange> diff_rules(const std::vector<ReadableRule>& now, const std::vector<ReadableRule>* before) {
    std::vector<RuleChange> out;
    std::map<std::string, const ReadableRule*> old;
    if (before)
        for (const auto& r : *before) old.emplace(r.key(), &r);
    for (const auto& r : now) {
        auto it = old.find(r.key());
        if (it == old.end()) {
            out.push_back({RuleChange::Kind::added, r, std::nullopt});
            continue;
        }
        if (!(*it->second == r)) out.push_back({RuleChange::Kind::changed, r, *it->second});
        old.erase(it);
    }
    if (before)
        for (const auto& r : *before)
            if (old.count(r.key())) out.push_back({RuleChange::Kind::removed, r, std::nullopt});
    return out;
}

template <typename T>
static void diff_by_key(const std::vector<T>& now, const std::vector<T>& before, std::vector<T>& added,
                        std::vector<T>& removed) {
    std::map<std::string, const T*> old;
    for (const auto& x : before) old.emplace(x.key(), &x);
    for (const auto& x : now)
        if (!old.erase(x.key())) added.push_back(x);
    for (const auto& x : before)
        if (old.count(x.key())) removed.push_back(x);
}

static std::vector<DeviceImpact> impact_of(const Policy& policy, const std::vector<ClassifiedEdge>& observed,
                                           const AddressBook& book) {
    std::vector<IpAddress> ends;
    for (const auto& c : observed) ends.insert(ends.end(), {c.observed.key.initiator, c.observed.key.responder});
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    const Evaluator eval = Evaluator::for_addresses(policy, ends);
    std::map<std::string, DeviceImpact> by_device;
    const Site& site = book.site();
    for (const auto& c : observed) {
        if (c.unrouted) continue;  // never forwarded: not the policy's business
        const auto& k = c.observed.key;
        if (policy.gateway && !policy.gateway->crosses(k.initiator, k.responder)) continue;  // another gateway's
        auto v = eval.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
        if (v.allowed) continue;
        auto clinical = [&](const Entity& e) {
            return e.kind == Entity::Kind::device && site.devices[e.index].clinical();
        };
        // The medical device is the one whose care a blocked flow could disturb.
        const Entity* owner = clinical(c.responder) && !clinical(c.initiator) ? &c.responder
                              : c.initiator.kind == Entity::Kind::device      ? &c.initiator
                              : c.responder.kind == Entity::Kind::device      ? &c.responder
                                                                              : nullptr;
        std::string name = owner ? site.devices[owner->index].name : "unmanaged hosts";
        auto [it, fresh] = by_device.try_emplace(name);
        DeviceImpact& d = it->second;
        if (fresh) {
            d.device = name;
            if (owner) {
                const Device& dev = site.devices[owner->index];
                d.role = dev.role;
                d.lifecycle = std::string(to_string(dev.lifecycle));
                d.clinical = dev.clinical();
            }
        }
        const std::string service = flow_service_text(k.protocol, k.responder_port, k.initiator.family);
        BlockedFlow f{book.name(c.initiator), book.name(c.responder), k.initiator.to_string(), k.responder.to_string(),
                      service, c.observed.stats.connections, c.observed.stats.established,
                      iso_time(c.observed.stats.last_seen), describe_verdict(v, policy), v.monitored && v.by == Verdict::By::default_deny, {}};
        for (const auto* a : c.expired) f.expired.push_back(a->id);
        f.applications = application_names(c.observed.stats.applications);
        d.flows.push_back(std::move(f));
    }
    std::vector<DeviceImpact> out;
    for (auto& [name, d] : by_device) out.push_back(std::move(d));
    auto rank = [](const DeviceImpact& d) {
        return (d.clinical ? 0 : 2) + (d.lifecycle == "end-of-support" ? 0 : 1);
    };
    std::stable_sort(out.begin(), out.end(), [&](const DeviceImpact& a, const DeviceImpact& b) { return rank(a) < rank(b); });
    return out;
}

Plan make_plan(const Policy& policy, const std::optional<PolicySnapshot>& before,
               const std::vector<ClassifiedEdge>& observed, const AddressBook& book, PolicySnapshot* keep_now) {
    Plan plan;
    plan.site = policy.site;
    plan.have_state = before.has_value();
    if (before) plan.state_saved_at = before->saved_at;
    auto now = readable_snapshot(policy);
    plan.rules = diff_rules(now.rules, before ? &before->rules : nullptr);
    static const std::vector<ReadablePinhole> none;
    diff_by_key(now.pinholes, before ? before->pinholes : none, plan.pinholes_added, plan.pinholes_removed);
    if (before && before->ir) {
        std::vector<IpAddress> named;
        for (const auto& d : book.site().devices) named.insert(named.end(), d.addresses.begin(), d.addresses.end());
        for (const auto& e : book.site().endpoints)
            for (const auto& pr : e.prefixes)
                if (pr.is_host()) named.push_back(pr.address);
        plan.verdicts =
            diff_verdicts(*before->ir, policy, named, [&](const IpAddress& a) { return book.name(book.resolve(a)); });
    }
    plan.impact = impact_of(policy, observed, book);
    plan.notes = policy.notes;
    plan.refused = policy.refused;
    plan.unrouted_flows = policy.unrouted_flows;
    plan.mode = now.modes["site"];
    for (const auto& [scope, mode] : now.modes) {
        if (scope.rfind("segment ", 0) == 0 && mode == "monitor") plan.monitored_segments.push_back(scope.substr(8));
        if (!before || before->modes.empty()) continue;  // nothing to compare, or a state file without modes
        auto it = before->modes.find(scope);
        // Only devices in monitor are recorded: one that was not, was enforced.
        std::string old = it == before->modes.end() ? (scope.rfind("device ", 0) == 0 ? "enforce" : "") : it->second;
        if (old != mode) plan.modes.push_back({scope, old, mode});
    }
    if (before && !before->modes.empty())
        for (const auto& entry : before->modes) {
            const std::string& scope = entry.first;
            if (scope.rfind("device ", 0) != 0 || now.modes.count(scope)) continue;
            // No longer in monitor on its own or by role: its segment or the site may still be.
            auto it = std::find_if(policy.monitored.begin(), policy.monitored.end(),
                                   [&](const MonitoredDevice& d) { return "device " + d.device == scope; });
            bool still = it != policy.monitored.end() || policy.mode == EnforcementMode::monitor;
            if (std::string after = still ? "monitor" : "enforce"; after != entry.second)
                plan.modes.push_back({scope, entry.second, after});
        }
    std::map<std::string, Plan::MonitorGroup> by_cause;
    for (const auto& d : policy.monitored) {
        if (d.cause.by_segment()) continue;  // monitored_segments says so
        auto& g = by_cause.try_emplace(d.cause.scope, Plan::MonitorGroup{d.cause.scope, d.cause.why, {}}).first->second;
        g.devices.push_back(d.device);
    }
    for (auto& [scope, g] : by_cause) plan.monitored_devices.push_back(std::move(g));
    for (const auto& r : policy.rules) {
        if (!r.trial()) continue;
        for (const auto& w : r.why)
            plan.trials.push_back({w.source, w.origin, std::string(r.trial_effect())});
    }
    std::sort(plan.trials.begin(), plan.trials.end(),
              [](const Plan::Trial& a, const Plan::Trial& b) { return std::tie(a.rule, a.origin) < std::tie(b.rule, b.origin); });
    plan.trials.erase(std::unique(plan.trials.begin(), plan.trials.end(),
                                  [](const Plan::Trial& a, const Plan::Trial& b) { return a.rule == b.rule && a.origin == b.origin; }),
                      plan.trials.end());
    plan.rule_count = policy.rules.size();
    plan.pinhole_count = policy.pinholes.size();
    plan.group_count = policy.groups.size();
    plan.element_count = policy_elements(policy);
    plan.gateway = policy.gateway;
    plan.observed_edges = policy.gateway ? static_cast<size_t>(std::count_if(observed.begin(), observed.end(), [&](const ClassifiedEdge& c) {
        return policy.gateway->crosses(c.observed.key.initiator, c.observed.key.responder);
    }))
                                         : observed.size();
    if (keep_now) *keep_now = std::move(now);
    return plan;
}

}  // namespace wardgate
