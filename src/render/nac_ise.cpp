// Cisco ISE target of `wardgate nac`: the endpoints to import (MAC, endpoint identity group),
// one endpoint identity group and authorization profile per role and VLAN, each role's
// downloadable ACLs (IPv4 and IPv6), as ERS API bodies (ISE 3.x), and the authorization rules
// to create by hand, which ERS does not cover.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "nac_model.hpp"
#include "wardgate/core/csv.hpp"

namespace wardgate::nac_detail {

using export_detail::make_list;
using export_detail::make_object;
using export_detail::View;

namespace {

// A JSON string with its quotes, escaped as nlohmann::json escapes every string it writes.
std::string ise_json(std::string_view text) {
    return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A downloadable ACL's text: the port list with `any` as every source (ISE's dACLs take no
// other; the switch puts the session's own address in its place), each line once, no log.
std::string ise_dacl_text(const PortAcl& acl) {
    std::string out;
    std::set<std::string> seen;
    for (const auto& s : acl.sections)
        for (auto l : s.block.lines) {
            l.log = false;
            std::string text = l.text(true);
            if (seen.insert(text).second) out += (out.empty() ? "" : "\n") + text;
        }
    return out;
}

struct IseGroup {
    std::string role;
    uint16_t vlan = 0;
    std::string vlan_from;
    std::string name;
    size_t devices = 0;
};

}  // namespace

NacResult render_ise(const Site& site, const export_detail::Model& m, const std::filesystem::path& dir) {
    NacResult r;
    auto entries = nac_entries(site, r.warnings);
    auto acls = port_acls(m, entries, r.warnings);
    export_detail::Namer names({64, "-_", {}, {}, false, ""});

    // One endpoint identity group and authorization profile per role and VLAN.
    std::map<std::pair<std::string, uint16_t>, IseGroup> groups;
    for (const auto& e : entries) {
        auto key = std::make_pair(e.device->role, e.vlan);
        IseGroup& g = groups[key];
        if (g.name.empty()) {
            g = {e.device->role, e.vlan, e.vlan_from,
                 names(e.device->role + "/" + std::to_string(e.vlan), fmt::format("wardgate-{}-vlan{}", e.device->role, e.vlan)),
                 0};
        } else if (g.vlan_from != e.vlan_from) {
            g.vlan_from += ", " + e.vlan_from;
        }
        ++g.devices;
    }

    View header = make_object();
    header.set("site", site.name);
    header.set("version", std::string(WARDGATE_VERSION));

    // endpoints.csv
    View endpoints = make_list();
    for (const auto& e : entries) {
        const IseGroup& g = groups.at({e.device->role, e.vlan});
        View item = make_object();
        item.set("mac", nac_mac_upper_colons(e.device->mac));
        item.set("group", csv_field(g.name));
        item.set("description", csv_field(export_detail::one_line(
                                    fmt::format("wardgate: {}; role {}; {}; VLAN {} of {}", e.device->name, e.device->role,
                                                to_string(e.device->lifecycle), e.vlan, e.vlan_from),
                                    1000)));
        endpoints.push_back(item);
    }
    View csv_view = header;
    csv_view.set("endpoints", endpoints);
    r.files.push_back({"ise/endpoints.csv", export_detail::render_template(dir, "endpoints.csv.mustache", csv_view)});

    // Downloadable ACLs: per role and family.
    for (const auto& a : acls) {
        for (const PortAcl* acl : {&a.v4, &a.v6}) {
            const bool v4 = acl->family == Family::v4;
            std::string name = nac_acl_name(a.role) + (v4 ? "" : "-v6");
            std::string text = ise_dacl_text(*acl);
            View v = header;
            v.set("name", ise_json(name));
            v.set("description", ise_json(export_detail::one_line(
                                     fmt::format("wardgate: what devices of role {} may send ({}), {} entries", a.role,
                                                 v4 ? "IPv4" : "IPv6", std::count(text.begin(), text.end(), '\n') + 1),
                                     240)));
            v.set("dacl", ise_json(text));
            v.set("dacl_type", ise_json(v4 ? "IPV4" : "IPV6"));
            r.files.push_back({"ise/downloadableacl/" + name + ".json",
                               export_detail::render_template(dir, "downloadableacl.json.mustache", v)});
        }
    }

    // Endpoint identity groups and authorization profiles.
    std::vector<ExportFile> profiles;
    View rules = make_list();
    for (const auto& entry : groups) {
        const IseGroup& g = entry.second;
        View v = header;
        v.set("name", ise_json(g.name));
        v.set("description", ise_json(export_detail::one_line(
                                 fmt::format("wardgate: role {}, VLAN {} ({}), {} device{}", g.role, g.vlan, g.vlan_from,
                                             g.devices, g.devices == 1 ? "" : "s"),
                                 240)));
        v.set("vlan", ise_json(std::to_string(g.vlan)));
        v.set("dacl4", ise_json(nac_acl_name(g.role)));
        v.set("dacl6", ise_json(nac_acl_name(g.role) + "-v6"));
        r.files.push_back({"ise/endpointgroup/" + g.name + ".json",
                           export_detail::render_template(dir, "endpointgroup.json.mustache", v)});
        profiles.push_back({"ise/authorizationprofile/" + g.name + ".json",
                            export_detail::render_template(dir, "authorizationprofile.json.mustache", v)});
        View rule = make_object();
        rule.set("name", g.name);
        rule.set("role", nac_comment_text(g.role));
        rule.set("vlan", std::to_string(g.vlan));
        rule.set("vlan_from", g.vlan_from);
        rule.set("dacl4", nac_acl_name(g.role));
        rule.set("dacl6", nac_acl_name(g.role) + "-v6");
        rules.push_back(rule);
    }
    const bool reject = !site.nac.quarantine_vlan.has_value();
    if (!reject) {
        View v = header;
        v.set("quarantine_vlan", ise_json(std::to_string(*site.nac.quarantine_vlan)));
        profiles.push_back({"ise/authorizationprofile/wardgate-quarantine.json",
                            export_detail::render_template(dir, "quarantine.json.mustache", v)});
    }
    r.files.insert(r.files.end(), profiles.begin(), profiles.end());

    View policy = header;
    policy.set("rules", rules);
    policy.set("reject_unknown", reject);
    policy.set("quarantine_vlan", reject ? std::string() : std::to_string(*site.nac.quarantine_vlan));
    r.files.push_back(
        {"ise/authorization-policy.txt", export_detail::render_template(dir, "authorization-policy.txt.mustache", policy)});
    return r;
}

}  // namespace wardgate::nac_detail
