#include "wardgate/site/load.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "load_mud.hpp"
#include "wardgate/core/csv.hpp"
#include "loaders.hpp"

namespace wardgate {

namespace site_detail {

void warn(Site& site, std::string file, int line, std::string field, std::string message) {
    site.warnings.push_back({std::move(file), line, 0, std::move(field), std::move(message)});
}

// Levenshtein distance, case-insensitive: "GE Heathcare" is one edit from "GE Healthcare".
size_t name_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::optional<std::string> nearest(const std::string& name, const std::vector<std::string>& candidates) {
    std::optional<std::string> best;
    size_t best_d = std::max<size_t>(3, name.size() / 3) + 1;
    for (const auto& c : candidates) {
        size_t d = name_distance(name, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

// A file site.toml names must exist; a default that is missing is fine, as long as it is
// not a directory of the wrong kind.
static bool referenced_file_exists(const Site& site, const FileRef& ref, Diagnostics& diags) {
    std::error_code ec;
    auto status = std::filesystem::status(site.dir / ref.path, ec);
    if (std::filesystem::is_regular_file(status)) return true;
    std::string what = std::filesystem::exists(status) ? "is not a regular file" : "does not exist";
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(site.dir / ref.path, ec)) && !std::filesystem::exists(status))
        what = "is a dangling symbolic link";
    std::vector<std::string> present;
    for (const auto& e : std::filesystem::directory_iterator(site.dir, ec)) present.push_back(e.path().filename().string());
    auto hint = nearest(std::filesystem::path(ref.path).filename().string(), present);
    if (hint && *hint == std::filesystem::path(ref.path).filename().string()) hint.reset();
    diags.add("site.toml", ref.line, 0, ref.field,
              "\"" + ref.path + "\" " + what + (hint ? " (did you mean \"" + *hint + "\"?)" : ""));
    return false;
}

}  // namespace site_detail

Site load_site(const std::filesystem::path& dir, SiteLoadCache* cache) {
    Site site;
    load_site(site, dir, cache, {});
    return site;
}

void load_site(Site& site, const std::filesystem::path& dir, SiteLoadCache* cache,
               const std::function<void()>& while_validating) {
    using namespace site_detail;
    site.dir = std::filesystem::absolute(dir).lexically_normal();
    Diagnostics diags;
    if (cache) cache->reused = cache->parsed = 0;
    if (!std::filesystem::is_directory(site.dir)) throw InputError(Diagnostic{dir.string(), 0, 0, "", "not a directory"});
    SiteFiles files = load_site_toml(site, diags);
    for (const auto& file : files.devices) {
        if (!referenced_file_exists(site, file, diags)) continue;
        if (lower(std::filesystem::path(file.path).extension().string()) == ".csv") {
            load_devices_csv(site, file.path, diags);
        } else {
            load_devices_toml(site, file.path, diags, cache);
        }
    }
    load_profiles(site, files.profiles, diags);
    load_mud_profiles(site, diags);
    load_policy(site, files.policy, diags);
    std::set<std::filesystem::path> seen;
    for (const auto& f : files.flows) {
        if (!referenced_file_exists(site, f, diags)) continue;
        auto path = std::filesystem::weakly_canonical(site.dir / f.path);
        if (!seen.insert(path).second) {
            diags.add("site.toml", f.line, 0, f.field, "flow file \"" + f.path + "\" is listed twice: it would be counted twice");
            continue;
        }
        site.flow_files.push_back(site.dir / f.path);
    }
    // Cross-file checks on half-loaded input would only repeat the same mistakes.
    if (diags.empty()) {
        if (while_validating) while_validating();
        validate_site(site, diags);
    }
    diags.throw_if_any();
}

}  // namespace wardgate
