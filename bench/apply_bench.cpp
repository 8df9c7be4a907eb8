// wardgate-bench-apply: how long the kernel side of `wardgate apply` takes, against
// `nft -f` of the same ruleset text, inside whatever network namespace it runs in.
//
//   wardgate-bench-apply SITE [--update SITE2] [--repeat N] [--today YYYY-MM-DD]
//
//   full:   the whole table replaced: `nft -f` of the printed ruleset vs apply_ruleset()
//           with the same objects (encoding, batch, commit); best of N each, alternating.
//   update: SITE2 differs from SITE by one device: apply_ruleset() of SITE2 after SITE,
//           which sends the element delta (best of N; the table is put back in between).
// Prints "key value" lines for scripts/bench-gateway.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
namespace fs = std::filesystem;

namespace {

double ms_of(const std::function<void()>& fn) {
    auto t = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

nft::Ruleset ruleset_of(const std::string& site, const std::string& today) {
    PipelineOptions o;
    o.today = today.empty() ? today_utc() : *parse_date(today);
    return nft::lower_policy(run_pipeline(site, o).policy);
}

size_t elements_of(const nft::Ruleset& r) {
    size_t n = 0;
    for (const auto& s : r.sets) n += s.elements.size();
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Times wardgate's netlink apply against nft -f of the same ruleset"};
    std::string site, update, today;
    int repeat = 3;
    app.add_option("site", site, "Site directory")->required()->check(CLI::ExistingDirectory);
    app.add_option("--update", update, "The same site with one device more")->check(CLI::ExistingDirectory);
    app.add_option("--repeat", repeat, "Runs of each measurement (the best counts)")->check(CLI::PositiveNumber);
    app.add_option("--today", today, "Day approvals expire against");
    CLI11_PARSE(app, argc, argv);

    try {
        nft::Ruleset rs = ruleset_of(site, today);
        fs::path script = fs::temp_directory_path() / fmt::format("wardgate-bench-apply-{}.nft", getpid());
        std::ofstream(script) << nft::print_ruleset(rs);
        std::string nft_cmd = "nft -f " + script.string();
        size_t rules = 0;
        for (const auto& c : rs.chains) rules += c.rules.size();
        fmt::print("elements {}\nrules {}\n", elements_of(rs), rules);

        netlink::ApplyOptions full;
        full.allow_incremental = false;
        full.reuse_last_commit = false;
        double best_nft = std::numeric_limits<double>::max(), best_wg = best_nft;
        size_t messages = 0;
        for (int i = 0; i < repeat; ++i) {
            best_nft = std::min(best_nft, ms_of([&] {
                                    if (std::system(nft_cmd.c_str()) != 0) throw std::runtime_error("nft -f failed");
                                }));
            best_wg = std::min(best_wg, ms_of([&] { messages = netlink::apply_ruleset(rs, full).messages; }));
        }
        fs::remove(script);
        fmt::print("full_nft_ms {:.1f}\nfull_wardgate_ms {:.1f}\nfull_messages {}\nfull_ratio {:.2f}\n", best_nft, best_wg,
                   messages, best_wg / best_nft);

        if (!update.empty()) {
            nft::Ruleset rs2 = ruleset_of(update, today);
            double best = std::numeric_limits<double>::max(), best_read = best;
            netlink::ApplyResult r;
            netlink::ApplyOptions read_back;
            read_back.reuse_last_commit = false;
            for (int i = 0; i < repeat; ++i) {
                netlink::apply_ruleset(rs);  // back to SITE (itself a one-device delta after the first run)
                best = std::min(best, ms_of([&] { r = netlink::apply_ruleset(rs2); }));
                if (!r.incremental || r.read_back) throw std::runtime_error("the update was not an element delta from the last commit");
                netlink::apply_ruleset(rs);
                best_read = std::min(best_read, ms_of([&] { netlink::apply_ruleset(rs2, read_back); }));
            }
            fmt::print("update_ms {:.2f}\nupdate_elements_added {}\nupdate_elements_removed {}\nupdate_messages {}\n"
                       "update_read_back_ms {:.1f}\n",
                       best, r.elements_added, r.elements_removed, r.messages, best_read);
        }
        netlink::remove_table();
    } catch (const std::exception& e) {
        fmt::print(stderr, "wardgate-bench-apply: {}\n", e.what());
        return 1;
    }
    return 0;
}
