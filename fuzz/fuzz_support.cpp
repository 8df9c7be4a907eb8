#include "fuzz_support.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/site/inventory_patch.hpp"
#include "wardgate/site/load.hpp"

namespace wardgate::fuzz {

namespace {

// tests/data/fuzz-site: small, valid, and using every site file kind.
const std::filesystem::path kTemplate = std::filesystem::path(WARDGATE_SOURCE_DIR) / "tests/data/fuzz-site";

std::filesystem::path make_base_site() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wardgate-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    static std::filesystem::path made;
    made = pattern;
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(made, ec);
    });
    return made;
}

void write_file(const std::filesystem::path& path, const char* data, size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(size));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

const std::filesystem::path& base_site() {
    static const std::filesystem::path dir = [] {
        auto d = make_base_site();
        std::filesystem::copy(kTemplate, d, std::filesystem::copy_options::recursive |
                                                 std::filesystem::copy_options::overwrite_existing);
        return d;
    }();
    return dir;
}

void load_site_with(const std::string& relative, const uint8_t* data, size_t size) {
    write_file(base_site() / relative, reinterpret_cast<const char*>(data), size);
    try {
        // A site that loads can be patched: every device moved to the first segment, which
        // finds its segment and addresses again in the file just read (toml++ source
        // positions, CSV field spans) and rewrites them.
        const Site site = load_site(base_site());
        std::vector<DeviceEdit> edits;
        for (const auto& d : site.devices)
            edits.push_back({d.name, site.segments.empty() ? d.segment : site.segments.front().name, d.addresses});
        (void)inventory_patch(site, edits);
    } catch (const InputError&) {
    }
}

void show_times(const FlowRecord& record) {
    (void)iso_time(record.start);
    (void)iso_time(record.start + record.duration);
}

void show_times(const Aggregator& edges) {
    for (const auto& e : edges.edges()) {
        (void)iso_time(e.stats.first_seen);
        (void)iso_time(e.stats.last_seen);
    }
}

}  // namespace wardgate::fuzz
