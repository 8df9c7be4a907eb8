// Juniper SRX set commands: a VLAN unit and security zone per segment plus the untrust zone,
// a global address book (address per prefix, address-set per group), applications, and
// zone-pair policies in rule order. Junos policies take one zone pair, so a rule whose groups
// span segments becomes one policy per pair. Logged default denies are global policies,
// which Junos evaluates after every zone-pair policy. The SRX is stateful.
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr const char* kSrxOutside = "ge-0/0/0";
constexpr const char* kSrxTrunk = "ge-0/0/1";
constexpr size_t kSrxDescriptionMax = 900;

// TCP and UDP carry ports in Junos applications; other protocols (SCTP without ports here:
// the export refuses SCTP ports) are matched whole.
bool srx_ports(const Service& s) { return s.protocol == Protocol::tcp || s.protocol == Protocol::udp; }

// Junos's keywords for the protocols wardgate names; the number for the others.
std::string srx_protocol(Protocol p) { return protocol_word(p, {Protocol::gre, Protocol::esp, Protocol::ah, Protocol::sctp}); }

class SrxView {
public:
    explicit SrxView(const Model& m)
        : m_(m),
          names_({63, "-_.", {"any", "any-ipv4", "any-ipv6", "global"}, {"junos-"}, false, "wg-"}),
          zones_({63, "-_.", {"junos-host", "any", "global", "null"}, {"junos-"}, false, ""}),
          policies_({63, "-_.", {"global", "default-policy"}, {}, false, "wg-"}) {}

    ExportResult build(const std::filesystem::path& dir) {
        View v = header_view(m_, "srx");
        v.set("group", std::string("wardgate"));
        v.set("trunk_interface", m_.interface("trunk", kSrxTrunk));
        v.set("outside_interface", m_.interface("outside", kSrxOutside));
        zones_("zone:outside", "untrust");
        v.set("interfaces", interfaces());
        v.set("addresses", address_objects(m_, [&](const Prefix& p) { return address_name(p); }));
        v.set("address_sets", address_group_objects(
                                  m_, [&](const AddressGroup& g) { return set_name(g); },
                                  [&](const Prefix& p) { return address_name(p); }, 255));
        v.set("applications", applications());
        v.set("policies", policies());
        if (m_.options.srx_global_policies)
            v.set("global_policies", global_policies());
        else
            v.set("global_policies", make_list());
        ExportResult r = render_config(m_, dir, v, "srx", "set");
        finish(r, m_, "srx", std::move(warnings_));
        return r;
    }

private:
    std::string zone_name(size_t z) {
        if (!m_.zones[z].segment) return zones_("zone:outside", "untrust");
        return zones_("zone:" + m_.zones[z].name, m_.zones[z].name);
    }
    std::string address_name(const Prefix& p) { return names_("address:" + p.to_string(), prefix_object_name(p)); }
    std::string set_name(const AddressGroup& g) { return names_("group:" + g.name, g.name); }
    std::string application_name(const Service& s) { return names_("service:" + service_key(s), service_key(s)); }
    std::string icmp_application_name(const IcmpMatch& m) { return names_("icmp:" + m.key(), m.key()); }

    View interfaces() {
        View list = make_list();
        for (size_t i = 0; i < m_.zones.size(); ++i) {
            const Zone& z = m_.zones[i];
            bool outside = !z.segment;
            // "ge-0/0/1.110": the port and its logical unit.
            std::string full = m_.zone_interface(i, {std::string(kSrxOutside) + ".0", kSrxTrunk, "", "ge-0/0/", 2, ".0"});
            auto dot = full.rfind('.');
            std::string physical = dot == std::string::npos ? full : full.substr(0, dot);
            std::string unit = dot == std::string::npos ? "0" : full.substr(dot + 1);
            View item = make_object();
            item.set("physical", physical);
            item.set("unit", unit);
            item.set("name", physical + "." + unit);
            set_zone_interface(item, z);
            item.set("zone", zone_name(i));
            if (!outside) {
                warn_interface(*z.segment, "srx", physical + "." + unit, warnings_);
                warn_renamed("srx", "security zone", z, zone_name(i), warnings_);
            }
            list.push_back(item);
        }
        return list;
    }

    // Applications: TCP and UDP ports (a term per range), other IP protocols, single ICMP
    // messages; every ICMP message is Junos's own junos-icmp-all and junos-icmp6-all.
    View applications() {
        std::map<std::string, std::vector<std::string>> wanted;  // name -> matches (terms)
        for (const auto& r : m_.rules)
            for (const auto& s : r.services) {
                if (s.protocol == Protocol::icmp) {
                    for (const auto& m : icmp_matches(s, r.families))
                        if (m.type) wanted.emplace(icmp_application_name(m), std::vector<std::string>{icmp_match(m)});
                    continue;
                }
                if (!srx_ports(s)) {
                    wanted.emplace(application_name(s), std::vector<std::string>{"protocol " + srx_protocol(s.protocol)});
                    continue;
                }
                std::vector<std::string> terms;
                for (const auto& pr : s.ports.empty() ? std::vector<PortRange>{{1, 65535}} : s.ports)
                    terms.push_back(fmt::format("protocol {} destination-port {}", to_string(s.protocol),
                                                pr.first == pr.last ? std::to_string(pr.first)
                                                                    : fmt::format("{}-{}", pr.first, pr.last)));
                wanted.emplace(application_name(s), terms);
            }
        View list = make_list();
        for (const auto& [name, matches] : wanted) {
            View terms = make_list();
            for (size_t i = 0; i < matches.size(); ++i) {
                View t = make_object();
                t.set("term", fmt::format("t{}", i + 1));
                t.set("match", matches[i]);
                terms.push_back(t);
            }
            View item = make_object();
            item.set("name", name);
            item.set("single", matches.size() == 1);
            item.set("match", matches.front());
            item.set("terms", terms);
            list.push_back(item);
        }
        return list;
    }

