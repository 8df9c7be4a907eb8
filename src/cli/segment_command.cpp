#include <iostream>

#include "common.hpp"
#include "wardgate/plan/segment_proposal.hpp"

namespace wardgate::cli {

void add_segment_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        bool propose = false;
        std::string patch;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "segment",
        "Propose which segment each device should be in (end-of-support devices of a role apart, nothing clinical "
        "outside a device segment, devices with the same needs together): the moves with new addresses, the rules "
        "before and after, the observed flows whose path changes, and the inventory patch.\nExit status: 0 nothing "
        "to move, 2 a proposal, 1 error.");
    add_site_options(*cmd, o->site);
    cmd->add_flag("--propose", o->propose, "Propose a segmentation (nothing is changed)")->required();
    cmd->add_option("--patch", o->patch,
                    "Write the moves as a unified diff of the inventory files, to apply with patch -d SITE -p1 "
                    "(empty when nothing moves)");
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files")
        ->check(existing_store());
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto proposal = propose_segments(p);
        std::string text = render_segment_proposal(proposal);
        if (!o->patch.empty()) {
            emit(o->patch, proposal.patch.diff);
            if (!proposal.moves.empty())
                text += "\nInventory patch: " + o->patch + " (apply with: patch -d " + o->site.site + " -p1 < " + o->patch +
                        ")\n";
        }
        std::cout << text;
        exit_code = proposal.empty() ? 0 : 2;
    });
}

}  // namespace wardgate::cli
