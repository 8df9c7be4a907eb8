#include "wardgate/policy/slice.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

// `local` is collapsed (sorted and disjoint): only the last prefix starting at or before `a` can hold it.
bool GatewayScope::holds(const IpAddress& a) const {
    auto after = std::upper_bound(local.begin(), local.end(), a, [](const IpAddress& x, const Prefix& p) { return x < p.address; });
    return after != local.begin() && std::prev(after)->contains(a);
}

size_t policy_elements(const Policy& policy) {
    size_t n = policy.pinholes.size();
    for (const auto& g : policy.groups) n += g.prefixes.size();
    for (const auto& m : policy.monitored) n += m.addresses.size();
    return n;
}

const GatewayDecl& declared_gateway(const Site& site, std::string_view name) {
    if (const GatewayDecl* g = site.find_gateway(name)) return *g;
    std::string known;
    for (const auto& g : site.gateways) known += (known.empty() ? "" : ", ") + g.name;
    throw InputError(Diagnostic{"command line", 0, 0, "--gateway",
                                site.gateways.empty()
                                    ? "site.toml declares no [[gateway]]: there is no \"" + std::string(name) + "\" to slice for"
                                    : "site.toml declares no gateway \"" + std::string(name) + "\" (it declares " + known + ")"});
}

namespace gateway_slice {

// Calls `overlap` with each part the collapsed lists `a` and `local` share, in order; stops
// early when it returns false. Prefixes nest or are disjoint, so the part two prefixes share is
// the smaller one. `local` is a gateway's few subnets and `a` may be a hundred thousand hosts:
// the prefixes of `a` that can meet each subnet are found by binary search, not by a walk.
template <typename Overlap>
static void each_overlap(const std::vector<Prefix>& a, const std::vector<Prefix>& local, Overlap overlap) {
    for (const Prefix& l : local) {
        // The last prefix of `a` starting at or before l (it may hold l), then those starting inside l.
        auto it = std::upper_bound(a.begin(), a.end(), l.address,
                                   [](const IpAddress& x, const Prefix& p) { return x < p.address; });
        if (it != a.begin() && std::prev(it)->contains(l.address)) {
            if (std::prev(it)->length <= l.length) {  // it holds l
                if (!overlap(l)) return;
                continue;
            }
            --it;  // it starts where l does, inside l
        }
        for (; it != a.end() && l.contains(it->address); ++it)
            if (!overlap(*it)) return;
    }
}

// The part of `prefixes` inside `local` (both collapsed), collapsed.
static std::vector<Prefix> inside(const std::vector<Prefix>& prefixes, const std::vector<Prefix>& local) {
    std::vector<Prefix> out;
    each_overlap(prefixes, local, [&](const Prefix& p) {
        out.push_back(p);
        return true;
    });
    return collapse_prefixes(std::move(out));
}

// Whether collapsed `prefixes` and `local` share an address.
static bool overlap_any(const std::vector<Prefix>& prefixes, const std::vector<Prefix>& local) {
    bool any = false;
    each_overlap(prefixes, local, [&](const Prefix&) {
        any = true;
        return false;
    });
    return any;
}

// The subnets of the segments `gateway` routes, collapsed.
std::vector<Prefix> routed_subnets(const Policy& whole, const GatewayDecl& gateway) {
    std::vector<Prefix> local;
    for (const auto& s : whole.segments)
        if (gateway.routes(s.name)) local.insert(local.end(), s.subnets.begin(), s.subnets.end());
    return collapse_prefixes(std::move(local));
}

// Every group's prefixes sorted and disjoint, checked once for all the gateways: compile leaves
// them so, and a group that is not (read from elsewhere) is collapsed here, once.
class GroupPrefixes {
public:
    explicit GroupPrefixes(const Policy& whole) {
        of_.reserve(whole.groups.size());
        for (const auto& g : whole.groups) {
            if (is_collapsed(g.prefixes)) {
                of_.push_back(&g.prefixes);
            } else {
                copies_.push_back(std::make_unique<std::vector<Prefix>>(collapse_prefixes(g.prefixes)));
                of_.push_back(copies_.back().get());
            }
        }
    }
    const std::vector<Prefix>& operator[](size_t group) const { return *of_[group]; }

private:
    std::vector<const std::vector<Prefix>*> of_;
    std::vector<std::unique_ptr<std::vector<Prefix>>> copies_;
};

// The group has an address among `local` (collapsed): traffic from or to it can pass that
// gateway. `prefixes` are the group's, collapsed.
bool has_addresses_in(const AddressGroup& g, const std::vector<Prefix>& prefixes, const std::vector<Prefix>& local) {
    return (g.any && !local.empty()) || overlap_any(prefixes, local);
}

// What a group's members name, looked up once for every gateway that narrows the group.
struct Member {
    const Device* device = nullptr;
    const Endpoint* endpoint = nullptr;
};
std::vector<Member> resolved(const AddressGroup& g, const SiteNames& site) {
    std::vector<Member> out;
    out.reserve(g.members.size());
    for (const auto& m : g.members) {
        const Device* d = site.device(m);
        out.push_back({d, d ? nullptr : site.endpoint(m)});
    }
    return out;
}

// A group narrowed to the gateway's segments: its members, the devices and endpoints with an
// address there. `prefixes` are its prefixes collapsed, `members` is resolved(g).
AddressGroup narrowed(const AddressGroup& g, const std::vector<Prefix>& prefixes, const std::vector<Member>& members,
                      const GatewayScope& scope) {
    AddressGroup out{g.kind, g.name, g.label, {}, g.any ? scope.local : inside(prefixes, scope.local), false, g.dns, g.fixed};
    out.members.reserve(g.members.size());
    for (size_t i = 0; i < g.members.size(); ++i) {
        const Member& m = members[i];
        const bool here = m.device ? std::any_of(m.device->addresses.begin(), m.device->addresses.end(),
                                                 [&](const IpAddress& a) { return scope.holds(a); })
                        : m.endpoint ? overlap_any(is_collapsed(m.endpoint->prefixes) ? m.endpoint->prefixes
                                                                                   : collapse_prefixes(m.endpoint->prefixes),
                                                   scope.local)
                                     : true;
        if (here) out.members.push_back(g.members[i]);
    }
    return out;
}

// Rules whose groups have no address in any gateway's segments are in no slice: say so, or a
// declared or approved flow would silently be enforced nowhere.
std::vector<PolicyNote> unrouted_rule_notes(const Policy& whole, const GroupPrefixes& prefixes, const Site& site) {
    std::vector<PolicyNote> out;
    std::vector<std::vector<Prefix>> locals;
    for (const auto& g : site.gateways) locals.push_back(routed_subnets(whole, g));
    // Per group, not per rule: a group of tens of thousands of hosts ends many rules.
    std::vector<int8_t> known(whole.groups.size(), -1);
    auto routed = [&](size_t group) {
        if (known[group] < 0)
            known[group] = std::any_of(locals.begin(), locals.end(),
                                       [&](const std::vector<Prefix>& l) { return has_addresses_in(whole.groups[group], prefixes[group], l); });
        return known[group] == 1;
    };
    for (const auto& r : whole.rules) {
        const auto& src = whole.groups[r.src];
        const auto& dst = whole.groups[r.dst];
        if (routed(r.src) || routed(r.dst)) continue;
        std::string services;
        for (const auto& sv : r.services) services += (services.empty() ? "" : " ") + sv.to_string();
        out.push_back({PolicyNote::Level::warning,
                       "rule " + rule_id(whole, r) + " (" + src.label + " -> " + dst.label + " " +
                           (services.empty() ? std::string("all traffic") : services) +
                           (r.why.empty() ? "" : ", " + r.why.front().source) +
                           ") starts and ends outside every [[gateway]]'s segments: no gateway enforces it",
                       "gateway-unrouted", rule_id(whole, r)});
    }
    return out;
}

}  // namespace gateway_slice

