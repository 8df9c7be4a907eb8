#include <chrono>
#include <iostream>

#include "common.hpp"
#include "wardgate/plan/plan.hpp"

namespace wardgate::cli {

void add_plan_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        std::string color = "auto";
        std::string state;
        bool save = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("plan", "Show what the compiled policy would change and which observed flows it would block.\n"
                                           "Exit status: 0 no changes, 2 changes, 1 error.");
    add_site_options(*cmd, o->site);
    cmd->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--color", o->color, "Colour the text plan")->check(CLI::IsMember({"auto", "always", "never"}));
    cmd->add_option("--state", o->state, "State file to compare with (default: SITE/.wardgate/state.json)");
    cmd->add_flag("--save", o->save, "Save this policy as the new state after printing the plan");
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto state_path = o->state.empty() ? default_state_path(p.site->dir) : std::filesystem::path(o->state);
        auto before = load_state(state_path);
        auto plan = make_plan(p.policy, before, p.edges, *p.book);
        if (o->format == "json") {
            std::cout << render_plan_json(plan).dump(2) << "\n";
        } else {
            std::cout << render_plan_text(plan, use_color(o->color));
        }
        if (o->save) {
            auto snapshot = snapshot_of(p.policy);
            snapshot.saved_at = iso_time(static_cast<double>(
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
            save_state(state_path, snapshot);
            std::cerr << "saved state to " << state_path.string() << "\n";
        }
        exit_code = plan.has_changes() ? 2 : 0;
    });
}

}  // namespace wardgate::cli
