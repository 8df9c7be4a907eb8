// FreeRADIUS (3.x) target of `wardgate nac`: mods-config/files/authorize for the files module and
// policy.d/wardgate, the unlang policy that brings every MAC format to the one the entries use.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "export_common.hpp"
#include "wardgate/render/nac.hpp"

namespace wardgate {

using export_detail::make_list;
using export_detail::make_object;
using export_detail::View;

const std::vector<std::string>& nac_targets() {
    static const std::vector<std::string> targets{"freeradius"};
    return targets;
}

std::string nac_user_name(std::string_view mac) {
    std::string out;
    for (char c : mac)
        if (c != ':') out += c;
    return out;
}

// Switches name access lists with letters, digits, '-', '_' and '.': anything else becomes '-'.
std::string nac_filter_id(std::string_view role) {
    std::string out = "wg-";
    for (char c : role)
        out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-';
    return out;
}

namespace {

// Names go into comment lines: a line break would end the comment.
std::string nac_comment_text(std::string_view text) {
    std::string out(text);
    std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return out;
}

struct NacEntry {
    const Device* device;
    uint16_t vlan;
    std::string vlan_from;  // "segment icu" or "stance end-of-support"
};

std::vector<NacEntry> nac_entries(const Site& site, std::vector<std::string>& warnings) {
    std::vector<const Device*> devices;
    for (const auto& d : site.devices) devices.push_back(&d);
    std::sort(devices.begin(), devices.end(), [](const Device* a, const Device* b) { return a->name < b->name; });
    std::vector<NacEntry> out;
    for (const Device* d : devices) {
        if (d->mac.empty()) {
            warnings.push_back("device \"" + d->name + "\" has no MAC: no entry, it is treated as an unknown device");
            continue;
        }
        if (auto vlan = site.stance(d->lifecycle).vlan) {
            out.push_back({d, *vlan, "stance " + std::string(to_string(d->lifecycle))});
            continue;
        }
        const Segment* seg = site.find_segment(d->segment);
        if (!seg || !seg->vlan) {
            warnings.push_back("device \"" + d->name + "\": segment \"" + d->segment +
                               "\" has no VLAN: no entry, it is treated as an unknown device");
            continue;
        }
        out.push_back({d, *seg->vlan, "segment " + seg->name});
    }
    return out;
}

View freeradius_view(const Site& site, const std::vector<NacEntry>& entries) {
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
    return v;
}

}  // namespace

NacResult render_nac(const Site& site, std::string_view target, const std::filesystem::path& template_dir) {
    if (std::find(nac_targets().begin(), nac_targets().end(), target) == nac_targets().end())
        throw std::invalid_argument("unknown NAC target \"" + std::string(target) + "\" (known: freeradius)");
    NacResult r;
    auto entries = nac_entries(site, r.warnings);
    for (const auto& e : entries)
        r.assignments.push_back({e.device->mac, e.device->name, e.vlan, nac_filter_id(e.device->role)});
    View v = freeradius_view(site, entries);
    const auto dir = template_dir / std::string(target);
    r.files.push_back({"mods-config/files/authorize", export_detail::render_template(dir, "authorize.mustache", v)});
    r.files.push_back({"policy.d/wardgate", export_detail::render_template(dir, "policy.mustache", v)});
    return r;
}

}  // namespace wardgate