namespace {

// Which rules and groups one gateway's slice keeps, and which groups it narrows.
struct Cut {
    GatewayScope scope;
    std::vector<size_t> rules;
    std::vector<bool> used, keep_whole;
    bool narrows(size_t group, const Policy& whole) const {
        return used[group] && !keep_whole[group] && whole.groups[group].dns.empty();
    }
};

Cut cut_for(const Policy& whole, const gateway_slice::GroupPrefixes& prefixes, const GatewayDecl& decl) {
    using namespace gateway_slice;
    Cut c;
    c.scope.name = decl.name;
    c.scope.segments = decl.segments;
    c.scope.trunk = decl.trunk;
    c.scope.local = routed_subnets(whole, decl);
    c.scope.site_rules = whole.rules.size();
    c.scope.site_groups = whole.groups.size();
    c.scope.site_pinholes = whole.pinholes.size();
    c.scope.site_elements = policy_elements(whole);

    // Which groups have addresses behind this gateway, and which end of each rule must stay whole.
    const size_t n = whole.groups.size();
    std::vector<bool> here(n);
    c.used.assign(n, false);
    c.keep_whole.assign(n, false);
    for (size_t i = 0; i < n; ++i) here[i] = has_addresses_in(whole.groups[i], prefixes[i], c.scope.local);
    for (size_t i = 0; i < whole.rules.size(); ++i) {
        const Rule& r = whole.rules[i];
        if (!here[r.src] && !here[r.dst]) continue;  // its traffic never passes this gateway
        c.rules.push_back(i);
        c.used[r.src] = c.used[r.dst] = true;
        // A flow this rule matches passes here when one end is here. If only the source group has
        // addresses here, the flows that pass are those from them: the source can be narrowed.
        if (here[r.src] && here[r.dst]) c.keep_whole[r.src] = c.keep_whole[r.dst] = true;
        if (!here[r.src]) c.keep_whole[r.src] = true;
        if (!here[r.dst]) c.keep_whole[r.dst] = true;
    }
    return c;
}

// The slice `c` cuts: what it keeps of the whole policy is moved out of it when the caller is
// done with it. `members[i]` is resolved(group i) for every group the cut narrows; `unrouted`
// the notes unrouted_rule_notes gives (the same for every gateway).
template <typename Whole>
Policy assemble(Whole&& whole, Cut c, const gateway_slice::GroupPrefixes& prefixes,
                const std::vector<std::vector<gateway_slice::Member>>& members, const std::vector<PolicyNote>& unrouted) {
    using namespace gateway_slice;
    constexpr bool movable = !std::is_lvalue_reference_v<Whole>;
    auto take = [](auto& item) -> std::remove_cvref_t<decltype(item)> {
        if constexpr (movable) return std::move(item);
        else return item;
    };
    Policy out;
    out.site = whole.site;
    out.mode = whole.mode;
    out.log_drops = whole.log_drops;
    out.log_group = whole.log_group;
    out.dns = whole.dns;
    out.segments = whole.segments;
    out.monitored = whole.monitored;
    out.notes = whole.notes;
    out.notes.insert(out.notes.end(), unrouted.begin(), unrouted.end());
    out.unrouted_flows = whole.unrouted_flows;
    const size_t n = whole.groups.size();
    std::vector<size_t> index(n, n);
    for (size_t i = 0; i < n; ++i) {
        if (!c.used[i]) continue;
        index[i] = out.groups.size();
        auto& g = whole.groups[i];
        if (c.narrows(i, whole))
            out.groups.push_back(narrowed(g, prefixes[i], members[i], c.scope));
        else
            out.groups.push_back(take(g));
    }
    for (size_t i : c.rules) {
        Rule copy = take(whole.rules[i]);
        copy.src = index[copy.src];
        copy.dst = index[copy.dst];
        out.rules.push_back(std::move(copy));
    }
    for (auto& p : whole.pinholes)
        if (c.scope.crosses(p.src, p.dst)) out.pinholes.push_back(take(p));
    for (auto& r : whole.refused)
        if (c.scope.crosses(r.src, r.dst)) out.refused.push_back(take(r));
    out.gateway = std::move(c.scope);
    return out;
}

// The members of every group one of `cuts` narrows, resolved once.
std::vector<std::vector<gateway_slice::Member>> resolved_members(const Policy& whole, const Site& site,
                                                                 const std::vector<const Cut*>& cuts) {
    std::vector<std::vector<gateway_slice::Member>> out(whole.groups.size());
    std::optional<SiteNames> names;
    for (size_t i = 0; i < whole.groups.size(); ++i) {
        if (std::none_of(cuts.begin(), cuts.end(), [&](const Cut* c) { return c->narrows(i, whole); })) continue;
        if (!names) names.emplace(site);
        out[i] = gateway_slice::resolved(whole.groups[i], *names);
    }
    return out;
}

template <typename Whole>
Policy slice(Whole&& whole, const Site& site, std::string_view name) {
    const gateway_slice::GroupPrefixes prefixes(whole);
    Cut c = cut_for(whole, prefixes, declared_gateway(site, name));
    const auto members = resolved_members(whole, site, {&c});
    const auto unrouted = gateway_slice::unrouted_rule_notes(whole, prefixes, site);  // reads every group: before any is moved out
    return assemble(std::forward<Whole>(whole), std::move(c), prefixes, members, unrouted);
}

}  // namespace

std::vector<Policy> slices_for_gateways(const Policy& whole, const Site& site) {
    const gateway_slice::GroupPrefixes prefixes(whole);
    std::vector<Cut> cuts;
    for (const auto& g : site.gateways) cuts.push_back(cut_for(whole, prefixes, g));
    std::vector<const Cut*> all;
    for (const auto& c : cuts) all.push_back(&c);
    const auto members = resolved_members(whole, site, all);
    const auto unrouted = gateway_slice::unrouted_rule_notes(whole, prefixes, site);
    // Each slice copies what it keeps of the whole (most of a large site for each).
    std::vector<Policy> out(cuts.size());
    for (size_t i = 0; i < cuts.size(); ++i) out[i] = assemble(whole, std::move(cuts[i]), prefixes, members, unrouted);
    return out;
}

Policy slice_for_gateway(const Policy& whole, const Site& site, std::string_view name) { return slice(whole, site, name); }

Policy slice_for_gateway(Policy&& whole, const Site& site, std::string_view name) {
    return slice(std::move(whole), site, name);
}

}  // namespace wardgate
