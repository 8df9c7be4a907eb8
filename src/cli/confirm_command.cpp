#include <iostream>

#include "common.hpp"
#include "wardgate/service/confirm.hpp"

namespace wardgate::cli {

void add_confirm_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string state_dir, table = "wardgate";
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("confirm", "Keep the ruleset applied with --confirm-within (otherwise it is rolled back "
                                              "at the deadline).\nExit status: 0 confirmed, 1 nothing to confirm or too late.");
    cmd->add_option("--state-dir", o->state_dir, "State directory (default $WARDGATE_STATE_DIR or /var/lib/wardgate)");
    cmd->add_option("--table", o->table, "The inet table");
    cmd->callback([o, &exit_code] {
        auto r = service::confirm(o->state_dir.empty() ? service::default_state_dir() : std::filesystem::path(o->state_dir), o->table);
        (r.outcome == service::ConfirmOutcome::confirmed ? std::cout : std::cerr) << r.message << "\n";
        if (r.outcome != service::ConfirmOutcome::confirmed) exit_code = 1;
    });
}

}  // namespace wardgate::cli
