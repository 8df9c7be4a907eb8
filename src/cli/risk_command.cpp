#include <iostream>

#include "common.hpp"
#include "wardgate/assess/risk.hpp"
#include "wardgate/plan/risk_report.hpp"

namespace wardgate::cli {

void add_risk_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        bool brief = false;
        std::string out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "risk",
        "Rank every device by risk: impact (patient safety, privacy, downtime) times exposure (life cycle, internet "
        "contact, insecure protocols, unexplained peers, workstation peers, monitor mode), with every reason and the "
        "one change that would lower it most");
    add_site_options(*cmd, o->site);
    cmd->add_option("--format", o->format, "text or json (docs/schema/risk.schema.json)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->add_flag("--brief", o->brief, "The table only, without the reasons under each device");
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files")
        ->check(existing_store());
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->callback([o] {
        auto p = load_pipeline(o->site);
        auto risks = assess_risk(*p.book, p.edges);
        if (o->format == "json")
            emit(o->out, risk_json(risks, p.site->name, to_string(p.today)).dump(2, ' ', false,
                                                                                  nlohmann::json::error_handler_t::replace) +
                             "\n");
        else
            emit(o->out, risk_text(risks, p.site->name, !o->brief));
    });
}

}  // namespace wardgate::cli
