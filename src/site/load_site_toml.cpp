#include <algorithm>
#include <cctype>

#include "load_mud.hpp"
#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

// The name of wardgate's catch-all zone (chains accept_outside/drop_outside, the exports'
// outside interface): a segment of that name would share them.
constexpr const char* kReservedSegmentName = "outside";

static void load_segment(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags) {
    TableFields f(t, file, "segment", diags);
    f.reject_unknown({"name", "kind", "vlan", "ipv4", "ipv6", "gateway4", "gateway6", "monitor", "description"});
    Segment s;
    s.origin = f.origin();
    s.name = f.string("name", true).value_or("");
    if (!s.name.empty() && !valid_name(s.name))
        f.error("name", "\"" + s.name + "\" may only hold a-z, 0-9, '-' and '_' (it names chains and log prefixes)");
    if (s.name == kReservedSegmentName)
        f.error("name", "\"" + s.name + "\" is reserved: wardgate's own chains, counters and export zones for traffic "
                        "in no segment use it; give the segment another name");
    s.kind = f.choice<SegmentKind>("kind", true, parse_segment_kind,
                                   "devices, servers, workstations, management or external")
                 .value_or(SegmentKind::devices);
    if (auto vlan = f.integer("vlan", false, 1, 4094)) s.vlan = static_cast<uint16_t>(*vlan);
    for (auto& p : f.prefixes("ipv4", false)) {
        if (p.family() != Family::v4) f.error("ipv4", p.to_string() + " is not an IPv4 prefix");
        s.subnets.push_back(p);
    }
    for (auto& p : f.prefixes("ipv6", false)) {
        if (p.family() != Family::v6) f.error("ipv6", p.to_string() + " is not an IPv6 prefix");
        s.subnets.push_back(p);
    }
    if (s.subnets.empty() && !t.contains("ipv4") && !t.contains("ipv6"))
        f.error("ipv4", "a segment needs at least one subnet (ipv4 or ipv6)");
    for (const char* key : {"gateway4", "gateway6"}) {
        auto gw = f.address(key);
        if (!gw) continue;
        bool inside = std::any_of(s.subnets.begin(), s.subnets.end(), [&](const Prefix& p) { return p.contains(*gw); });
        if (!inside) f.error(key, gw->to_string() + " is not inside the segment's subnets");
        s.gateways.push_back(*gw);
    }
    s.monitor = f.boolean("monitor", false);
    s.description = f.string("description", false).value_or("");
    site.segments.push_back(std::move(s));
}

// [export.asa] interfaces = { icu = "GigabitEthernet0/1.110", outside = "GigabitEthernet0/0" }
static void load_exports(Site& site, const toml::node& node, const std::string& file, Diagnostics& diags) {
    const auto* targets = node.as_table();
    if (!targets) {
        diags.add(file, static_cast<int>(node.source().begin.line), 0, "export", "expected tables [export.TARGET]");
        return;
    }
    for (const auto& [target, table_node] : *targets) {
        const int line = static_cast<int>(table_node.source().begin.line);
        const std::string where = "export." + std::string(target.str());
        const auto* table = table_node.as_table();
        if (!table) {
            diags.add(file, line, 0, where, "expected a table [" + where + "]");
            continue;
        }
        TableFields f(*table, file, where, diags);
        f.reject_unknown({"interfaces"});
        Site::ExportInterfaces out{std::string(target.str()), line, {}};
        if (const auto* map_node = table->get("interfaces")) {
            const auto* map = map_node->as_table();
            if (!map) {
                diags.add(file, static_cast<int>(map_node->source().begin.line), 0, where + ".interfaces",
                          "expected a table of KEY = \"interface\" (a segment, outside or trunk)");
                continue;
            }
            for (const auto& [key, value] : *map) {
                const int at = static_cast<int>(value.source().begin.line);
                const std::string name(key.str());
                const auto* text = value.as_string();
                if (!text || text->get().empty()) {
                    diags.add(file, at, 0, where + ".interfaces." + name, "expected the interface's name as a string");
                    continue;
                }
                if (name != "outside" && name != "trunk" && !site.find_segment(name)) {
                    std::vector<std::string> known{"outside", "trunk"};
                    for (const auto& seg : site.segments) known.push_back(seg.name);
                    auto hint = nearest(name, known);
                    diags.add(file, at, 0, where + ".interfaces." + name,
                              "\"" + name + "\" is neither a segment nor outside or trunk" +
                                  (hint ? " (did you mean \"" + *hint + "\"?)" : ""));
                    continue;
                }
                out.interfaces[name] = text->get();
            }
        }
        site.exports.push_back(std::move(out));
    }
}

