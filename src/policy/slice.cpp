#include "wardgate/policy/slice.hpp"

#include <algorithm>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

bool GatewayScope::holds(const IpAddress& a) const {
    return std::any_of(local.begin(), local.end(), [&](const Prefix& p) { return p.contains(a); });
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
    auto routed = [&](const AddressGroup& g) {
        return std::any_of(locals.begin(), locals.end(), [&](const std::vector<Prefix>& l) { return has_addresses_in(g, l); });
    };
    for (const auto& r : whole.rules) {
        const auto& src = whole.groups[r.src];
        const auto& dst = whole.groups[r.dst];
        if (routed(src) || routed(dst)) continue;
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

Policy slice_for_gateway(const Policy& whole, const Site& site, std::string_view name) {
    using namespace gateway_slice;
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
    std::vector<const Rule*> rules;
    for (const auto& r : whole.rules) {
        if (!here[r.src] && !here[r.dst]) continue;  // its traffic never passes this gateway
        rules.push_back(&r);
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
    std::vector<size_t> index(n, n);
    const SiteNames members(site);
    for (size_t i = 0; i < n; ++i) {
        if (!used[i]) continue;
        index[i] = out.groups.size();
        const auto& g = whole.groups[i];
        out.groups.push_back(keep_whole[i] || !g.dns.empty() ? g : narrowed(g, scope, members));
    }
    for (const Rule* r : rules) {
        Rule copy = *r;
        copy.src = index[r->src];
        copy.dst = index[r->dst];
        out.rules.push_back(std::move(copy));
    }
    add_unrouted_rule_notes(whole, site, out);
    for (const auto& p : whole.pinholes)
        if (scope.crosses(p.src, p.dst)) out.pinholes.push_back(p);
    for (const auto& r : whole.refused)
        if (scope.crosses(r.src, r.dst)) out.refused.push_back(r);
    out.gateway = std::move(scope);
    return out;
}

}  // namespace wardgate