    static std::string icmp_match(const IcmpMatch& m) {
        const char* p = m.family == Family::v4 ? "icmp" : "icmp6";
        std::string out = fmt::format("protocol {} {}-type {}", p, p, *m.type);
        if (m.code) out += fmt::format(" {}-code {}", p, *m.code);
        return out;
    }

    std::string side(const Side& s) {
        if (s.any()) return "any";
        if (!s.group) return address_name(Prefix::host(s.host));
        return set_name(*s.group);
    }

    View policies() {
        View list = make_list();
        const ServiceNames app_names{[&](const Service& s) { return application_name(s); },
                                     [&](const IcmpMatch& m) { return icmp_application_name(m); }, "junos-icmp-all",
                                     "junos-icmp6-all", "any"};
        for (size_t index = 0; index < m_.rules.size(); ++index) {
            const ExportRule& r = m_.rules[index];
            std::vector<std::string> apps = rule_service_names(r, app_names);
            bool single = r.src_zones.size() == 1 && r.dst_zones.size() == 1;
            for (size_t from : r.src_zones) {
                for (size_t to : r.dst_zones) {
                    std::string wanted = single ? r.name : r.name + "_" + zone_name(from) + "_" + zone_name(to);
                    std::string key = fmt::format("rule:{}:{}:{}", index, from, to);
                    View p = make_object();
                    p.set("from_zone", zone_name(from));
                    p.set("to_zone", zone_name(to));
                    p.set("name", policies_(key, wanted));
                    p.set("source", side(r.src));
                    p.set("destination", side(r.dst));
                    p.set("application", member_list(apps));
                    p.set("action", std::string(r.accept ? "permit" : "deny"));
                    p.set("log_init", r.log);
                    p.set("log_close", r.accept);
                    p.set("description", one_line(r.comment(), kSrxDescriptionMax));
                    list.push_back(p);
                }
            }
        }
        if (!m_.options.srx_global_policies) pair_defaults(list);
        return list;
    }

    // The logged default deny at the end of every zone pair, a zone with itself included: the
    // source zone's (its mode decides monitor), or for traffic from outside the destination
    // zone's, as the global policies order them.
    void pair_defaults(View& list) {
        for (size_t from = 0; from < m_.zones.size(); ++from)
            for (size_t to = 0; to < m_.zones.size(); ++to) {
                const Zone& zone = m_.zones[from == m_.outside() ? to : from];
                std::string wanted = "default-deny-" + zone_name(from) + "-to-" + zone_name(to);
                View p = make_object();
                p.set("from_zone", zone_name(from));
                p.set("to_zone", zone_name(to));
                p.set("name", policies_(fmt::format("default:{}:{}", from, to), wanted));
                p.set("source", std::string("any"));
                p.set("destination", std::string("any"));
                p.set("application", std::string("any"));
                p.set("action", std::string(zone.monitor ? "permit" : "deny"));
                p.set("log_init", m_.policy.log_drops);
                p.set("log_close", false);
                p.set("description", one_line(default_deny_text(m_, zone), kSrxDescriptionMax));
                list.push_back(p);
            }
    }

    View global_policies() {
        View list = make_list();
        auto add = [&](size_t z, const std::string& key, const std::string& from, const std::string& to) {
            const Zone& zone = m_.zones[z];
            View p = make_object();
            p.set("name", policies_("default:" + key, key));
            p.set("has_from", !from.empty());
            p.set("from_zone", from);
            p.set("has_to", !to.empty());
            p.set("to_zone", to);
            p.set("action", std::string(zone.monitor ? "permit" : "deny"));
            p.set("log_init", m_.policy.log_drops);
            p.set("description", one_line(default_deny_text(m_, zone), kSrxDescriptionMax));
            list.push_back(p);
        };
        for (size_t z = 0; z < m_.outside(); ++z) add(z, "default-deny-from-" + m_.zones[z].name, zone_name(z), "");
        for (size_t z = 0; z < m_.outside(); ++z) add(z, "default-deny-to-" + m_.zones[z].name, "", zone_name(z));
        add(m_.outside(), "default-deny-outside", "", "");
        return list;
    }

    const Model& m_;
    Namer names_, zones_, policies_;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_srx(const Model& m, const std::filesystem::path& templates) { return SrxView(m).build(templates); }

}  // namespace wardgate::export_detail
