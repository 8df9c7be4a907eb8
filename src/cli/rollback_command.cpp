#include <iostream>

#include "common.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/logging.hpp"

namespace wardgate::cli {

void add_rollback_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string state_dir, table = "wardgate", watch;
        int ready_fd = -1;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("rollback", "Restore the table as it was before an unconfirmed commit, now.\n"
                                               "Exit status: 0 rolled back, 1 nothing to roll back or an error.");
    cmd->add_option("--state-dir", o->state_dir, "State directory (default $WARDGATE_STATE_DIR or /var/lib/wardgate)");
    cmd->add_option("--table", o->table, "The inet table");
    cmd->add_option("--watch", o->watch, "Be the watchdog of this rollback record: roll back at its deadline unless confirmed")
        ->group("");  // started by `apply --confirm-within`, not by people
    cmd->add_option("--ready-fd", o->ready_fd, "With --watch: file descriptor to report readiness on")->group("");
    cmd->callback([o, &exit_code] {
        if (!o->watch.empty()) {
            service::setup_logging();
            exit_code = service::run_watchdog(o->watch, o->ready_fd);
            return;
        }
        auto dir = o->state_dir.empty() ? service::default_state_dir() : std::filesystem::path(o->state_dir);
        auto r = service::rollback_if_due(dir, o->table, {}, true);
        (r.rolled_back() ? std::cout : std::cerr) << r.message << "\n";
        if (!r.rolled_back()) exit_code = 1;
    });
}

}  // namespace wardgate::cli
