// The VLAN plan: desired links from the site, compared with the kernel's links. Pure.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "wardgate/netlink/vlan.hpp"

namespace wardgate::netlink {

namespace {

template <typename SegmentT>
std::string gateway_cidr(const SegmentT& s, const IpAddress& gw) {
    for (const auto& p : s.subnets)
        if (p.family() == gw.family && p.contains(gw)) return gw.to_string() + "/" + std::to_string(p.length);
    return gw.to_string() + "/" + std::to_string(gw.bit_width());
}

const LiveLink* find_link(const std::vector<LiveLink>& live, const std::string& name) {
    auto it = std::find_if(live.begin(), live.end(), [&](const LiveLink& l) { return l.name == name; });
    return it == live.end() ? nullptr : &*it;
}

// Why an owned link cannot be kept as it is; empty when it can.
std::string mismatch(const VlanLink& want, const LiveLink& have, int trunk_ifindex) {
    if (have.kind != "vlan") return fmt::format("it is a {} link, not a VLAN", have.kind.empty() ? "plain" : have.kind);
    if (have.vlan_id != want.vlan_id) return fmt::format("it has VLAN id {}, the segment wants {}", have.vlan_id, want.vlan_id);
    if (have.parent_ifindex != trunk_ifindex)
        return fmt::format("it sits on ifindex {}, not on the trunk {} (ifindex {})", have.parent_ifindex, want.trunk,
                           trunk_ifindex);
    return {};
}

void plan_one(const VlanLink& want, const LiveLink* have, int trunk_ifindex, VlanPlan& plan) {
    if (!have) {
        plan.ops.push_back({VlanOp::Kind::create, want, 0, {}, "missing"});
        return;
    }
    if (!have->owned()) {
        plan.conflicts.push_back(fmt::format(
            "link {} exists but is not wardgate's (ifalias \"{}\", not \"{}\"): left alone, segment {} has no VLAN link",
            want.name, have->alias, want.owner_alias(), want.segment));
        return;
    }
    if (auto why = mismatch(want, *have, trunk_ifindex); !why.empty()) {
        plan.ops.push_back({VlanOp::Kind::recreate, want, have->ifindex, {}, why});
        return;
    }
    size_t before = plan.ops.size();
    if (have->alias != want.owner_alias())
        plan.ops.push_back({VlanOp::Kind::set_alias, want, have->ifindex, {}, "owned for segment " + have->alias.substr(kVlanOwnerPrefix.size())});
    std::set<std::string> has(have->addresses.begin(), have->addresses.end());
    std::set<std::string> wants(want.addresses.begin(), want.addresses.end());
    for (const auto& a : want.addresses)
        if (!has.count(a)) plan.ops.push_back({VlanOp::Kind::add_address, want, have->ifindex, a, "missing"});
    for (const auto& a : have->addresses)
        if (!wants.count(a)) plan.ops.push_back({VlanOp::Kind::remove_address, want, have->ifindex, a, "not a gateway address of the segment"});
    if (!have->up) plan.ops.push_back({VlanOp::Kind::set_up, want, have->ifindex, {}, "down"});
    if (plan.ops.size() == before) plan.unchanged.push_back(want.name);
}

}  // namespace

std::string_view to_string(VlanOp::Kind k) {
    switch (k) {
        case VlanOp::Kind::create: return "create";
        case VlanOp::Kind::remove: return "remove";
        case VlanOp::Kind::recreate: return "recreate";
        case VlanOp::Kind::add_address: return "add address";
        case VlanOp::Kind::remove_address: return "remove address";
        case VlanOp::Kind::set_alias: return "set owner";
        case VlanOp::Kind::set_up: return "set up";
    }
    return "?";
}

namespace vlan_detail {

// Site segments and a policy's segments alike: a name, a VLAN id, subnets, gateway addresses.
template <typename SegmentT, typename Routed>
std::vector<VlanLink> links_of(const std::vector<SegmentT>& segments, const std::string& trunk, const Routed& routed) {
    std::vector<VlanLink> out;
    std::map<std::string, std::string> names;  // link name -> segment
    for (const auto& s : segments) {
        if (!s.vlan || !routed(s.name)) continue;
        VlanLink l;
        l.name = trunk + "." + std::to_string(*s.vlan);
        l.segment = s.name;
        l.trunk = trunk;
        l.vlan_id = *s.vlan;
        if (*s.vlan == 0 || *s.vlan > 4094)
            throw std::invalid_argument(fmt::format("segment {}: VLAN id {} is outside 1-4094", s.name, *s.vlan));
        if (l.name.size() > kMaxInterfaceName)
            throw std::invalid_argument(fmt::format("segment {}: link name {} is longer than the kernel's {} bytes (use a shorter trunk name)",
                                                    s.name, l.name, kMaxInterfaceName));
        if (auto [it, fresh] = names.emplace(l.name, s.name); !fresh)
            throw std::invalid_argument(fmt::format("segments {} and {} both use VLAN {}", it->second, s.name, *s.vlan));
        for (const auto& gw : s.gateways) l.addresses.push_back(gateway_cidr(s, gw));
        std::sort(l.addresses.begin(), l.addresses.end());
        out.push_back(std::move(l));
    }
    return out;
}

}  // namespace vlan_detail

std::vector<VlanLink> desired_vlan_links(const Site& site, const std::string& trunk) {
    return desired_vlan_links(site, trunk, {});
}

std::vector<VlanLink> desired_vlan_links(const Site& site, const std::string& trunk, std::string_view gateway) {
    const GatewayDecl* routing = gateway.empty() ? nullptr : site.find_gateway(gateway);
    if (!gateway.empty() && !routing)
        throw std::invalid_argument(fmt::format("site.toml declares no gateway \"{}\"", gateway));
    return vlan_detail::links_of(site.segments, trunk, [&](const std::string& s) { return !routing || routing->routes(s); });
}

std::vector<VlanLink> desired_vlan_links(const Policy& policy, const std::string& trunk) {
    const auto& scope = policy.gateway;
    return vlan_detail::links_of(policy.segments, trunk, [&](const std::string& s) {
        return !scope || std::find(scope->segments.begin(), scope->segments.end(), s) != scope->segments.end();
    });
}

VlanPlan plan_vlan_links(const std::vector<VlanLink>& desired, const std::vector<LiveLink>& live, int trunk_ifindex) {
    VlanPlan plan;
    std::set<std::string> wanted;
    for (const auto& want : desired) {
        wanted.insert(want.name);
        plan_one(want, find_link(live, want.name), trunk_ifindex, plan);
    }
    // Owned links on this trunk that no segment wants any more. Links on another trunk
    // may belong to another wardgate configuration: they stay.
    auto trunk = std::find_if(live.begin(), live.end(), [&](const LiveLink& l) { return l.ifindex == trunk_ifindex; });
    std::string trunk_prefix = trunk != live.end() ? trunk->name + "." : std::string();
    for (const auto& have : live) {
        if (!have.owned() || wanted.count(have.name)) continue;
        bool on_trunk = have.parent_ifindex == trunk_ifindex || (!trunk_prefix.empty() && have.name.rfind(trunk_prefix, 0) == 0);
        if (!on_trunk) continue;
        VlanLink gone;
        gone.name = have.name;
        gone.segment = have.alias.substr(kVlanOwnerPrefix.size());
        gone.vlan_id = have.vlan_id;
        plan.ops.push_back({VlanOp::Kind::remove, gone, have.ifindex, {}, "no segment has this VLAN any more"});
    }
    return plan;
}

std::string print_vlan_plan(const VlanPlan& plan) {
    std::string out;
    for (const auto& op : plan.ops) {
        std::string what = op.link.name;
        if (op.kind == VlanOp::Kind::create || op.kind == VlanOp::Kind::recreate)
            what += fmt::format(" (segment {}, VLAN {} on {}{}{})", op.link.segment, op.link.vlan_id, op.link.trunk,
                                op.link.addresses.empty() ? "" : ", ", fmt::join(op.link.addresses, " "));
        if (!op.address.empty()) what += " " + op.address;
        out += fmt::format("{:<15} {}: {}\n", to_string(op.kind), what, op.reason);
    }
    for (const auto& n : plan.unchanged) out += fmt::format("{:<15} {}\n", "unchanged", n);
    for (const auto& c : plan.conflicts) out += fmt::format("{:<15} {}\n", "conflict", c);
    return out;
}

}  // namespace wardgate::netlink
