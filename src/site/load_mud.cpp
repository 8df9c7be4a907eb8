#include "load_mud.hpp"

#include <set>

#include "loaders.hpp"
#include "toml_fields.hpp"
#include "wardgate/site/mud.hpp"

namespace wardgate::site_detail {

namespace {

// "KEY = PEER" or "KEY = [PEER, ...]"
std::vector<PeerRef> read_peers(TableFields& f, std::string_view key) {
    std::vector<PeerRef> peers;
    for (const auto& text : f.strings(key, true)) {
        if (auto ref = PeerRef::parse(text)) {
            peers.push_back(*ref);
        } else {
            f.error(key, "expected role:NAME, segment:NAME, endpoint:NAME, device:NAME, cidr:PREFIX, a prefix or any, "
                         "got \"" + text + "\"");
        }
    }
    return peers;
}

// [mud.map]: my-controller = PEER(S), controller."URI" = PEER(S), ...
void read_abstractions(const toml::table& map, const std::string& file, MudMapping& out, Diagnostics& diags) {
    TableFields f(map, file, "mud.map", diags);
    for (const auto& [key, node] : map) {
        std::string kind(key.str());
        if (kind == "my-controller" || kind == "local-networks" || kind == "same-manufacturer") {
            out.abstractions[kind] = read_peers(f, kind);
        } else if (kind == "controller" || kind == "manufacturer" || kind == "model") {
            auto* values = node.as_table();
            if (!values) {
                f.error(kind, "name the " + std::string(kind == "manufacturer" ? "domain" : "URI") + ": " + kind +
                                  ".\"" + (kind == "manufacturer" ? "example.com" : "https://...") + "\" = \"PEER\"");
                continue;
            }
            TableFields vf(*values, file, "mud.map." + kind, diags);
            for (const auto& [value, _] : *values)
                out.abstractions[kind + ":" + std::string(value.str())] = read_peers(vf, value.str());
        } else {
            f.error(kind, "unknown MUD abstraction (expected controller, my-controller, local-networks, "
                          "same-manufacturer, manufacturer or model)");
        }
    }
}

// [mud.dns]: "name.example.com" = PEER(S)
void read_dns(const toml::table& dns, const std::string& file, MudMapping& out, Diagnostics& diags) {
    TableFields f(dns, file, "mud.dns", diags);
    for (const auto& [key, node] : dns) {
        if (node.is_table()) {
            f.error(key.str(), "quote the DNS name, or TOML reads its dots as nested keys: \"" +
                                   std::string(key.str()) + ".example.com\" = \"PEER\"");
            continue;
        }
        out.dns[std::string(key.str())] = read_peers(f, key.str());
    }
}

// The same reference checks validate_site makes, reported at the mapping in site.toml rather than
// at the MUD file the flows came from.
void check_mapped_peers(const Site& site, const MudReference& ref, Diagnostics& diags) {
    std::set<std::string> roles;
    for (const auto& d : site.devices) roles.insert(d.role);
    for (const auto& e : site.endpoints) roles.insert(e.role);
    auto check = [&](const std::string& field, const std::vector<PeerRef>& peers) {
        for (const auto& p : peers) {
            std::string problem;
            if (p.kind == PeerRef::Kind::role && !roles.contains(p.name)) {
                problem = "unknown role \"" + p.name + "\" (no device or endpoint has it)";
            } else if (p.kind == PeerRef::Kind::segment && !site.find_segment(p.name)) {
                problem = "unknown segment \"" + p.name + "\"";
            } else if (p.kind == PeerRef::Kind::endpoint && !site.find_endpoint(p.name)) {
                problem = "unknown endpoint \"" + p.name + "\"";
            } else if (p.kind == PeerRef::Kind::device && !site.find_device(p.name)) {
                problem = "unknown device \"" + p.name + "\"";
            }
            if (!problem.empty()) diags.add(ref.origin.file, ref.origin.line, 0, field, problem);
        }
    };
    for (const auto& [key, peers] : ref.map.abstractions) check("mud.map." + key, peers);
    for (const auto& [name, peers] : ref.map.dns) check("mud.dns." + name, peers);
}

}  // namespace

void read_mud_reference(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags) {
    size_t errors_before = diags.items().size();
    TableFields f(t, file, "mud", diags);
    f.reject_unknown({"file", "vendor", "model", "map", "dns"});
    MudReference ref;
    ref.origin = f.origin();
    ref.file = f.string("file", true).value_or("");
    ref.vendor = f.string("vendor", false).value_or("");
    ref.model = f.string("model", false).value_or("");
    for (const char* key : {"map", "dns"}) {
        auto* node = t.get(key);
        if (!node) continue;
        if (auto* table = node->as_table()) {
            (std::string_view(key) == "map" ? read_abstractions : read_dns)(*table, file, ref.map, diags);
        } else {
            f.error(key, std::string("expected a table ([mud.") + key + "])");
        }
    }
    // A half-read mapping would only add "unmapped" errors for what is already reported.
    if (diags.items().size() == errors_before) site.mud.push_back(std::move(ref));
}

void load_mud_profiles(Site& site, Diagnostics& diags) {
    for (const auto& ref : site.mud) {
        if (ref.file.empty()) continue;
        auto mud = read_mud(site.dir / ref.file, ref.file, diags);
        if (!mud) continue;
        MudTranslateOptions options{ref.file, ref.vendor, ref.model, ref.map};
        // An endpoint that lists a DNS name stands for it unless [mud.dns] says otherwise.
        for (const auto& e : site.endpoints)
            for (const auto& name : e.dns_names)
                options.map.dns.try_emplace(name, std::vector<PeerRef>{PeerRef{PeerRef::Kind::endpoint, e.name, {}}});
        size_t errors_before = diags.items().size();
        MudTranslation t = translate_mud(*mud, options, diags);
        check_mapped_peers(site, ref, diags);
        if (diags.items().size() > errors_before) continue;
        if (const Profile* other = site.find_profile(t.profile.vendor, t.profile.model)) {
            diags.add(ref.origin.file, ref.origin.line, 0, "mud.file",
                      "a profile for " + t.profile.label() + " already exists in " + other->origin.file);
            continue;
        }
        if (t.profile.flows.empty())
            warn(site, ref.file, 0, "",
                 "yields no declared flow (" + std::to_string(t.aces.size()) + " ACEs, none translated): devices of " +
                     t.profile.label() + " get nothing from it; the plan's notes say why each ACE was left out");
        site.profiles.push_back(std::move(t.profile));
    }
}

}  // namespace wardgate::site_detail
