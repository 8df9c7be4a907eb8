#include "wardgate/policy/slice.hpp"

#include <algorithm>

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

// Sorted and disjoint, as collapse_prefixes leaves them.
static bool collapsed(const std::vector<Prefix>& prefixes) {
    for (size_t i = 1; i < prefixes.size(); ++i)
        if (!(prefixes[i - 1].last() < prefixes[i].address)) return false;
    return true;
}

// Walks two collapsed lists together, calling `overlap` with each part they share (in order);
// stops early when it returns false. Prefixes nest or are disjoint, so the part two prefixes
// share is the smaller one.
template <typename Overlap>
static void each_overlap(const std::vector<Prefix>& a, const std::vector<Prefix>& b, Overlap overlap) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (b[j].contains(a[i])) {
            if (!overlap(a[i])) return;
            ++i;
        } else if (a[i].contains(b[j])) {
            if (!overlap(b[j])) return;
            ++j;
        } else if (a[i].address < b[j].address) {
            ++i;
        } else {
            ++j;
        }
    }
}

// The part of `prefixes` inside `local`, collapsed.
std::vector<Prefix> inside(const std::vector<Prefix>& prefixes, const std::vector<Prefix>& local) {
    if (!collapsed(prefixes) || !collapsed(local)) return inside(collapse_prefixes(prefixes), collapse_prefixes(local));
    std::vector<Prefix> out;
    each_overlap(prefixes, local, [&](const Prefix& p) {
        out.push_back(p);
        return true;
    });
    return collapse_prefixes(std::move(out));
}

static bool overlap_any(const std::vector<Prefix>& prefixes, const std::vector<Prefix>& local) {
    if (!collapsed(prefixes) || !collapsed(local)) return overlap_any(collapse_prefixes(prefixes), collapse_prefixes(local));
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

// The group has an address among `local`: traffic from or to it can pass that gateway.
bool has_addresses_in(const AddressGroup& g, const std::vector<Prefix>& local) {
    return (g.any && !local.empty()) || overlap_any(g.prefixes, local);
}

// A group narrowed to the gateway's segments: its members, the devices and endpoints with an
// address there.
AddressGroup narrowed(const AddressGroup& g, const GatewayScope& scope, const SiteNames& site) {
    AddressGroup out = g;
    out.any = false;
    out.prefixes = g.any ? scope.local : inside(g.prefixes, scope.local);
    std::erase_if(out.members, [&](const std::string& m) {
        if (const Device* d = site.device(m))
            return std::none_of(d->addresses.begin(), d->addresses.end(), [&](const IpAddress& a) { return scope.holds(a); });
        if (const Endpoint* e = site.endpoint(m))
            return !overlap_any(e->prefixes, scope.local);
        return false;
    });
    return out;
}

// Rules whose groups have no address in any gateway's segments are in no slice: say so, or a
// declared or approved flow would silently be enforced nowhere.
void add_unrouted_rule_notes(const Policy& whole, const Site& site, Policy& out) {
    std::vector<std::vector<Prefix>> locals;
    for (const auto& g : site.gateways) locals.push_back(routed_subnets(whole, g));
    // Per group, not per rule: a group of tens of thousands of hosts ends many rules.
    std::vector<int8_t> known(whole.groups.size(), -1);
    auto routed = [&](size_t group) {
        if (known[group] < 0)
            known[group] = std::any_of(locals.begin(), locals.end(),
                                       [&](const std::vector<Prefix>& l) { return has_addresses_in(whole.groups[group], l); });
        return known[group] == 1;
    };
    for (const auto& r : whole.rules) {
        const auto& src = whole.groups[r.src];
        const auto& dst = whole.groups[r.dst];
        if (routed(r.src) || routed(r.dst)) continue;
        std::string services;
        for (const auto& sv : r.services) services += (services.empty() ? "" : " ") + sv.to_string();
        out.notes.push_back({PolicyNote::Level::warning,
                             "rule " + rule_id(whole, r) + " (" + src.label + " -> " + dst.label + " " +
                                 (services.empty() ? std::string("all traffic") : services) +
                                 (r.why.empty() ? "" : ", " + r.why.front().source) +
                                 ") starts and ends outside every [[gateway]]'s segments: no gateway enforces it",
                             "gateway-unrouted", rule_id(whole, r)});
    }
}

}  // namespace gateway_slice

