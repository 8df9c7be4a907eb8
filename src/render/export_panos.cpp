// Palo Alto PAN-OS set commands: a layer-3 subinterface and zone per segment plus an outside
// zone, an address object per prefix, address groups, services, and one security rule per
// policy rule (multi-zone where a group spans segments), then logged default denies.
// PAN-OS matches ICMP by application, not service: ICMP gets a rule of its own.
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
          names_({63, "-_.", {"any", "application-default", "default", "none", "select", "multicast"}, {}, false}),
          zones_({31, "-_.", {"any", "multicast"}, {}, false}),
          rule_names_({63, "-_.", {"any", "default", "intrazone-default", "interzone-default"}, {}, false}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "panos");
        v.set("outside_interface", m_.interface("outside", kPanosOutside));
        v.set("trunk_interface", m_.interface("trunk", kPanosTrunk));
        v.set("virtual_router", std::string("default"));
        zone_name(m_.outside());
        v.set("interfaces", interfaces());
        v.set("vr_interfaces", member_list(vr_interfaces_));
        v.set("addresses", addresses());
        v.set("address_groups", address_groups());
        v.set("services", services());
        v.set("rules", rules());
        ExportResult r;
        r.filename = file_safe(m_.policy.site) + "-panos.set";
        set_defaulted_interfaces(v, m_);
        r.text = render_template(dir, "config.mustache", v);
        v.set("set_file", r.filename);
        v.set("undo_file", file_safe(m_.policy.site) + "-panos.undo.set");
        r.companions.push_back({file_safe(m_.policy.site) + "-panos.undo.set", render_template(dir, "undo.mustache", v)});
        r.companions.push_back({file_safe(m_.policy.site) + "-panos.notes.txt", render_template(dir, "notes.mustache", v)});
        r.warnings = std::move(warnings_);
        check_addresses(r.text, m_, "panos", r.warnings);
        return r;
    }

private:
    std::string zone_name(size_t z) { return zones_(m_.zones[z].name); }
    std::string address_name(const Prefix& p) { return names_("address:" + p.to_string(), panos_address_name(p)); }
    std::string group_name(const AddressGroup& g) { return names_("group:" + g.name, g.name); }
    std::string service_name(const Service& s) { return names_("service:" + service_key(s), service_key(s)); }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            bool outside = !z.segment;
            bool vlan = !outside && z.segment->vlan;
            std::string name =
                outside ? m_.interface("outside", kPanosOutside)
                : vlan  ? m_.interface(z.name, fmt::format("{}.{}", m_.interface("trunk", kPanosTrunk), *z.segment->vlan))
                        : m_.interface(z.name, fmt::format("ethernet1/{}", i + 3));
            // A subinterface "ethernet1/2.110" is a unit of its port "ethernet1/2".
            std::string parent = vlan ? name.substr(0, name.rfind('.')) : name;
            View item = make_object();
            item.set("name", name);
            item.set("parent", parent);
            item.set("path", vlan ? fmt::format("ethernet {} layer3 units {}", parent, name)
                                  : fmt::format("ethernet {} layer3", name));
            // The comment belongs to the interface entry (a subinterface's unit, or the port).
            item.set("comment_path", vlan ? fmt::format("ethernet {} layer3 units {}", parent, name)
                                          : fmt::format("ethernet {}", name));
            item.set("has_vlan", static_cast<bool>(vlan));
            item.set("vlan", vlan ? std::to_string(*z.segment->vlan) : std::string());
            item.set("zone", zone_name(i));
            item.set("outside", outside);
            item.set("comment", outside ? std::string("wardgate: outside (uplink)")
                                        : fmt::format("wardgate: segment {} ({})", z.name, to_string(z.segment->kind)));
            auto v4 = outside ? std::nullopt : gateway_address(*z.segment, Family::v4);
            auto v6 = outside ? std::nullopt : gateway_address(*z.segment, Family::v6);
            item.set("has_ipv4", v4.has_value());
            item.set("ipv4", v4 ? v4->cidr() : std::string());
            item.set("has_ipv6", v6.has_value());
            item.set("ipv6", v6 ? v6->cidr() : std::string());
            if (!outside) warn_interface(*z.segment, "panos", name, warnings_);
            warn_renamed("panos", "zone", z, zone_name(i), warnings_);
            vr_interfaces_.push_back(name);
            list.push_back(item);
        }
        return list;
    }

    View addresses() {
        View list = make_list();
        for (const auto& p : m_.prefixes()) {
            View item = make_object();
            item.set("name", address_name(p));
            item.set("value", p.address.to_string() + "/" + std::to_string(p.length));
            list.push_back(item);
        }
        return list;
    }

    View address_groups() {
        View list = make_list();
        for (const auto& [index, families] : m_.group_families()) {
            const auto& g = m_.policy.groups[index];
            std::vector<std::string> members;
            for (const auto& p : g.prefixes)
                if (families.count(p.family())) members.push_back(address_name(p));
            View item = make_object();
            item.set("name", group_name(g));
            item.set("description", one_line(group_comment(g), kPanosDescriptionMax));
            std::string text = "[";
            for (const auto& mbr : members) text += " " + mbr;
            item.set("members", text + " ]");
            list.push_back(item);
        }
        return list;
    }

    View services() {
        std::map<std::string, Service> wanted;
        for (const auto& r : m_.rules)
            for (const auto& s : r.services)
                if (s.protocol != Protocol::icmp) wanted.emplace(service_key(s), s);
        View list = make_list();
        for (const auto& [key, s] : wanted) {
            View item = make_object();
            item.set("name", service_name(s));
            item.set("protocol", std::string(to_string(s.protocol)));
            item.set("ports", s.ports.empty() ? std::string("0-65535") : ports_text(s.ports, ",", "-"));
            list.push_back(item);
        }
        return list;
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
            bool icmp = false;
            for (const auto& s : r.services) {
                if (s.protocol == Protocol::icmp) {
                    icmp = true;
                } else {
                    services.push_back(service_name(s));
                }
            }
            std::string base = rule_names_(key, r.name);
            if (r.services.empty()) {
                list.push_back(rule(base, from, to, src, dst, "any", "any", r.accept, log, r.comment()));
                continue;
            }
            std::string why = r.comment();
            if (icmp && !services.empty()) {  // the ICMP rule gets the ICMP reasons, this one the others
                why.clear();
                for (const auto& reason : r.reasons)
                    if (reason.protocol != Protocol::icmp) why += (why.empty() ? "" : "; ") + reason.text;
            }
            if (!services.empty())
                list.push_back(rule(base, from, to, src, dst, member_list(services), "any", r.accept, log, why));
            if (icmp) {
                std::vector<std::string> apps;
                bool v4 = std::find(r.families.begin(), r.families.end(), Family::v4) != r.families.end();
                bool v6 = std::find(r.families.begin(), r.families.end(), Family::v6) != r.families.end();
                if (v4) apps.push_back("icmp");
                if (v6) apps.push_back("ipv6-icmp");
                apps.push_back("ping");
                std::string name = services.empty() ? base : rule_names_(key + ":icmp", r.name + "-icmp");
                list.push_back(rule(name, from, to, src, dst, "application-default", member_list(apps), r.accept, log,
                                    r.comment(Protocol::icmp)));
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