// [nac] quarantine_vlan = 999, or unknown = "reject": what a MAC no device has gets.
static void load_nac(Site& site, const toml::node& node, const std::string& file, Diagnostics& diags) {
    const auto* t = node.as_table();
    if (!t) {
        diags.add(file, static_cast<int>(node.source().begin.line), 0, "nac", "expected a table [nac]");
        return;
    }
    TableFields f(*t, file, "nac", diags);
    f.reject_unknown({"unknown", "quarantine_vlan"});
    site.nac.configured = true;
    site.nac.origin = f.origin();
    auto unknown = f.string("unknown", false);
    if (auto vlan = f.integer("quarantine_vlan", false, 1, 4094)) site.nac.quarantine_vlan = static_cast<uint16_t>(*vlan);
    if (unknown && *unknown != "reject" && *unknown != "quarantine")
        f.error("unknown", "expected reject or quarantine, got \"" + *unknown + "\"");
    else if (unknown == "reject" && t->contains("quarantine_vlan"))
        f.error("unknown", "unknown = \"reject\" and a quarantine_vlan contradict each other: keep one");
    else if (unknown != "reject" && !t->contains("quarantine_vlan"))
        f.error("quarantine_vlan", "unknown MACs need a quarantine_vlan, or unknown = \"reject\"");
}

static void load_endpoint(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags) {
    TableFields f(t, file, "endpoint", diags);
    f.reject_unknown({"name", "kind", "role", "addresses", "vendor", "description", "dns_names", "tags"});
    Endpoint e;
    e.origin = f.origin();
    e.name = f.string("name", true).value_or("");
    e.kind = f.string("kind", true).value_or("server");
    // "internet" is the one kind with a meaning of its own: everything outside the site.
    if (!valid_name(e.kind))
        f.error("kind", "\"" + e.kind + "\" may only hold a-z, 0-9, '-' and '_'" +
                            (name_distance(e.kind, "internet") <= 1 ? " (did you mean \"internet\"?)" : ""));
    else if (e.kind != "internet" && name_distance(e.kind, "internet") <= 1)
        warn(site, file, e.origin.line, "endpoint.kind",
             "endpoint \"" + e.name + "\" has kind \"" + e.kind +
                 "\", not \"internet\": it stands for its own addresses only, not for everything outside the site");
    e.role = f.string("role", false).value_or(e.kind);
    // Without addresses, the endpoint's addresses are what its dns_names resolve to.
    e.prefixes = f.prefixes("addresses", !t.contains("dns_names"));
    e.vendor = f.string("vendor", false).value_or("");
    e.description = f.string("description", false).value_or("");
    e.dns_names = f.strings("dns_names", false);
    e.tags = f.strings("tags", false);
    for (const auto& tag : e.tags)
        if (!valid_name(tag)) f.error("tags", "\"" + tag + "\" may only hold a-z, 0-9, '-' and '_'");
    for (auto& n : e.dns_names) {
        bool ok = !n.empty() && n.size() <= 253 && std::all_of(n.begin(), n.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
        });
        if (!ok) f.error("dns_names", "\"" + n + "\" is not a DNS name");
    }
    if (!t.contains("addresses") && t.contains("dns_names") && e.dns_names.empty())
        f.error("dns_names", "an endpoint without addresses needs at least one DNS name");
    site.endpoints.push_back(std::move(e));
}

