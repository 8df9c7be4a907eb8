// Cisco IOS / IOS-XE: a VLAN and SVI per segment, and per interface one named extended IPv4
// access list and one IPv6 access list, applied inbound, with one explicit entry per address
// pair and port range. IOS access lists are stateless: permits reflect into a reflexive list
// that every inbound list evaluates first, so replies of permitted connections come back.
// Other IP protocols go by keyword or number, ICMP messages by type and code; SCTP ports are
// beyond these lists (the export refuses them).
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr const char* kIosOutside = "GigabitEthernet0/0";
constexpr const char* kIosTrunk = "GigabitEthernet0/1";
constexpr size_t kIosRemarkMax = 100;

std::string ios_prefix(const Prefix& p) {
    if (p.is_host()) return "host " + p.address.to_string();
    if (p.family() == Family::v4) return p.address.to_string() + " " + v4_wildcard(p.length);
    return p.to_string();
}

// The keywords IOS has for a protocol in each family's access lists ("ahp" for AH, GRE in
// IPv4 only), the number for the others. ICMP is "icmp" in both (an IPv6 list's icmp is ICMPv6).
std::string ios_protocol(Protocol p, Family f) {
    if (p == Protocol::ah) return "ahp";
    if (p == Protocol::gre && f == Family::v4) return "gre";
    return protocol_word(p, {Protocol::tcp, Protocol::udp, Protocol::icmp, Protocol::esp});
}

class IosView {
public:
    explicit IosView(const Model& m)
        : m_(m), acl_names_({64, "-_", {"any", "host", "log"}, {}, false}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "ios");
        v.set("outside_interface", m_.interface("outside", kIosOutside));
        v.set("reflect4", std::string("wg-return"));
        v.set("reflect6", std::string("wg-return6"));
        v.set("trunk_interface", m_.interface("trunk", kIosTrunk));
        v.set("interfaces", interfaces());
        v.set("acls4", acls(Family::v4));
        v.set("acls6", acls(Family::v6));
        ExportResult r = render_config(m_, dir, v, "ios", "cfg");
        finish(r, m_, "ios", std::move(warnings_));
        return r;
    }

private:
    std::string acl_name(size_t zone, Family f) {
        const std::string& z = m_.zones[zone].name;
        return acl_names_("acl:" + z + (f == Family::v4 ? ":4" : ":6"), "wg-" + z + (f == Family::v4 ? "-in" : "-in6"));
    }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            bool outside = !z.segment;
            // A segment's VLAN is a dot1Q subinterface of the trunk; a segment without one a port of its own.
            std::string name = outside ? m_.interface("outside", kIosOutside)
                               : z.segment->vlan
                                   ? m_.interface(z.name, fmt::format("{}.{}", m_.interface("trunk", kIosTrunk), *z.segment->vlan))
                                   : m_.interface(z.name, fmt::format("GigabitEthernet0/{}", i + 2));
            View item = make_object();
            item.set("name", name);
            set_zone_interface(item, z);
            item.set("acl4", acl_name(i, Family::v4));
            item.set("acl6", acl_name(i, Family::v6));
            if (!outside) warn_interface(*z.segment, "ios", name, warnings_);
            list.push_back(item);
        }
        return list;
    }

    static std::vector<std::string> specs(const Side& s, Family f) {
        if (s.any()) return {"any"};
        std::vector<std::string> out;
        for (const auto& p : s.prefixes(f)) out.push_back(ios_prefix(p));
        return out;
    }

    View rule_entry(const ExportRule& r, Family f) {
        std::string action = r.accept ? "permit" : "deny";
        std::vector<std::pair<std::string, std::string>> protocols;  // protocol, port or ICMP spec
        if (r.services.empty()) protocols.push_back({f == Family::v4 ? "ip" : "ipv6", ""});
        for (const auto& a : line_atoms(r.services, f))
            protocols.push_back({ios_protocol(a.protocol, f), a.ports ? cisco_ports(*a.ports) : a.icmp ? cisco_icmp(*a.icmp) : ""});
        View lines = make_list();
        for (const auto& src : specs(r.src, f))
            for (const auto& dst : specs(r.dst, f))
                for (const auto& [protocol, ports] : protocols) {
                    View l = cisco_line(action, protocol, src, dst, ports, r.log);
                    l.set("reflect", r.accept);
                    lines.push_back(l);
                }
        return cisco_entry(r, lines, kIosRemarkMax);
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
            acl.set("entries", entries);
            acl.set("default_remark", one_line(default_deny_text(m_, zone), kIosRemarkMax));
            acl.set("default_action", std::string(zone.monitor ? "permit" : "deny"));
            acl.set("default_log", m_.policy.log_drops);
            acl.set("default_reflect", zone.monitor);
            list.push_back(acl);
        }
        return list;
    }

    const Model& m_;
    Namer acl_names_;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_ios(const Model& m, const std::filesystem::path& templates) { return IosView(m).build(templates); }

}  // namespace wardgate::export_detail