namespace {

// What the slice keeps of the whole policy is moved out of it when the caller is done with it.
template <typename Whole>
Policy slice(Whole&& whole, const Site& site, std::string_view name) {
    using namespace gateway_slice;
    constexpr bool movable = !std::is_lvalue_reference_v<Whole>;
    auto take = [](auto& item) -> std::remove_cvref_t<decltype(item)> {
        if constexpr (movable) return std::move(item);
        else return item;
    };
    const GatewayDecl* decl = &declared_gateway(site, name);
    GatewayScope scope;
    scope.name = decl->name;
    scope.segments = decl->segments;
    scope.trunk = decl->trunk;
    scope.local = routed_subnets(whole, *decl);
    scope.site_rules = whole.rules.size();
    scope.site_groups = whole.groups.size();
    scope.site_pinholes = whole.pinholes.size();
    scope.site_elements = policy_elements(whole);

    // Which groups have addresses behind this gateway, and which end of each rule must stay whole.
    const size_t n = whole.groups.size();
    std::vector<bool> here(n), used(n), keep_whole(n);
    for (size_t i = 0; i < n; ++i) here[i] = has_addresses_in(whole.groups[i], scope.local);
    std::vector<size_t> rules;
    for (size_t i = 0; i < whole.rules.size(); ++i) {
        const Rule& r = whole.rules[i];
        if (!here[r.src] && !here[r.dst]) continue;  // its traffic never passes this gateway
        rules.push_back(i);
        used[r.src] = used[r.dst] = true;
        // A flow this rule matches passes here when one end is here. If only the source group has
        // addresses here, the flows that pass are those from them: the source can be narrowed.
        if (here[r.src] && here[r.dst]) keep_whole[r.src] = keep_whole[r.dst] = true;
        if (!here[r.src]) keep_whole[r.src] = true;
        if (!here[r.dst]) keep_whole[r.dst] = true;
    }

    Policy out;
    out.site = whole.site;
    out.mode = whole.mode;
    out.log_drops = whole.log_drops;
    out.log_group = whole.log_group;
    out.dns = whole.dns;
    out.segments = whole.segments;
    out.monitored = whole.monitored;
    out.notes = whole.notes;
    out.unrouted_flows = whole.unrouted_flows;
    add_unrouted_rule_notes(whole, site, out);  // reads every group: before any is moved out
    std::vector<size_t> index(n, n);
    const SiteNames members(site);
    for (size_t i = 0; i < n; ++i) {
        if (!used[i]) continue;
        index[i] = out.groups.size();
        auto& g = whole.groups[i];
        if (keep_whole[i] || !g.dns.empty())
            out.groups.push_back(take(g));
        else
            out.groups.push_back(narrowed(g, scope, members));
    }
    for (size_t i : rules) {
        Rule copy = take(whole.rules[i]);
        copy.src = index[copy.src];
        copy.dst = index[copy.dst];
        out.rules.push_back(std::move(copy));
    }
    for (auto& p : whole.pinholes)
        if (scope.crosses(p.src, p.dst)) out.pinholes.push_back(take(p));
    for (auto& r : whole.refused)
        if (scope.crosses(r.src, r.dst)) out.refused.push_back(take(r));
    out.gateway = std::move(scope);
    return out;
}

}  // namespace

Policy slice_for_gateway(const Policy& whole, const Site& site, std::string_view name) { return slice(whole, site, name); }

Policy slice_for_gateway(Policy&& whole, const Site& site, std::string_view name) {
    return slice(std::move(whole), site, name);
}

}  // namespace wardgate
