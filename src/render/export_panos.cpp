// Palo Alto PAN-OS set commands: a layer-3 subinterface and zone per segment plus an outside
// zone, an address object per prefix, address groups, services, and one security rule per
// policy rule (multi-zone where a group spans segments), then logged default denies.
// PAN-OS services hold TCP, UDP and SCTP ports; everything else is matched by application
// (ICMP by the predefined ones, single ICMP messages and other IP protocols by custom
// applications identified by ICMP type or IP protocol), in a rule of its own.
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr const char* kPanosOutside = "ethernet1/1";
constexpr const char* kPanosTrunk = "ethernet1/2";
constexpr size_t kPanosDescriptionMax = 1023;

std::string panos_address_name(const Prefix& p) {
    return (p.is_host() ? "h-" + p.address.to_string() : "n-" + p.address.to_string() + "_" + std::to_string(p.length));
}

class PanosView {
public:
    explicit PanosView(const Model& m)
        : m_(m),
          names_({63, "-_.", {"any", "application-default", "default", "none", "select", "multicast"}, {}, false, "wg-"}),
          zones_({31, "-_.", {"any", "multicast"}, {}, false, ""}),
          rule_names_({63, "-_.", {"any", "default", "intrazone-default", "interzone-default"}, {}, false, "wg-"}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "panos");
        v.set("outside_interface", m_.interface("outside", kPanosOutside));
        v.set("trunk_interface", m_.interface("trunk", kPanosTrunk));
        v.set("virtual_router", std::string("default"));
        zone_name(m_.outside());
        v.set("interfaces", interfaces());
        v.set("vr_interfaces", member_list(vr_interfaces_));
        v.set("addresses", address_objects(m_, [&](const Prefix& p) { return address_name(p); }));
        v.set("address_groups", address_group_objects(
                                     m_, [&](const AddressGroup& g) { return group_name(g); },
                                     [&](const Prefix& p) { return address_name(p); }, kPanosDescriptionMax));
        v.set("services", services());
        View apps = applications();
        v.set("has_applications", !apps.is_empty_list());
        v.set("applications", apps);
        v.set("has_sctp", has_sctp());
        v.set("rules", rules());
        ExportResult r = render_config(m_, dir, v, "panos", "set");
        v.set("set_file", r.filename);
        v.set("undo_file", file_safe(m_.policy.site) + "-panos.undo.set");
        r.companions.push_back({file_safe(m_.policy.site) + "-panos.undo.set", render_template(dir, "undo.mustache", v)});
        r.companions.push_back({file_safe(m_.policy.site) + "-panos.notes.txt", render_template(dir, "notes.mustache", v)});
        finish(r, m_, "panos", std::move(warnings_));
        return r;
    }

