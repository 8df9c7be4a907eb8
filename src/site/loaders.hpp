#pragma once
// One loader per site file; each adds what it reads to the Site and problems to Diagnostics.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::site_detail {

// A file or folder site.toml names (or the default it falls back to), and where it is named.
struct FileRef {
    std::string path;   // relative to the site directory
    int line = 0;       // in site.toml; 0 for a default
    std::string field;  // site.devices, site.policy...
    bool named() const { return line > 0; }
};

struct SiteFiles {
    std::vector<FileRef> devices{{"devices.toml", 0, "site.devices"}};
    FileRef profiles{"profiles", 0, "site.profiles"};
    FileRef policy{"policy.toml", 0, "site.policy"};
    std::vector<FileRef> flows;
};

// [a-z0-9_-]+: names that become chain, group and log-prefix names.
bool valid_name(std::string_view name);
// A warning travels with the site to check and plan.
void warn(Site& site, std::string file, int line, std::string field, std::string message);
// Edits (case-insensitive) that turn one name into the other.
size_t name_distance(const std::string& a, const std::string& b);
// The name in `candidates` closest to `name` (edit distance, ignoring case), if any is close.
std::optional<std::string> nearest(const std::string& name, const std::vector<std::string>& candidates);

SiteFiles load_site_toml(Site& site, Diagnostics& diags);
void load_devices_toml(Site& site, const std::string& file, Diagnostics& diags, SiteLoadCache* cache);
// devices.toml block by block (device_blocks.cpp): false when the file must be read whole.
// On true the cache has taken `text`.
bool load_device_blocks(Site& site, const std::string& file, std::string& text, Diagnostics& diags, SiteLoadCache& cache);
// After a whole read without errors: the devices from `first` on, by their blocks; takes `text`.
void remember_device_blocks(const Site& site, size_t first, const std::string& file, std::string&& text, SiteLoadCache& cache);
void load_devices_csv(Site& site, const std::string& file, Diagnostics& diags);
void load_profiles(Site& site, const FileRef& dir, Diagnostics& diags);
void load_policy(Site& site, const FileRef& file, Diagnostics& diags);
// Cross-file checks: names, addresses, references.
void validate_site(Site& site, Diagnostics& diags);

}  // namespace wardgate::site_detail
