#include <algorithm>

#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

static void load_profile(Site& site, const std::string& file, Diagnostics& diags) {
    auto root = parse_toml(site.dir / file, file, diags);
    if (!root) return;
    TableFields top(*root, file, "", diags);
    top.reject_unknown({"vendor", "model", "source", "flow"});
    Profile p;
    p.origin = {file, 1};
    p.vendor = top.string("vendor", true).value_or("");
    p.model = top.string("model", true).value_or("");
    p.source = top.string("source", false).value_or(file);
    for_each_table(*root, "flow", file, diags, [&](const toml::table& t) {
        TableFields f(t, file, "flow", diags);
        f.reject_unknown({"direction", "peer", "dns_name", "protocol", "ports", "purpose", "required"});
        DeclaredFlow flow;
        flow.origin = f.origin();
        auto dir = f.choice<Direction>("direction", true, parse_direction, "device-initiated or peer-initiated");
        auto peer = f.peer("peer", true);
        auto svc = f.service(true);
        flow.purpose = f.string("purpose", false).value_or("");
        flow.required = f.boolean("required", true);
        flow.dns_name = f.string("dns_name", false).value_or("");
        if (dir && peer && svc) {
            flow.direction = *dir;
            flow.peer = *peer;
            flow.service = *svc;
            p.flows.push_back(std::move(flow));
        }
    });
    if (const Profile* other = site.find_profile(p.vendor, p.model)) {
        diags.add(file, 1, 0, "model", "a profile for " + p.label() + " already exists in " + other->origin.file);
        return;
    }
    site.profiles.push_back(std::move(p));
}

void load_profiles(Site& site, const std::string& dir, Diagnostics& diags) {
    auto path = site.dir / dir;
    if (!std::filesystem::is_directory(path)) return;  // a site may have no profiles yet
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(path))
        if (entry.is_regular_file() && entry.path().extension() == ".toml")
            files.push_back((std::filesystem::path(dir) / entry.path().filename()).string());
    std::sort(files.begin(), files.end());  // directory order is not stable
    for (const auto& f : files) load_profile(site, f, diags);
}

}  // namespace wardgate::site_detail