private:
    std::string zone_name(size_t z) { return zones_(m_.zones[z].name); }
    std::string address_name(const Prefix& p) { return names_("address:" + p.to_string(), panos_address_name(p)); }
    std::string group_name(const AddressGroup& g) { return names_("group:" + g.name, g.name); }
    std::string service_name(const Service& s) { return names_("service:" + service_key(s), service_key(s)); }
    std::string protocol_app_name(Protocol p) {
        return names_("application:" + to_string(p), "wg-" + (p == Protocol::esp || p == Protocol::ah || p == Protocol::gre
                                                                  ? to_string(p)
                                                                  : "proto-" + std::to_string(static_cast<int>(p))));
    }
    std::string icmp_app_name(const IcmpMatch& m) { return names_("application:" + m.key(), "wg-" + m.key()); }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            bool outside = !z.segment;
            bool vlan = !outside && z.segment->vlan;
            std::string name = m_.zone_interface(i, {kPanosOutside, kPanosTrunk, "", "ethernet1/", 3, ""});
            // A subinterface "ethernet1/2.110" is a unit of its port "ethernet1/2".
            std::string parent = vlan ? name.substr(0, name.rfind('.')) : name;
            View item = make_object();
            item.set("name", name);
            set_zone_interface(item, z);
            item.set("parent", parent);
            item.set("path", vlan ? fmt::format("ethernet {} layer3 units {}", parent, name)
                                  : fmt::format("ethernet {} layer3", name));
            // The comment belongs to the interface entry (a subinterface's unit, or the port).
            item.set("comment_path", vlan ? fmt::format("ethernet {} layer3 units {}", parent, name)
                                          : fmt::format("ethernet {}", name));
            item.set("zone", zone_name(i));
            if (!outside) warn_interface(*z.segment, "panos", name, warnings_);
            warn_renamed("panos", "zone", z, zone_name(i), warnings_);
            vr_interfaces_.push_back(name);
            list.push_back(item);
        }
        return list;
    }

    View services() {
        View list = make_list();
        for (const auto& [key, s] : m_.services(is_port_service)) {
            View item = make_object();
            item.set("name", service_name(s));
            item.set("protocol", std::string(to_string(s.protocol)));
            item.set("ports", s.ports.empty() ? std::string("1-65535") : ports_text(s.ports, ",", "-"));
            list.push_back(item);
        }
        return list;
    }

    bool has_sctp() const {
        return std::any_of(m_.rules.begin(), m_.rules.end(), [](const ExportRule& r) {
            return std::any_of(r.services.begin(), r.services.end(), [](const Service& s) { return s.protocol == Protocol::sctp; });
        });
    }

    // Custom applications: one per other IP protocol and per single ICMP message the rules use.
    View applications() {
        std::map<std::string, View> wanted;  // by name: sorted and unique
        for (const auto& r : m_.rules)
            for (const auto& s : r.services) {
                if (is_port_service(s)) continue;
                if (s.protocol != Protocol::icmp) {
                    View item = make_object();
                    item.set("name", protocol_app_name(s.protocol));
                    item.set("description", "wardgate: IP protocol " + describe(s.protocol));
                    item.set("ident", "ident-by-ip-protocol " + std::to_string(static_cast<int>(s.protocol)));
                    wanted.emplace(protocol_app_name(s.protocol), item);
                    continue;
                }
                for (const auto& m : icmp_matches(s, r.families)) {
                    if (!m.type) continue;  // every message: the predefined applications
                    View item = make_object();
                    item.set("name", icmp_app_name(m));
                    bool v4 = m.family == Family::v4;
                    item.set("description", fmt::format("wardgate: {} type {}{}", v4 ? "ICMP" : "ICMPv6", *m.type,
                                                        m.code ? fmt::format(" code {}", *m.code) : ""));
                    item.set("ident", fmt::format("{} type {}{}", v4 ? "ident-by-icmp-type" : "ident-by-icmp6-type", *m.type,
                                                  m.code ? fmt::format(" code {}", *m.code) : ""));
                    wanted.emplace(icmp_app_name(m), item);
                }
            }
        View list = make_list();
        for (auto& entry : wanted) list.push_back(entry.second);
        return list;
    }

    // The applications a rule's non-port services need.
    std::vector<std::string> rule_applications(const ExportRule& r) {
        std::vector<std::string> apps;
        bool ping = false;
        auto add = [&](const std::string& a) {
            if (std::find(apps.begin(), apps.end(), a) == apps.end()) apps.push_back(a);
        };
        for (const auto& s : r.services) {
            if (is_port_service(s)) continue;
            if (s.protocol != Protocol::icmp) {
                add(protocol_app_name(s.protocol));
                continue;
            }
            for (const auto& m : icmp_matches(s, r.families)) {
                if (m.type) {
                    add(icmp_app_name(m));
                    continue;
                }
                add(m.family == Family::v4 ? "icmp" : "ipv6-icmp");
                ping = true;
            }
        }
        if (ping) add("ping");  // App-ID names echo "ping", not "icmp"
        return apps;
    }

    std::string side(const Side& s) {
        if (s.any()) return "any";
        if (!s.group) return address_name(Prefix::host(s.host));
        return group_name(*s.group);
    }

    std::string zones_text(const std::vector<size_t>& zones, bool any) {
        if (any || zones.size() == m_.zones.size()) return "any";
        std::vector<std::string> names;
        for (size_t z : zones) names.push_back(zone_name(z));
        return member_list(names);
    }

    View rule(const std::string& name, const std::string& from, const std::string& to, const std::string& source,
              const std::string& destination, const std::string& service, const std::string& application, bool accept,
              bool log, const std::string& description) {
        View item = make_object();
        item.set("name", name);
        item.set("from", from);
        item.set("to", to);
        item.set("source", source);
        item.set("destination", destination);
        item.set("service", service);
        item.set("application", application);
        item.set("action", std::string(accept ? "allow" : "deny"));
        item.set("log_end", log);
        item.set("description", one_line(description, kPanosDescriptionMax));
        return item;
    }

    View rules() {
        View list = make_list();
        for (size_t index = 0; index < m_.rules.size(); ++index) {
            const ExportRule& r = m_.rules[index];
            std::string key = "rule:" + std::to_string(index);  // rule names can repeat (two pinholes to one endpoint)
            std::string from = zones_text(r.src_zones, r.src.any());
            std::string to = zones_text(r.dst_zones, r.dst.any());
            std::string src = side(r.src), dst = side(r.dst);
            bool log = r.log || r.accept;  // allows log at session end, as PAN-OS does by default
            std::vector<std::string> services;
            for (const auto& s : r.services)
                if (is_port_service(s)) services.push_back(service_name(s));
            std::vector<std::string> apps = rule_applications(r);
            std::string base = rule_names_(key, r.name);
            if (r.services.empty()) {
                list.push_back(rule(base, from, to, src, dst, "any", "any", r.accept, log, r.comment()));
                continue;
            }
            auto port_protocol = [](Protocol p) { return p == Protocol::tcp || p == Protocol::udp || p == Protocol::sctp; };
            bool split = !services.empty() && !apps.empty();  // each rule gets the reasons of what it matches
            if (!services.empty())
                list.push_back(rule(base, from, to, src, dst, member_list(services), "any", r.accept, log,
                                    split ? r.comment_if(port_protocol) : r.comment()));
            if (!apps.empty()) {
                bool icmp_only = std::all_of(r.services.begin(), r.services.end(), [](const Service& s) {
                    return is_port_service(s) || s.protocol == Protocol::icmp;
                });
                std::string name = services.empty() ? base : rule_names_(key + ":apps", r.name + (icmp_only ? "-icmp" : "-apps"));
                list.push_back(rule(name, from, to, src, dst, "application-default", member_list(apps), r.accept, log,
                                    split ? r.comment_if([&](Protocol p) { return !port_protocol(p); }) : r.comment()));
            }
        }
        bool log = m_.policy.log_drops;
        auto default_rule = [&](size_t z, const std::string& key, const std::string& from, const std::string& to) {
            const Zone& zone = m_.zones[z];
            std::string desc = default_deny_text(m_, zone);
            list.push_back(rule(rule_names_("default:" + key, key), from, to, "any", "any", "any", "any", zone.monitor,
                                log, desc));
        };
        for (size_t z = 0; z < m_.outside(); ++z)
            default_rule(z, "default-deny-from-" + m_.zones[z].name, zone_name(z), "any");
        for (size_t z = 0; z < m_.outside(); ++z)
            default_rule(z, "default-deny-to-" + m_.zones[z].name, "any", zone_name(z));
        default_rule(m_.outside(), "default-deny-outside", "any", "any");
        return list;
    }

    const Model& m_;
    Namer names_, zones_, rule_names_;
    std::vector<std::string> vr_interfaces_;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_panos(const Model& m, const std::filesystem::path& templates) { return PanosView(m).build(templates); }

}  // namespace wardgate::export_detail
