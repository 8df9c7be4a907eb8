// Cisco IOS / IOS-XE, in two shapes that share their lists:
// - ios, a router: each segment's VLAN a dot1Q subinterface of a trunk. Permits reflect into
//   a reflexive list that every inbound list evaluates first, so replies of permitted
//   connections come back.
// - ios-switch, a Catalyst layer-3 switch: a VLAN and SVI per segment. Catalyst switches have
//   no reflexive lists, so each inbound list starts with explicit reply entries for the rules
//   that reach its segment: TCP by source port and `established`, UDP by source port, ICMP by
//   the reply message, other protocols as a whole.
// Both write, per interface, one named extended IPv4 list and one IPv6 list, applied inbound,
// with one explicit entry per address pair and port range. Other IP protocols go by keyword
// or number, ICMP messages by type and code; SCTP ports are beyond these lists (the export
// refuses them).
#include <fmt/format.h>

#include <set>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr size_t kIosRemarkMax = 100;
constexpr size_t kIosVlanNameMax = 32;

enum class IosShape { router, layer3_switch };

struct IosDefaults {
    const char* target;
    InterfaceDefaults interfaces;  // a segment without a VLAN: a routed port of its own
};

IosDefaults defaults_of(IosShape shape) {
    if (shape == IosShape::router)
        return {"ios", {"GigabitEthernet0/0", "GigabitEthernet0/1", "", "GigabitEthernet0/", 2, ""}};
    return {"ios-switch", {"GigabitEthernet1/0/1", "", "Vlan", "GigabitEthernet1/0/", 2, ""}};
}

class IosView {
public:
    IosView(const Model& m, IosShape shape)
        : m_(m), shape_(shape), defaults_(defaults_of(shape)), acl_names_({64, "-_", {"any", "host", "log"}, {}, false, "wg-"}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, defaults_.target);
        v.set("outside_interface", m_.interface("outside", defaults_.interfaces.outside));
        v.set("reflect4", std::string("wg-return"));
        v.set("reflect6", std::string("wg-return6"));
        if (shape_ == IosShape::router) v.set("trunk_interface", m_.interface("trunk", defaults_.interfaces.trunk));
        v.set("vlans", vlans());
        v.set("interfaces", interfaces());
        v.set("acls4", acls(Family::v4));
        v.set("acls6", acls(Family::v6));
        ExportResult r = render_config(m_, dir, v, defaults_.target, "cfg");
        for (const auto& rule : every_protocol_back_)
            warnings_.push_back("ios-switch: rule " + rule + " allows every protocol: its stateless reply entries let "
                                "back TCP of established connections and all UDP and ICMP; other protocols' replies "
                                "are not let back");
        finish(r, m_, defaults_.target, std::move(warnings_));
        return r;
    }

