#include "nac_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace wardgate::nac_detail {

using export_detail::ExportRule;
using export_detail::Model;
using export_detail::RuleKind;
using export_detail::Side;

std::string nac_comment_text(std::string_view text) {
    std::string out(text);
    std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return out;
}

std::vector<NacEntry> nac_entries(const Site& site, std::vector<std::string>& warnings) {
    std::vector<const Device*> devices;
    for (const auto& d : site.devices) devices.push_back(&d);
    std::sort(devices.begin(), devices.end(), [](const Device* a, const Device* b) { return a->name < b->name; });
    std::vector<NacEntry> out;
    for (const Device* d : devices) {
        if (d->mac.empty()) {
            warnings.push_back("device \"" + d->name + "\" has no MAC: no entry, it is treated as an unknown device");
            continue;
        }
        if (auto vlan = site.stance(d->lifecycle).vlan) {
            out.push_back({d, *vlan, "stance " + std::string(to_string(d->lifecycle))});
            continue;
        }
        const Segment* seg = site.find_segment(d->segment);
        if (!seg || !seg->vlan) {
            warnings.push_back("device \"" + d->name + "\": segment \"" + d->segment +
                               "\" has no VLAN: no entry, it is treated as an unknown device");
            continue;
        }
        out.push_back({d, *seg->vlan, "segment " + seg->name});
    }
    return out;
}

std::string nac_mac_upper_colons(std::string_view mac) {
    std::string out;
    for (char c : mac) out += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    return out;
}

size_t PortAcl::line_count() const {
    size_t n = 0;
    for (const auto& s : sections) n += s.block.lines.size();
    return n;
}

namespace {

constexpr size_t kPortAclRemarkMax = 100;

// A peer holding at least half the family's addresses is the outside world (the internet
// endpoint: everything but the site's own networks, dozens of prefixes): written `any`. The
// port list is the coarse filter; the gateway keeps the site's networks out.
std::vector<std::string> port_acl_peers(const Side& s, Family f) {
    if (s.any()) return {"any"};
    std::vector<std::string> out;
    double share = 0;
    for (const auto& p : s.prefixes(f)) {
        out.push_back(export_detail::cisco_address(p));
        share += std::ldexp(1.0, -static_cast<int>(p.length));
    }
    if (share >= 0.5) return {"any"};
    return out;
}

// Which of the role's addresses a rule's side holds: none, all of them (the source is then
// `any`), or some (each named).
struct PortAclHeld {
    bool all = false;
    std::vector<IpAddress> hosts;
    bool none() const { return !all && hosts.empty(); }
    // The source specs: `any`, or the held addresses as the fewest prefixes covering exactly them.
    std::vector<std::string> sources() const {
        if (all) return {"any"};
        std::vector<Prefix> prefixes;
        for (const auto& a : hosts) prefixes.push_back(Prefix::host(a));
        std::vector<std::string> out;
        for (const auto& p : collapse_prefixes(prefixes)) out.push_back(export_detail::cisco_address(p));
        return out;
    }
};

PortAclHeld port_acl_held(const Side& s, const std::vector<IpAddress>& addresses) {
    PortAclHeld h;
    for (const auto& a : addresses) {
        bool in = s.group ? (s.group->any || s.group->contains(a)) : s.host == a;
        if (in) h.hosts.push_back(a);
    }
    if (!addresses.empty() && h.hosts.size() == addresses.size()) {
        h.all = true;
        h.hosts.clear();
    }
    return h;
}

struct PortAclAtom {
    std::string protocol;
    Protocol proto = Protocol::tcp;
    bool whole = false;  // every protocol
    std::optional<PortRange> ports;
    std::optional<export_detail::IcmpMatch> icmp;
};

class PortAclBuilder {
public:
    PortAclBuilder(const Model& m, std::vector<std::string>& warnings) : m_(m), warnings_(warnings) {}

