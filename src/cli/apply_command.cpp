// wardgate apply: compile, show the plan, install the ruleset in one nf_tables transaction.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>

#include "common.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/status.hpp"

namespace wardgate::cli {

namespace {

constexpr int kExitApplied = 0, kExitError = 1, kExitDryRunChanges = 2;
// Lets the next run send only changed set elements without reading the table back. One
// file per network namespace (named by its inode), so namespaces never share a record.
std::string commit_record_path() {
    struct stat st {};
    if (::stat("/proc/self/ns/net", &st) != 0) return "/run/wardgate/nft-wardgate.commit";
    return fmt::format("/run/wardgate/nft-wardgate.netns-{}.commit", static_cast<unsigned long long>(st.st_ino));
}

bool confirmed() {
    if (!::isatty(STDIN_FILENO)) return false;
    std::cerr << "Apply this ruleset to table inet wardgate on this host? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

std::string what_changes(const netlink::ApplyResult& r) {
    if (r.unchanged) return "the kernel already holds this ruleset";
    if (r.incremental)
        return fmt::format("set elements only: {} added, {} removed ({} netlink messages)", r.elements_added,
                           r.elements_removed, r.messages);
    return fmt::format("the whole table inet wardgate is replaced ({} netlink messages)", r.messages);
}

void print_errors(const std::vector<netlink::KernelError>& errors) {
    for (const auto& e : errors) std::cerr << "  " << e.message << "\n";
}

}  // namespace

void add_apply_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        bool dry_run = false, yes = false, full = false;
        std::string state;
        std::string color = "auto";
        double confirm_within = 0;  // seconds; 0: no commit-confirmed
        std::string state_dir;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "apply",
        "Compile the site, show the plan, and install the ruleset into this host's kernel as table inet wardgate, "
        "in one nf_tables transaction: the kernel ends up with the old table or the new one, never a mix; other "
        "tables are not touched. When only set elements changed, only those are sent. The state file is saved "
        "after a successful commit; when a --confirm-within commit is rolled back, the previous state file comes back "
        "with the previous table.\n"
        "Exit status: 0 applied (or nothing to change), 1 error (nothing was changed), "
        "2 --dry-run: the kernel would accept changes.");
    add_site_options(*cmd, o->site);
    add_gateway_option(*cmd, o->site);
    cmd->add_flag("--dry-run", o->dry_run, "Let the kernel validate the transaction, then abort it (like nft --check)");
    cmd->add_flag("-y,--yes", o->yes, "Do not ask for confirmation (required when standard input is not a terminal)");
    cmd->add_flag("--full", o->full, "Replace the whole table even when only set elements changed");
    cmd->add_option("--state", o->state, "State file (default: SITE/.wardgate/state.json)");
    cmd->add_option("--color", o->color, "Colour the text plan")->check(CLI::IsMember({"auto", "always", "never"}));
    cmd->add_option("--confirm-within", o->confirm_within,
                    "Commit confirmed: restore the previous table inet wardgate unless `wardgate confirm` within SECONDS "
                    "(also when this command is killed)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--state-dir", o->state_dir, "Commit-confirmed records (default $WARDGATE_STATE_DIR or /var/lib/wardgate)");
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto state_path = o->state.empty() ? default_state_path(p.site->dir, p.gateway) : std::filesystem::path(o->state);
        auto plan = make_plan(p.policy, load_state(state_path), p.edges, *p.book);
        auto ruleset = nft::lower_policy(p.policy);
        // The plan compares with what the kernel really holds, not only with the state file.
        auto drift = netlink::check_drift(ruleset);
        plan.live = LiveTable{drift.table_missing, drift.differences};
        std::cout << render_plan_text(plan, use_color(o->color)) << std::flush;

        netlink::ApplyOptions options;
        options.allow_incremental = !o->full;
        options.commit_record = commit_record_path();
        if (o->dry_run) {
            options.dry_run = true;
            auto r = netlink::apply_ruleset(ruleset, options);
            if (!r.errors.empty()) {
                std::cerr << "error: the kernel would refuse the ruleset:\n";
                print_errors(r.errors);
                exit_code = kExitError;
                return;
            }
            std::cout << "dry run: the kernel accepts it; " << what_changes(r) << "\n";
            exit_code = r.unchanged ? kExitApplied : kExitDryRunChanges;
            return;
        }
        if (!o->yes && !confirmed()) {
            std::cerr << "not applied" << (::isatty(STDIN_FILENO) ? "" : " (confirm with --yes)") << "\n";
            exit_code = kExitError;
            return;
        }
        // Record and watchdog before the commit; if the apply fails, the destructor clears them.
        std::optional<service::CommitConfirmed> cc;
        if (o->confirm_within > 0) {
            service::CommitConfirmedOptions co;
            co.state_dir = o->state_dir;
            co.table = ruleset.table;
            co.within = std::chrono::milliseconds(std::llround(o->confirm_within * 1000));
            co.site = p.site->dir.string();
            co.version = service::policy_version(ruleset);
            co.state_file = state_path;
            cc.emplace(service::CommitConfirmed::begin(co));
        }
        netlink::ApplyResult r;
        try {
            r = netlink::apply_ruleset(ruleset, options);
        } catch (const netlink::ApplyError& e) {
            std::cerr << "error: " << (e.concurrent_change() ? "someone else changed nftables meanwhile; " : "")
                      << "the kernel refused the ruleset, nothing was changed:\n";
            print_errors(e.errors());
            exit_code = kExitError;
            return;
        }
        std::cout << (r.committed ? "applied: " : "nothing to apply: ") << what_changes(r) << "\n";
        // Saved while a commit-confirmed still holds its lock: a rollback (which puts the
        // previous state file back) cannot run before the new state is written.
        auto snapshot = snapshot_of(p.policy);
        snapshot.saved_at = iso_time(static_cast<double>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
        save_state(state_path, snapshot);
        std::cerr << "saved state to " << state_path.string()
                  << (cc ? " (a rollback of this commit restores the previous one)" : "") << "\n";
        if (cc) {
            cc->finish();
            std::cout << fmt::format("commit {} is rolled back in {} s unless you run `wardgate confirm`\n", cc->record().id,
                                     o->confirm_within);
        }
        exit_code = kExitApplied;
    });
}

}  // namespace wardgate::cli