private:
    bool switched() const { return shape_ == IosShape::layer3_switch; }

    std::string acl_name(size_t zone, Family f) {
        const std::string& z = m_.zones[zone].name;
        return acl_names_("acl:" + z + (f == Family::v4 ? ":4" : ":6"), "wg-" + z + (f == Family::v4 ? "-in" : "-in6"));
    }

    // The switch's VLAN database: a VLAN per segment that has one.
    View vlans() const {
        View list = make_list();
        if (!switched()) return list;
        for (const auto& z : m_.zones) {
            if (!z.segment || !z.segment->vlan) continue;
            View item = make_object();
            item.set("vlan", std::to_string(*z.segment->vlan));
            item.set("name", z.name.substr(0, kIosVlanNameMax));
            list.push_back(item);
        }
        return list;
    }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            std::string name = m_.zone_interface(i, defaults_.interfaces);
            View item = make_object();
            item.set("name", name);
            set_zone_interface(item, z);
            // On the switch a VLAN's interface is its SVI; every other one is a routed port.
            item.set("routed_port", !z.segment || !z.segment->vlan);
            item.set("acl4", acl_name(i, Family::v4));
            item.set("acl6", acl_name(i, Family::v6));
            if (z.segment) warn_interface(*z.segment, defaults_.target, name, warnings_);
            list.push_back(item);
        }
        return list;
    }

    static std::vector<std::string> specs(const Side& s, Family f) {
        if (s.any()) return {"any"};
        std::vector<std::string> out;
        for (const auto& p : s.prefixes(f)) out.push_back(cisco_address(p));
        return out;
    }

    View rule_entry(const ExportRule& r, Family f) {
        std::string action = r.accept ? "permit" : "deny";
        std::vector<std::pair<std::string, std::string>> protocols;  // protocol, port or ICMP spec
        if (r.services.empty()) protocols.push_back({f == Family::v4 ? "ip" : "ipv6", ""});
        for (const auto& a : line_atoms(r.services, f))
            protocols.push_back({cisco_protocol(a.protocol, f), a.ports ? cisco_ports(*a.ports) : a.icmp ? cisco_icmp(*a.icmp) : ""});
        View lines = make_list();
        for (const auto& src : specs(r.src, f))
            for (const auto& dst : specs(r.dst, f))
                for (const auto& [protocol, ports] : protocols) {
                    View l = cisco_line(action, protocol, src, dst, ports, r.log);
                    l.set("reflect", r.accept && !switched());
                    lines.push_back(l);
                }
        return cisco_entry(r, lines, kIosRemarkMax);
    }

    // What the rule's destinations send back to its sources, as stateless entries.
    std::vector<CiscoAclLine> reply_lines(const ExportRule& r, Family f) {
        std::vector<LineAtom> atoms = line_atoms(r.services, f);
        if (r.services.empty()) {
            every_protocol_back_.insert(r.name);
            atoms = {{Protocol::tcp, {}, {}}, {Protocol::udp, {}, {}}, {Protocol::icmp, {}, {}}};
        }
        std::vector<CiscoAclLine> out;
        for (const auto& a : atoms)
            for (const auto& src : specs(r.dst, f))
                for (const auto& dst : specs(r.src, f))
                    if (auto l = cisco_reply(a.protocol, a.ports, a.icmp, f, src, dst)) out.push_back(*l);
        return out;
    }

    // The replies every zone's list lets back first: of the accepting rules whose traffic
    // enters the segment's hosts, each line once.
    View replies(size_t z, Family f) {
        View list = make_list();
        if (!switched()) return list;
        std::set<std::string> seen;
        for (const auto& r : m_.rules) {
            bool here = std::binary_search(r.dst_zones.begin(), r.dst_zones.end(), z);
            if (!here || !r.accept || std::find(r.families.begin(), r.families.end(), f) == r.families.end()) continue;
            for (const auto& l : reply_lines(r, f)) {
                std::string text = l.text();
                if (!seen.insert(text).second) continue;
                View item = make_object();
                item.set("text", text);
                list.push_back(item);
            }
        }
        return list;
    }

    View acls(Family f) {
        View list = make_list();
        for (size_t z = 0; z < m_.zones.size(); ++z) {
            View entries = make_list();
            for (const auto& r : m_.rules) {
                bool here = std::binary_search(r.src_zones.begin(), r.src_zones.end(), z);
                bool family = std::find(r.families.begin(), r.families.end(), f) != r.families.end();
                if (here && family) entries.push_back(rule_entry(r, f));
            }
            const Zone& zone = m_.zones[z];
            View acl = make_object();
            acl.set("name", acl_name(z, f));
            acl.set("replies", replies(z, f));
            acl.set("entries", entries);
            acl.set("default_remark", one_line(default_deny_text(m_, zone), kIosRemarkMax));
            acl.set("default_action", std::string(zone.monitor ? "permit" : "deny"));
            acl.set("default_log", m_.policy.log_drops);
            acl.set("default_reflect", zone.monitor && !switched());
            list.push_back(acl);
        }
        return list;
    }

    const Model& m_;
    IosShape shape_;
    IosDefaults defaults_;
    Namer acl_names_;
    std::set<std::string> every_protocol_back_;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_ios(const Model& m, const std::filesystem::path& templates) {
    return IosView(m, IosShape::router).build(templates);
}

ExportResult export_ios_switch(const Model& m, const std::filesystem::path& templates) {
    return IosView(m, IosShape::layer3_switch).build(templates);
}

}  // namespace wardgate::export_detail
