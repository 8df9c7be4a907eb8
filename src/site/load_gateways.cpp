#include <algorithm>
#include <set>

#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

namespace gateway_fields {

void load_gateway(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags) {
    TableFields f(t, file, "gateway", diags);
    f.reject_unknown({"name", "segments", "trunk", "description"});
    GatewayDecl g;
    g.origin = f.origin();
    g.name = f.string("name", true).value_or("");
    if (!g.name.empty() && !valid_name(g.name))
        f.error("name", "\"" + g.name + "\" may only hold a-z, 0-9, '-' and '_' (it names the gateway's policy and state)");
    if (!g.name.empty() && site.find_gateway(g.name))
        f.error("name", "gateway \"" + g.name + "\" is declared twice (first at line " +
                            std::to_string(site.find_gateway(g.name)->origin.line) + ")");
    std::set<std::string> seen;
    for (auto& name : f.strings("segments", true)) {
        if (!site.find_segment(name)) {
            std::vector<std::string> known;
            for (const auto& s : site.segments) known.push_back(s.name);
            auto hint = nearest(name, known);
            f.error("segments", "no [[segment]] is named \"" + name + "\"" + (hint ? " (did you mean \"" + *hint + "\"?)" : ""));
        } else if (!seen.insert(name).second) {
            f.error("segments", "\"" + name + "\" is listed twice");
        } else {
            g.segments.push_back(name);
        }
    }
    if (auto trunk = f.string("trunk", false)) {
        if (!is_interface_name(*trunk)) {
            f.error("trunk", not_an_interface_name(*trunk));
        } else {
            // The VLAN links are named <trunk>.<vlan>, and the kernel refuses a name over its limit.
            for (const auto& name : g.segments) {
                const Segment* s = site.find_segment(name);
                const std::string link = s->vlan ? *trunk + "." + std::to_string(*s->vlan) : "";
                if (link.size() > kMaxInterfaceName)
                    f.error("trunk", "segment " + name + "'s VLAN link would be named \"" + link +
                                         "\", longer than the kernel's " + std::to_string(kMaxInterfaceName) +
                                         " bytes: use a shorter trunk name");
            }
        }
        g.trunk = *trunk;
    }
    g.description = f.string("description", false).value_or("");
    site.gateways.push_back(std::move(g));
}

}  // namespace gateway_fields

void load_gateways(Site& site, const toml::table& root, const std::string& file, Diagnostics& diags) {
    for_each_table(root, "gateway", file, diags,
                   [&](const toml::table& t) { gateway_fields::load_gateway(site, t, file, diags); });
    if (site.gateways.empty()) return;
    // Once gateways are declared, a segment none of them routes is enforced nowhere.
    for (const auto& s : site.segments) {
        bool routed = std::any_of(site.gateways.begin(), site.gateways.end(),
                                  [&](const GatewayDecl& g) { return g.routes(s.name); });
        if (!routed)
            warn(site, file, s.origin.line, "segment",
                 "segment " + s.name + " is routed by none of the site's [[gateway]] tables: no gateway's slice of the "
                 "policy enforces its traffic");
    }
}

}  // namespace wardgate::site_detail
