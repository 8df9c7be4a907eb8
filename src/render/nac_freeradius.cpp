// FreeRADIUS (3.x) target of `wardgate nac`: mods-config/files/authorize for the files module and
// policy.d/wardgate, the unlang policy that brings every MAC format to the one the entries use.
// Also the targets' registry and the names every target shares.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "nac_model.hpp"

namespace wardgate {

using export_detail::make_list;
using export_detail::make_object;
using export_detail::View;

const std::vector<std::string>& nac_targets() {
    static const std::vector<std::string> targets{"freeradius", "ios-access", "ise"};
    return targets;
}

bool nac_target_needs_policy(std::string_view target) { return target == "ios-access" || target == "ise"; }

std::string nac_user_name(std::string_view mac) {
    std::string out;
    for (char c : mac)
        if (c != ':') out += c;
    return out;
}

// Switches name access lists with letters, digits, '-', '_' and '.': anything else becomes '-'.
std::string nac_acl_name(std::string_view role) {
    std::string out = "wg-";
    for (char c : role)
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-';
    return out;
}

std::string nac_filter_id(std::string_view role) { return nac_acl_name(role) + ".in"; }

namespace nac_detail {

NacResult render_freeradius(const Site& site, const std::filesystem::path& dir) {
    NacResult r;
    auto entries = nac_entries(site, r.warnings);
    for (const auto& e : entries)
        r.assignments.push_back({e.device->mac, e.device->name, e.vlan, nac_filter_id(e.device->role)});
    View v = make_object();
    v.set("site", site.name);
    View list = make_list();
    for (const auto& e : entries) {
        View item = make_object();
        item.set("device", nac_comment_text(e.device->name));
        item.set("role", nac_comment_text(e.device->role));
        item.set("lifecycle", std::string(to_string(e.device->lifecycle)));
        item.set("user_name", nac_user_name(e.device->mac));
        item.set("vlan", std::to_string(e.vlan));
        item.set("vlan_from", e.vlan_from);
        item.set("filter_id", nac_filter_id(e.device->role));
        list.push_back(item);
    }
    v.set("entries", list);
    v.set("reject_unknown", !site.nac.quarantine_vlan.has_value());
    v.set("quarantine_vlan", site.nac.quarantine_vlan ? std::to_string(*site.nac.quarantine_vlan) : std::string());
    r.files.push_back({"mods-config/files/authorize", export_detail::render_template(dir, "authorize.mustache", v)});
    r.files.push_back({"policy.d/wardgate", export_detail::render_template(dir, "policy.mustache", v)});
    return r;
}

}  // namespace nac_detail

namespace {

void nac_check_target(std::string_view target) {
    if (std::find(nac_targets().begin(), nac_targets().end(), target) == nac_targets().end())
        throw std::invalid_argument("unknown NAC target \"" + std::string(target) +
                                    "\" (known: freeradius, ios-access, ise)");
}

}  // namespace

NacResult render_nac(const Site& site, std::string_view target, const std::filesystem::path& template_dir) {
    nac_check_target(target);
    if (nac_target_needs_policy(target))
        throw std::invalid_argument("NAC target \"" + std::string(target) + "\" needs the compiled policy");
    return nac_detail::render_freeradius(site, template_dir / std::string(target));
}

NacResult render_nac(const Site& site, const Policy& policy, std::string_view target,
                     const std::filesystem::path& template_dir, const NacOptions& options) {
    nac_check_target(target);
    const auto dir = template_dir / std::string(target);
    if (!nac_target_needs_policy(target)) return nac_detail::render_freeradius(site, dir);
    export_detail::Model m(policy);
    if (target == "ios-access") return nac_detail::render_ios_access(site, m, dir, options);
    return nac_detail::render_ise(site, m, dir);
}

}  // namespace wardgate