    PortAcl build(Family f, const std::vector<IpAddress>& addresses, bool monitor) {
        PortAcl acl;
        acl.family = f;
        seen_.clear();
        const std::string ip = f == Family::v4 ? "ip" : "ipv6";
        if (!addresses.empty()) {
            for (const auto& r : m_.rules)
                if (r.kind == RuleKind::deny && export_detail::has_family(r, f)) denies(acl, r, f, addresses);
            for (const auto& r : m_.rules)
                if (r.kind != RuleKind::deny && export_detail::has_family(r, f)) permits(acl, r, f, addresses);
            for (const auto& r : m_.rules)
                if (r.kind != RuleKind::deny && export_detail::has_family(r, f)) replies(acl, r, f, addresses);
        }
        PortAclBlock port;
        if (f == Family::v4) {
            port.remark = "every port: DHCP (the device asks for its address)";
            port.lines.push_back(line(true, "udp", "any", "eq bootpc", "any", "eq bootps"));
        } else {
            port.remark = "every port: neighbour discovery and DHCPv6 (an explicit final deny removes the implicit ND permits)";
            for (const char* m : {"nd-ns", "nd-na", "router-solicitation"})
                port.lines.push_back(line(true, "icmp", "any", "", "any", m));
            port.lines.push_back(line(true, "udp", "any", "eq 546", "any", "eq 547"));
        }
        add(acl, PortAclPart::port, std::move(port));
        PortAclBlock last;
        PortAclLine end = line(monitor, ip, "any", "", "any", "");
        end.log = m_.policy.log_drops;
        last.remark = monitor ? "monitor: a device of the role is in monitor, so the port lets the rest through (logged)"
                              : "everything else: the role's devices send nothing more";
        last.lines.push_back(end);
        add(acl, PortAclPart::final_deny, std::move(last));
        return acl;
    }

private:
    static PortAclLine line(bool permit, std::string protocol, std::string src, std::string src_ports, std::string dst,
                            std::string dst_ports) {
        PortAclLine l;
        l.permit = permit;
        l.protocol = std::move(protocol);
        l.src = std::move(src);
        l.src_ports = std::move(src_ports);
        l.dst = std::move(dst);
        l.dst_ports = std::move(dst_ports);
        return l;
    }

    std::vector<PortAclAtom> atoms(const ExportRule& r, Family f) {
        std::vector<PortAclAtom> out;
        if (r.services.empty()) {
            out.push_back({f == Family::v4 ? "ip" : "ipv6", Protocol::tcp, true, std::nullopt, std::nullopt});
            return out;
        }
        for (const auto& a : export_detail::line_atoms(r.services, f)) {
            PortAclAtom atom{export_detail::cisco_protocol(a.protocol, f), a.protocol, false, a.ports, a.icmp};
            if (atom.ports && a.protocol != Protocol::tcp && a.protocol != Protocol::udp) {
                // IOS access lists match ports of TCP and UDP only.
                widened_.insert(fmt::format("{} {}", to_string(a.protocol), r.name));
                atom.ports.reset();
            }
            out.push_back(atom);
        }
        return out;
    }

    std::string remark(std::string_view prefix, const ExportRule& r) const {
        std::string text = std::string(prefix) + r.name;
        if (!r.reasons.empty()) text += ": " + r.reasons.front().text;
        return export_detail::one_line(text, kPortAclRemarkMax);
    }

    // A line already in the list says the same: each line once, at its first place.
    void add(PortAcl& acl, PortAclPart part, PortAclBlock block) {
        std::vector<PortAclLine> kept;
        for (auto& l : block.lines)
            if (seen_.insert(l.text()).second) kept.push_back(std::move(l));
        if (kept.empty()) return;
        block.lines = std::move(kept);
        acl.sections.push_back({part, std::move(block)});
    }

