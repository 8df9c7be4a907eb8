// Cisco ASA 9.x: a subinterface per segment VLAN, network object-groups per address group
// and family, service object-groups for port lists, and one unified (IPv4 + IPv6) extended
// access list per interface, applied inbound. Other IP protocols go by keyword or number,
// SCTP ports (ASA 9.5(2) and later) one line per range, ICMP messages by type and code.
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr const char* kAsaTrunk = "GigabitEthernet0/1";
constexpr const char* kAsaOutside = "GigabitEthernet0/0";
constexpr size_t kAsaRemarkMax = 100;

std::string asa_prefix(const Prefix& p) {
    if (p.family() == Family::v4)
        return p.is_host() ? "host " + p.address.to_string() : p.address.to_string() + " " + v4_mask(p.length);
    return p.is_host() ? "host " + p.address.to_string() : p.address.to_string() + "/" + std::to_string(p.length);
}

// ASA's keywords for the protocols wardgate names; the number for the others.
std::string asa_protocol(Protocol p) {
    return protocol_word(p, {Protocol::tcp, Protocol::udp, Protocol::sctp, Protocol::gre, Protocol::esp, Protocol::ah});
}

// TCP and UDP port lists go into a service object-group (which takes only those two).
bool grouped(const Service& s) {
    return (s.protocol == Protocol::tcp || s.protocol == Protocol::udp) && s.ports.size() > 1;
}

class AsaView {
public:
    explicit AsaView(const Model& m)
        : m_(m),
          names_({64, "-_.", {"any", "any4", "any6", "host", "interface", "object", "object-group", "log"}, {}, false, "wg-"}),
          nameifs_({48, "-_.", {"any", "inside", "management"}, {}, false, ""}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "asa");
        v.set("trunk_interface", m_.interface("trunk", kAsaTrunk));
        v.set("outside_interface", m_.interface("outside", kAsaOutside));
        nameifs_("zone:outside", "outside");
        v.set("object_groups", family_group_objects(
                                   m_, std::nullopt, [&](const AddressGroup& g, Family f) { return group_name(g, f); },
                                   asa_prefix, 200));
        v.set("service_groups", service_groups());
        v.set("interfaces", interfaces());
        v.set("acls", acls());
        ExportResult r = render_config(m_, dir, v, "asa", "cfg");
        finish(r, m_, "asa", std::move(warnings_));
        return r;
    }

private:
    std::string group_name(const AddressGroup& g, Family f) {
        return names_("group:" + g.name + (f == Family::v4 ? ":4" : ":6"), g.name + (f == Family::v4 ? "-v4" : "-v6"));
    }

    std::string service_group_name(const Service& s) { return names_("service:" + service_key(s), "svc-" + service_key(s)); }

    View service_groups() {
        View list = make_list();
        for (const auto& [key, s] : m_.services(grouped)) {
            View item = make_object();
            item.set("name", service_group_name(s));
            item.set("protocol", std::string(to_string(s.protocol)));
            View ports = make_list();
            for (const auto& pr : s.ports) {
                View p = make_object();
                p.set("spec", cisco_ports(pr));
                ports.push_back(p);
            }
            item.set("ports", ports);
            list.push_back(item);
        }
        return list;
    }

    std::string nameif(size_t zone) { return nameifs_("zone:" + m_.zones[zone].name, m_.zones[zone].name); }
    std::string acl_name(size_t zone) { return names_("acl:" + m_.zones[zone].name, "wg-" + nameif(zone) + "-in"); }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            View item = make_object();
            bool outside = !z.segment;
            std::string name = m_.zone_interface(i, {kAsaOutside, kAsaTrunk, "", "GigabitEthernet0/", 2, ""});
            item.set("name", name);
            set_zone_interface(item, z);
            item.set("nameif", nameif(i));
            item.set("security_level", std::string(outside ? "0" : "50"));
            if (!outside) warn_interface(*z.segment, "asa", name, warnings_);
            warn_renamed("asa", "nameif", z, nameif(i), warnings_);
            list.push_back(item);
        }
        return list;
    }

    std::string side_spec(const Side& s, Family f) {
        if (s.any()) return f == Family::v4 ? "any4" : "any6";
        if (!s.group) return "host " + s.host.to_string();
        return "object-group " + group_name(*s.group, f);
    }

    View rule_entry(const ExportRule& r) {
        std::string action = r.accept ? "permit" : "deny";
        View lines = make_list();
        for (Family f : r.families) {
            std::string src = side_spec(r.src, f), dst = side_spec(r.dst, f);
            if (r.services.empty()) lines.push_back(cisco_line(action, "ip", src, dst, "", r.log));
            for (const auto& s : r.services) {
                if (s.protocol == Protocol::icmp) {
                    for (const auto& m : icmp_matches(s, {f}))
                        lines.push_back(cisco_line(action, f == Family::v4 ? "icmp" : "icmp6", src, dst, cisco_icmp(m), r.log));
                } else if (grouped(s)) {
                    lines.push_back(cisco_line(action, to_string(s.protocol), src, dst, "object-group " + service_group_name(s), r.log));
                } else {
                    for (const auto& a : line_atoms({s}, f))
                        lines.push_back(cisco_line(action, asa_protocol(a.protocol), src, dst, a.ports ? cisco_ports(*a.ports) : "", r.log));
                }
            }
        }
        return cisco_entry(r, lines, kAsaRemarkMax);
    }

    View acls() {
        View list = make_list();
        for (size_t z = 0; z < m_.zones.size(); ++z) {
            View entries = make_list();
            for (const auto& r : m_.rules)
                if (std::binary_search(r.src_zones.begin(), r.src_zones.end(), z)) entries.push_back(rule_entry(r));
            const Zone& zone = m_.zones[z];
            View last = make_object();
            last.set("remarks", cisco_remarks({default_deny_text(m_, zone)}, kAsaRemarkMax));
            View lines = make_list();
            lines.push_back(cisco_line(zone.monitor ? "permit" : "deny", "ip", "any", "any", "", m_.policy.log_drops));
            last.set("lines", lines);
            entries.push_back(last);
            View acl = make_object();
            acl.set("acl", acl_name(z));
            acl.set("nameif", nameif(z));
            acl.set("entries", entries);
            list.push_back(acl);
        }
        return list;
    }

    const Model& m_;
    Namer names_, nameifs_;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_asa(const Model& m, const std::filesystem::path& templates) { return AsaView(m).build(templates); }

}  // namespace wardgate::export_detail
