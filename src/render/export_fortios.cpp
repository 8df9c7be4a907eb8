// Fortinet FortiOS 7.x CLI: a VLAN interface per segment, firewall addresses (IPv4) and
// address6 (IPv6) per prefix, addrgrp / addrgrp6 per address group, custom services, and
// consolidated firewall policies carrying IPv4 and IPv6 addresses (srcaddr / srcaddr6), then
// logged default denies. FortiOS is stateful: replies need no policy.
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr const char* kFortiosOutside = "port1";
constexpr const char* kFortiosTrunk = "port2";
constexpr size_t kFortiosCommentMax = 1023;
// wardgate's policies take the ids after this one, in order, and no others: the device's own
// policies keep lower ids (FortiOS orders policies by their place in the list, not the id).
constexpr size_t kFortiosPolicyIdBase = 10000;

std::string quoted_list(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "\"" : " \"") + i + "\"";
    return out;
}

class FortiosView {
public:
    explicit FortiosView(const Model& m)
        : m_(m),
          interfaces_({15, "-_.", {"any", "all", "none"}, {}, false, ""}),
          addresses_({79, "-_.:/", {"all", "none", "any", "all6"}, {}, false, "wg-"}),
          services_({79, "-_.", {"ALL", "ALL_TCP", "ALL_UDP", "ALL_ICMP", "ALL_ICMP6", "HTTP", "HTTPS", "DNS", "NTP",
                                 "SSH", "TELNET", "SNMP", "SYSLOG", "SMB", "PING", "webproxy"},
                     {}, false, "wg-"}),
          policies_({35, "-_.", {}, {}, false, "wg-"}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "fortios");
        v.set("vdom", std::string("root"));
        v.set("id_base", std::to_string(kFortiosPolicyIdBase + 1));
        v.set("undo_file", file_safe(m_.policy.site) + "-fortios.undo.conf");
        v.set("trunk_interface", m_.interface("trunk", kFortiosTrunk));
        v.set("outside_interface", m_.interface("outside", kFortiosOutside));
        interface_name(m_.outside());
        v.set("interfaces", interfaces());
        v.set("addresses", address_objects(m_, [&](const Prefix& p) { return address_name(p); }, Family::v4));
        v.set("addresses6", address_objects(m_, [&](const Prefix& p) { return address_name(p); }, Family::v6));
        auto group_name_of = [&](const AddressGroup& g, Family f) { return group_name(g, f); };
        auto address_name_of = [&](const Prefix& p) { return address_name(p); };
        v.set("groups", family_group_objects(m_, Family::v4, group_name_of, address_name_of, 255));
        v.set("groups6", family_group_objects(m_, Family::v6, group_name_of, address_name_of, 255));
        v.set("services", services());
        v.set("policies", policies());
        ExportResult r = render_config(m_, dir, v, "fortios", "conf");
        v.set("config_file", r.filename);
        r.companions.push_back({file_safe(m_.policy.site) + "-fortios.undo.conf", render_template(dir, "undo.mustache", v)});
        finish(r, m_, "fortios", std::move(warnings_));
        return r;
    }

