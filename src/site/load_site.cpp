#include "wardgate/site/load.hpp"

#include "load_mud.hpp"
#include "loaders.hpp"

namespace wardgate {

Site load_site(const std::filesystem::path& dir) {
    using namespace site_detail;
    Site site;
    site.dir = std::filesystem::absolute(dir).lexically_normal();
    Diagnostics diags;
    if (!std::filesystem::is_directory(site.dir)) throw InputError(Diagnostic{dir.string(), 0, 0, "", "not a directory"});
    SiteFiles files = load_site_toml(site, diags);
    for (const auto& file : files.devices) {
        if (file.ends_with(".csv")) {
            load_devices_csv(site, file, diags);
        } else {
            load_devices_toml(site, file, diags);
        }
    }
    load_profiles(site, files.profiles, diags);
    load_mud_profiles(site, diags);
    load_policy(site, files.policy, diags);
    for (const auto& f : files.flows) {
        auto path = site.dir / f;
        if (!std::filesystem::exists(path)) diags.add("site.toml", 0, 0, "site.flows", "flow file \"" + f + "\" not found");
        site.flow_files.push_back(path);
    }
    // Cross-file checks on half-loaded input would only repeat the same mistakes.
    if (diags.empty()) validate_site(site, diags);
    diags.throw_if_any();
    return site;
}

}  // namespace wardgate
