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
        f.reject_unknown({"direction", "peer", "dns_name", "protocol", "ports", "icmp_types", "purpose", "required"});
        DeclaredFlow flow;
        flow.origin = f.origin();
        auto dir = f.choice<Direction>("direction", true, parse_direction, "device-initiated or peer-initiated");
        auto peer = f.peer("peer", true);
        auto svc = f.service(true);
        flow.purpose = f.string("purpose", false).value_or("");
        flow.required = f.boolean("required", true);
        flow.dns_name = f.string("dns_name", false).value_or("");
        if (peer && peer->kind == PeerRef::Kind::any)
            warn(site, file, flow.origin.line, "flow.peer",
                 "the profile for " + p.label() + " declares a flow with peer \"any\": its devices may " +
                     (dir == Direction::peer_initiated ? "be reached from" : "reach") +
                     " every address, inside the site and outside; name the peers if the manufacturer's document does");
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

void load_profiles(Site& site, const FileRef& dir, Diagnostics& diags) {
    auto path = site.dir / dir.path;
    if (!std::filesystem::is_directory(path)) {
        if (dir.named()) {
            diags.add("site.toml", dir.line, 0, dir.field,
                      "\"" + dir.path + "\" " + (std::filesystem::exists(path) ? "is not a directory" : "does not exist") +
                          ": no manufacturer profile would be read");
        } else if (!site.devices.empty()) {
            warn(site, "site.toml", 0, dir.field,
                 "no \"" + dir.path + "\" directory: no manufacturer profile is read, devices get only approved flows");
        }
        return;
    }
    std::vector<std::string> files, ignored;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
        auto rel = (std::filesystem::path(dir.path) / entry.path().filename()).string();
        if (entry.is_regular_file() && entry.path().extension() == ".toml") {
            files.push_back(rel);
        } else if (entry.path().filename().string().front() != '.') {
            ignored.push_back(rel);
        }
    }
    std::sort(files.begin(), files.end());  // directory order is not stable
    std::sort(ignored.begin(), ignored.end());
    for (const auto& f : ignored)
        warn(site, f, 0, "", "not read: profiles are files ending in .toml (MUD files are listed as [[mud]] in site.toml)");
    for (const auto& f : files) load_profile(site, f, diags);
}

}  // namespace wardgate::site_detail
