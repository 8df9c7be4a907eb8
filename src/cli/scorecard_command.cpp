#include <chrono>
#include <iostream>

#include "common.hpp"
#include "wardgate/assess/scorecard.hpp"
#include "wardgate/plan/scorecard_report.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::cli {

void add_scorecard_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        bool record = false;
        std::string out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "scorecard",
        "The programme's KPIs (profile coverage, enforcement, end-of-support devices on the strictest stance, internet "
        "contact, unexplained and insecure flows, approvals expiring, high-risk devices) and their trend over the runs "
        "the store recorded");
    add_site_options(*cmd, o->site);
    cmd->add_option("--format", o->format, "text or json (docs/schema/scorecard.schema.json)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--db", o->site.db,
                    "Baseline database (wardgate ingest): its edges join the flow files, and its recorded scorecards "
                    "make the trend")
        ->check(CLI::ExistingFile);
    cmd->add_flag("--record", o->record, "Keep this run's scorecard in the --db store, for the trend");
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->callback([o] {
        if (o->record && o->site.db.empty()) bad_option("--record", "keeps the scorecard in a store: give it --db");
        auto p = load_pipeline(o->site);
        auto card = compute_scorecard(*p.book, p.edges, p.today);
        std::vector<ScorecardRecord> history;
        if (!o->site.db.empty()) {
            BaselineStore store(o->site.db);
            if (o->record) {
                double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
                store.record_scorecard(scorecard_record(card, now));
            }
            history = store.scorecards(card.site);
        }
        if (o->format == "json")
            emit(o->out, scorecard_json(card, history, o->record).dump(2, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace) + "\n");
        else
            emit(o->out, scorecard_text(card, history, o->record));
    });
}

}  // namespace wardgate::cli