    void denies(PortAcl& acl, const ExportRule& r, Family f, const std::vector<IpAddress>& addresses) {
        PortAclBlock b;
        b.remark = remark("", r);
        auto from = port_acl_held(r.src, addresses);
        for (const auto& src : from.sources())
            for (const auto& dst : port_acl_peers(r.dst, f))
                for (const auto& a : atoms(r, f)) {
                    std::string ports = a.ports ? export_detail::cisco_ports(*a.ports) : a.icmp ? export_detail::cisco_icmp(*a.icmp) : "";
                    PortAclLine l = line(false, a.protocol, src, "", dst, ports);
                    l.log = r.log;
                    b.lines.push_back(l);
                }
        // Towards the devices: their answers from the denied port go nowhere either.
        auto to = port_acl_held(r.dst, addresses);
        for (const auto& src : to.sources())
            for (const auto& peer : port_acl_peers(r.src, f))
                for (const auto& a : atoms(r, f)) {
                    if (!a.ports || (a.proto != Protocol::tcp && a.proto != Protocol::udp)) continue;
                    PortAclLine l = line(false, a.protocol, src, export_detail::cisco_ports(*a.ports), peer, "");
                    l.log = r.log;
                    b.lines.push_back(l);
                }
        add(acl, PortAclPart::deny, std::move(b));
    }

    void permits(PortAcl& acl, const ExportRule& r, Family f, const std::vector<IpAddress>& addresses) {
        auto from = port_acl_held(r.src, addresses);
        if (from.none()) return;
        PortAclBlock b;
        b.remark = remark("", r);
        for (const auto& src : from.sources())
            for (const auto& dst : port_acl_peers(r.dst, f))
                for (const auto& a : atoms(r, f)) {
                    std::string ports = a.ports ? export_detail::cisco_ports(*a.ports) : a.icmp ? export_detail::cisco_icmp(*a.icmp) : "";
                    b.lines.push_back(line(true, a.protocol, src, "", dst, ports));
                }
        add(acl, PortAclPart::permit, std::move(b));
    }

    void replies(PortAcl& acl, const ExportRule& r, Family f, const std::vector<IpAddress>& addresses) {
        auto to = port_acl_held(r.dst, addresses);
        if (to.none()) return;
        PortAclBlock b;
        b.remark = remark("replies: ", r);
        for (const auto& src : to.sources())
            for (const auto& peer : port_acl_peers(r.src, f))
                for (const auto& a : atoms(r, f)) {
                    if (a.whole) {
                        b.lines.push_back(line(true, a.protocol, src, "", peer, ""));  // every protocol goes back
                    } else if (auto l = export_detail::cisco_reply(a.proto, a.ports, a.icmp, f, src, peer)) {
                        b.lines.push_back(*l);
                    }
                }
        add(acl, PortAclPart::reply, std::move(b));
    }

public:
    void report() {
        for (const auto& w : widened_)
            warnings_.push_back("port access list: " + w + " names ports of a protocol IOS access lists match only "
                                "as a whole: the port entry allows the whole protocol between the same addresses");
    }

private:
    const Model& m_;
    std::vector<std::string>& warnings_;
    std::set<std::string> seen_;
    std::set<std::string> widened_;
};

}  // namespace

std::vector<RoleAcl> port_acls(const Model& m, const std::vector<NacEntry>& entries, std::vector<std::string>& warnings) {
    std::map<std::string, RoleAcl> by_role;
    for (const auto& e : entries) {
        RoleAcl& r = by_role[e.device->role];
        r.role = e.device->role;
        r.devices.push_back(e.device);
    }
    std::set<std::string> monitored;
    for (const auto& d : m.policy.monitored) monitored.insert(d.device);
    PortAclBuilder builder(m, warnings);
    std::vector<RoleAcl> out;
    for (auto& entry : by_role) {
        RoleAcl& r = entry.second;
        std::set<IpAddress> v4, v6;
        for (const Device* d : r.devices) {
            r.monitor = r.monitor || monitored.count(d->name) > 0;
            for (const auto& a : d->addresses) (a.family == Family::v4 ? v4 : v6).insert(a);
        }
        r.v4 = builder.build(Family::v4, {v4.begin(), v4.end()}, r.monitor);
        r.v6 = builder.build(Family::v6, {v6.begin(), v6.end()}, r.monitor);
        out.push_back(std::move(r));
    }
    builder.report();
    return out;
}

}  // namespace wardgate::nac_detail