private:
    std::string interface_name(size_t z) {
        const Zone& zone = m_.zones[z];
        if (!zone.segment) return interfaces_("zone:outside", m_.interface("outside", kFortiosOutside));
        if (!zone.segment->vlan)
            return interfaces_("zone:" + zone.name, m_.interface(zone.name, fmt::format("port{}", z + 3)));
        // A VLAN interface wardgate creates on the trunk, named after the segment unless mapped.
        auto mapped = m_.options.interfaces.find(zone.name);
        return interfaces_("zone:" + zone.name, mapped != m_.options.interfaces.end() ? mapped->second : zone.name);
    }
    std::string address_name(const Prefix& p) { return addresses_("address:" + p.to_string(), prefix_object_name(p)); }
    std::string group_name(const AddressGroup& g, Family f) {
        return addresses_("group:" + g.name + (f == Family::v4 ? ":4" : ":6"), g.name + (f == Family::v4 ? "-v4" : "-v6"));
    }
    // Other protocols get an "ip-" prefix: FortiOS predefines ESP, AH, GRE, ... (names compared
    // without case would turn "esp" into "esp-2").
    std::string service_name(const Service& s) {
        return is_port_service(s) ? services_(service_key(s)) : services_(service_key(s), "ip-" + service_key(s));
    }
    std::string icmp_service_name(const IcmpMatch& m) { return services_("icmp:" + m.key(), m.key()); }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            bool outside = !z.segment;
            std::string name = interface_name(i);
            View item = make_object();
            item.set("name", name);
            set_zone_interface(item, z);
            item.set("alias", one_line(z.name, 25));
            item.set("role", std::string(outside ? "wan" : "lan"));
            if (!outside) {
                warn_interface(*z.segment, "fortios", name, warnings_);
                if (z.segment->vlan) warn_renamed("fortios", "VLAN interface", z, name, warnings_);
            }
            list.push_back(item);
        }
        return list;
    }

    View services() {
        std::map<std::string, View> wanted;  // by name: sorted and unique
        for (const auto& r : m_.rules)
            for (const auto& s : r.services) {
                if (s.protocol == Protocol::icmp) {
                    for (const auto& m : icmp_matches(s, r.families))
                        if (m.type) wanted.emplace(icmp_service_name(m), icmp_service(m));
                    continue;
                }
                wanted.emplace(service_name(s), is_port_service(s) ? port_service(s) : protocol_service(s));
            }
        View list = make_list();
        for (auto& entry : wanted) list.push_back(entry.second);
        return list;
    }

    View service_item(const std::string& name, std::string_view kind) {
        View item = make_object();
        item.set("name", name);
        for (const char* k : {"has_tcp", "has_udp", "has_sctp", "has_protocol", "has_icmp"}) item.set(k, kind == k);
        return item;
    }

    View port_service(const Service& s) {
        // FortiOS writes "every port" as 1-65535 and takes no port 0.
        std::vector<PortRange> ranges;
        for (auto pr : s.ports) {
            if (pr.last == 0) continue;
            pr.first = std::max<uint16_t>(pr.first, 1);
            ranges.push_back(pr);
        }
        View item = service_item(service_name(s), s.protocol == Protocol::tcp   ? "has_tcp"
                                                  : s.protocol == Protocol::udp ? "has_udp"
                                                                                : "has_sctp");
        item.set("ports", ranges.empty() ? std::string("1-65535") : ports_text(ranges, " ", "-"));
        return item;
    }

    View protocol_service(const Service& s) {
        View item = service_item(service_name(s), "has_protocol");
        item.set("protocol_number", std::to_string(static_cast<int>(s.protocol)));
        return item;
    }

    View icmp_service(const IcmpMatch& m) {
        View item = service_item(icmp_service_name(m), "has_icmp");
        item.set("icmp_protocol", std::string(m.family == Family::v4 ? "ICMP" : "ICMP6"));
        item.set("icmp_type", m.type ? std::to_string(*m.type) : std::string());
        item.set("has_icmp_code", m.code.has_value());
        item.set("icmp_code", m.code ? std::to_string(*m.code) : std::string());
        return item;
    }

    std::string intf(const std::vector<size_t>& zones, bool any) {
        if (any || zones.size() == m_.zones.size()) return "\"any\"";
        std::vector<std::string> names;
        for (size_t z : zones) names.push_back(interface_name(z));
        return quoted_list(names);
    }

    std::string addr(const Side& s, Family f) {
        if (s.any()) return "\"all\"";
        if (!s.group) return quoted_list({address_name(Prefix::host(s.host))});
        return quoted_list({group_name(*s.group, f)});
    }

    View policy(const std::string& name, const std::string& srcintf, const std::string& dstintf) {
        View p = make_object();
        p.set("id", std::to_string(kFortiosPolicyIdBase + ++next_id_));
        p.set("name", name);
        p.set("srcintf", srcintf);
        p.set("dstintf", dstintf);
        return p;
    }

    View policies() {
        View list = make_list();
        const ServiceNames service_names{[&](const Service& s) { return service_name(s); },
                                         [&](const IcmpMatch& m) { return icmp_service_name(m); }, "ALL_ICMP", "ALL_ICMP6",
                                         "ALL"};
        for (size_t index = 0; index < m_.rules.size(); ++index) {
            const ExportRule& r = m_.rules[index];
            View p = policy(policies_("rule:" + std::to_string(index), r.name), intf(r.src_zones, r.src.any()),
                            intf(r.dst_zones, r.dst.any()));
            bool v4 = has_family(r, Family::v4), v6 = has_family(r, Family::v6);
            p.set("has_v4", v4);
            p.set("srcaddr", v4 ? addr(r.src, Family::v4) : std::string());
            p.set("dstaddr", v4 ? addr(r.dst, Family::v4) : std::string());
            p.set("has_v6", v6);
            p.set("srcaddr6", v6 ? addr(r.src, Family::v6) : std::string());
            p.set("dstaddr6", v6 ? addr(r.dst, Family::v6) : std::string());
            p.set("service", quoted_list(rule_service_names(r, service_names)));
            p.set("action", std::string(r.accept ? "accept" : "deny"));
            p.set("logtraffic", std::string(r.accept || r.log ? "all" : "disable"));
            p.set("comments", one_line(r.comment(), kFortiosCommentMax));
            list.push_back(p);
        }
        auto default_policy = [&](size_t z, const std::string& key, const std::string& srcintf,
                                  const std::string& dstintf) {
            const Zone& zone = m_.zones[z];
            View p = policy(policies_("default:" + key, key), srcintf, dstintf);
            p.set("has_v4", true);
            p.set("srcaddr", std::string("\"all\""));
            p.set("dstaddr", std::string("\"all\""));
            p.set("has_v6", true);
            p.set("srcaddr6", std::string("\"all\""));
            p.set("dstaddr6", std::string("\"all\""));
            p.set("service", std::string("\"ALL\""));
            p.set("action", std::string(zone.monitor ? "accept" : "deny"));
            p.set("logtraffic", std::string(m_.policy.log_drops ? "all" : "disable"));
            p.set("comments", one_line(default_deny_text(m_, zone), kFortiosCommentMax));
            list.push_back(p);
        };
        for (size_t z = 0; z < m_.outside(); ++z)
            default_policy(z, "default-deny-from-" + m_.zones[z].name, quoted_list({interface_name(z)}), "\"any\"");
        for (size_t z = 0; z < m_.outside(); ++z)
            default_policy(z, "default-deny-to-" + m_.zones[z].name, "\"any\"", quoted_list({interface_name(z)}));
        default_policy(m_.outside(), "default-deny-outside", "\"any\"", "\"any\"");
        return list;
    }

    const Model& m_;
    Namer interfaces_, addresses_, services_, policies_;
    int next_id_ = 0;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_fortios(const Model& m, const std::filesystem::path& templates) {
    return FortiosView(m).build(templates);
}

}  // namespace wardgate::export_detail
