// Cisco IOS-XE access switch target of `wardgate nac`: AAA towards the site's RADIUS servers,
// an IBNS 2.0 control policy (MAB first, 802.1X when the device speaks EAPOL), an interface
// template for the access ports, the VLANs the replies name, and each role's port access
// lists (IPv4, named by the replies' Filter-Id, and IPv6).
#include <fmt/format.h>

#include <map>

#include "nac_model.hpp"

namespace wardgate::nac_detail {

using export_detail::make_list;
using export_detail::make_object;
using export_detail::View;

namespace {

View ios_access_entries(const PortAcl& acl) {
    View list = make_list();
    for (const auto& s : acl.sections) {
        View item = make_object();
        item.set("remark", s.block.remark);
        View lines = make_list();
        for (const auto& l : s.block.lines) {
            View line = make_object();
            line.set("text", l.text());
            lines.push_back(line);
        }
        item.set("lines", lines);
        list.push_back(item);
    }
    return list;
}

// Every VLAN a reply names: the segments', the stances', the quarantine VLAN; by number.
View ios_access_vlans(const Site& site, const export_detail::Model& m, std::vector<std::string>& warnings) {
    export_detail::Namer names({32, "-_", {"default"}, {}, false, ""});
    std::map<uint16_t, std::pair<std::string, std::string>> vlans;  // number -> name, what
    for (const auto& z : m.zones) {
        if (!z.segment || !z.segment->vlan) continue;
        vlans.emplace(*z.segment->vlan, std::make_pair(names(z.name), "segment " + z.name));
    }
    for (Lifecycle l : {Lifecycle::support, Lifecycle::limited_support, Lifecycle::end_of_support}) {
        auto vlan = site.stance(l).vlan;
        if (!vlan) continue;
        std::string stance(to_string(l));
        if (!vlans.emplace(*vlan, std::make_pair(names("wg-" + stance), "stance " + stance)).second &&
            vlans[*vlan].second != "stance " + stance)
            warnings.push_back(fmt::format("ios-access: VLAN {} of stance {} is also {}: named once", *vlan, stance,
                                           vlans[*vlan].second));
    }
    if (auto q = site.nac.quarantine_vlan; q && !vlans.emplace(*q, std::make_pair(names("wg-quarantine"), "quarantine")).second)
        warnings.push_back(fmt::format("ios-access: the quarantine VLAN {} is also {}: unknown devices share it", *q,
                                       vlans[*q].second));
    View list = make_list();
    for (const auto& entry : vlans) {
        View item = make_object();
        item.set("vlan", std::to_string(entry.first));
        item.set("name", entry.second.first);
        item.set("what", entry.second.second);
        list.push_back(item);
    }
    return list;
}

}  // namespace

NacResult render_ios_access(const Site& site, const export_detail::Model& m, const std::filesystem::path& dir,
                            const NacOptions& options) {
    NacResult r;
    auto entries = nac_entries(site, r.warnings);
    auto acls = port_acls(m, entries, r.warnings);
    View v = make_object();
    v.set("site", site.name);
    v.set("version", std::string(WARDGATE_VERSION));
    v.set("radius_group", options.radius_group);
    v.set("has_coa_client", options.coa_client.has_value());
    v.set("coa_client", options.coa_client ? options.coa_client->to_string() : std::string());
    if (!options.coa_client)
        r.warnings.push_back("ios-access: no --coa-client: the switch accepts no Change of Authorization, so a "
                             "device's new VLAN or access list applies only when it authenticates again");
    v.set("vlans", ios_access_vlans(site, m, r.warnings));
    View roles = make_list();
    for (const auto& a : acls) {
        View item = make_object();
        item.set("role", nac_comment_text(a.role));
        item.set("acl4", nac_acl_name(a.role));
        item.set("acl6", nac_acl_name(a.role) + "-v6");
        item.set("filter_id", nac_filter_id(a.role));
        item.set("device_count", std::to_string(a.devices.size()));
        std::string names;
        for (const Device* d : a.devices) names += (names.empty() ? "" : ", ") + d->name;
        item.set("devices", export_detail::one_line(names, 200));
        item.set("entries4", ios_access_entries(a.v4));
        item.set("entries6", ios_access_entries(a.v6));
        item.set("lines4", std::to_string(a.v4.line_count()));
        item.set("lines6", std::to_string(a.v6.line_count()));
        roles.push_back(item);
    }
    v.set("roles", roles);
    v.set("reject_unknown", !site.nac.quarantine_vlan.has_value());
    v.set("quarantine_vlan", site.nac.quarantine_vlan ? std::to_string(*site.nac.quarantine_vlan) : std::string());
    r.files.push_back({"ios-access/switch.cfg", export_detail::render_template(dir, "switch.mustache", v)});
    return r;
}

}  // namespace wardgate::nac_detail