SiteFiles load_site_toml(Site& site, Diagnostics& diags) {
    const std::string file = "site.toml";
    SiteFiles files;
    auto root = parse_toml(site.dir / file, file, diags);
    if (!root) return files;
    TableFields top(*root, file, "", diags);
    top.reject_unknown({"site", "segment", "gateway", "endpoint", "mud", "export", "nac"});
    if (auto* meta = (*root)["site"].as_table()) {
        TableFields f(*meta, file, "site", diags);
        f.reject_unknown({"name", "devices", "profiles", "policy", "flows", "mode", "log_drops", "log_group", "nameserver",
                          "dns_min_ttl", "dns_max_ttl", "dns_grace"});
        site.name = f.string("name", true).value_or("");
        auto line_of = [&](std::string_view key) {
            auto* node = meta->get(key);
            return node ? static_cast<int>(node->source().begin.line) : 0;
        };
        auto refs = [&](std::string_view key) {
            std::vector<FileRef> out;
            auto paths = f.strings(key, true);
            auto* arr = (*meta)[key].as_array();
            for (size_t i = 0; i < paths.size(); ++i) {
                int line = arr && i < arr->size() ? static_cast<int>((*arr)[i].source().begin.line) : line_of(key);
                out.push_back({paths[i], line, "site." + std::string(key)});
            }
            return out;
        };
        auto ref = [&](std::string_view key, FileRef fallback) {
            if (auto path = f.string(key, false)) return FileRef{*path, line_of(key), "site." + std::string(key)};
            return fallback;
        };
        if (meta->contains("devices")) files.devices = refs("devices");
        files.profiles = ref("profiles", files.profiles);
        files.policy = ref("policy", files.policy);
        if (meta->contains("flows")) files.flows = refs("flows");
        auto mode = f.string("mode", false).value_or("enforce");
        if (mode == "monitor") {
            site.mode = EnforcementMode::monitor;
        } else if (mode != "enforce") {
            f.error("mode", "expected enforce or monitor, got \"" + mode + "\"");
        }
        site.log_drops = f.boolean("log_drops", true);
        site.log_group = static_cast<uint16_t>(f.integer("log_group", false, 0, 65535).value_or(0));
        site.dns.nameserver = f.string("nameserver", false).value_or("");
        constexpr int64_t kWeek = 7 * 86400;
        site.dns.min_ttl = static_cast<uint32_t>(f.integer("dns_min_ttl", false, 1, kWeek).value_or(site.dns.min_ttl));
        site.dns.max_ttl = static_cast<uint32_t>(f.integer("dns_max_ttl", false, 1, kWeek).value_or(site.dns.max_ttl));
        site.dns.grace = static_cast<uint32_t>(f.integer("dns_grace", false, 0, kWeek).value_or(site.dns.grace));
        if (site.dns.min_ttl > site.dns.max_ttl) f.error("dns_min_ttl", "is larger than dns_max_ttl");
    } else {
        diags.add(file, 0, 0, "site", "missing [site] table");
    }
    for_each_table(*root, "segment", file, diags, [&](const toml::table& t) { load_segment(site, t, file, diags); });
    load_gateways(site, *root, file, diags);
    for_each_table(*root, "endpoint", file, diags, [&](const toml::table& t) { load_endpoint(site, t, file, diags); });
    for_each_table(*root, "mud", file, diags, [&](const toml::table& t) { read_mud_reference(site, t, file, diags); });
    if (auto* node = root->get("export")) load_exports(site, *node, file, diags);
    if (auto* node = root->get("nac")) load_nac(site, *node, file, diags);
    return files;
}

}  // namespace wardgate::site_detail
