#pragma once
// One loader per site file; each adds what it reads to the Site and problems to Diagnostics.
#include <filesystem>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::site_detail {

struct SiteFiles {
    std::vector<std::string> devices{"devices.toml"};
    std::string profiles = "profiles";
    std::string policy = "policy.toml";
    std::vector<std::string> flows;
};

SiteFiles load_site_toml(Site& site, Diagnostics& diags);
void load_devices_toml(Site& site, const std::string& file, Diagnostics& diags);
void load_devices_csv(Site& site, const std::string& file, Diagnostics& diags);
void load_profiles(Site& site, const std::string& dir, Diagnostics& diags);
void load_policy(Site& site, const std::string& file, Diagnostics& diags);
// Cross-file checks: names, addresses, references.
void validate_site(const Site& site, Diagnostics& diags);

}  // namespace wardgate::site_detail
