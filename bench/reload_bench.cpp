// wardgate-bench-reload: where the service's reload after an inventory edit goes, stage by
// stage, with the caches `serve` keeps (device blocks, flow files and their classification)
// against the same pipeline without them, in one process.
//
//   wardgate-bench-reload SITE DEVICES_B [--gateway NAME] [--repeat N]
//
// Each load is followed by what serve does before the kernel: the policy lowered to nftables
// objects and its version computed (the "lowering" stage).
// SITE/devices.toml is swapped with DEVICES_B (by rename) between loads, N times each way;
// both are put back as they were. Prints "key value" lines: the median of each stage, cached
// and fresh, and their ratio. Stops with an error when the two loads of one edit give different
// policy versions.
#include <CLI/CLI.hpp>
#include <malloc.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/service/status.hpp"

using namespace wardgate;
namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Swaps two files' contents by renaming through a third name.
void swap_files(const fs::path& a, const fs::path& b) {
    fs::path t = a;
    t += ".swap";
    fs::rename(a, t);
    fs::rename(b, a);
    fs::rename(t, b);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Stage times of a reload after an inventory edit, with and without serve's caches"};
    std::string site, other, gateway;
    int repeat = 5;
    bool no_fresh = false;
    app.add_option("site", site, "Site directory")->required()->check(CLI::ExistingDirectory);
    app.add_option("devices", other, "Another devices.toml for the site (one device more, say)")->required()->check(CLI::ExistingFile);
    app.add_option("--gateway", gateway, "Compile this gateway's slice");
    app.add_option("--repeat", repeat, "Loads each way");
    app.add_flag("--no-fresh", no_fresh, "Only the loads with the caches (for a profiler)");
    CLI11_PARSE(app, argc, argv);

    // As serve sets it: large blocks from the heap, kept there between reloads.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    const fs::path devices = fs::path(site) / "devices.toml";
    PipelineOptions fresh;
    fresh.today = today_utc();
    fresh.gateway = gateway;
    SiteLoadCache site_cache;
    FlowReadCache flow_cache;
    PipelineOptions cached = fresh;
    cached.site_cache = &site_cache;
    cached.flow_cache = &flow_cache;
    CompileMemo compile_memo;
    cached.compile_memo = &compile_memo;
    nft::SetDigests digests;
    std::optional<Pipeline> previous[2];
    previous[0] = run_pipeline(site, cached);  // what serve has before the first edit

    std::map<std::string, std::vector<double>> times[2];  // [cached, fresh] stage -> ms
    std::vector<std::string> order;
    std::string cached_version;
    for (int i = 0; i < 2 * repeat; ++i) {  // an even number of swaps: the files end as they began
        swap_files(devices, other);
        for (int c = 0; c < (no_fresh ? 1 : 2); ++c) {
            site_cache.parsed = site_cache.reused = 0;
            auto start = std::chrono::steady_clock::now();
            Pipeline p = run_pipeline(site, c == 0 ? cached : fresh);
            // Then, as serve does, the policy lowered to the kernel's objects and its version.
            const auto lowering = std::chrono::steady_clock::now();
            const auto version = service::policy_version(nft::lower_policy(p.policy), c == 0 ? &digests : nullptr);
            const auto end = std::chrono::steady_clock::now();
            p.stages.push_back({"lowering", std::chrono::duration<double, std::milli>(end - lowering).count()});
            double total = std::chrono::duration<double, std::milli>(end - start).count();
            if (version.empty()) return 1;
            // The caches must not change the outcome: both loads of one edit give one version.
            if (c == 0) {
                cached_version = version;
                times[0]["baseline_judged"].push_back(static_cast<double>(compile_memo.baseline.judged));
                times[0]["groups_built"].push_back(static_cast<double>(compile_memo.groups.missed()));
                times[0]["sets_hashed"].push_back(static_cast<double>(digests.missed()));
            } else if (version != cached_version) {
                fmt::print(stderr, "the cached load's policy ({}) differs from the fresh load's ({})\n", cached_version, version);
                return 2;
            }
            // As serve does, the previous pipeline goes once the new one is in place.
            previous[c] = std::move(p);
            flow_cache.release_retired();
            if (c == 0) times[0]["blocks_parsed"].push_back(static_cast<double>(site_cache.parsed));
            for (const auto& s : previous[c]->stages) {
                if (i == 0 && c == 0) order.push_back(s.stage);
                times[c][s.stage].push_back(s.ms);
            }
            times[c]["total"].push_back(total);
        }
    }
    order.push_back("total");
    fmt::print("devices_blocks_parsed {:.0f}\n", median(times[0]["blocks_parsed"]));
    fmt::print("baseline_edges_judged {:.0f} of {}\n", median(times[0]["baseline_judged"]), previous[0]->edges.size());
    fmt::print("groups_built {:.0f} of {}\n", median(times[0]["groups_built"]), compile_memo.groups.size());
    fmt::print("sets_hashed {:.0f} of {}\n", median(times[0]["sets_hashed"]), digests.size());
    for (const auto& stage : order) {
        double c = median(times[0][stage]), f = median(times[1][stage]);
        fmt::print("{}_cached_ms {:.1f}\n{}_fresh_ms {:.1f}\n{}_ratio {:.2f}\n", stage, c, stage, f, stage, f > 0 ? c / f : 0);
    }
    return 0;
}
