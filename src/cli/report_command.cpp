#include <iostream>

#include "common.hpp"
#include "wardgate/plan/horizon.hpp"
#include "wardgate/plan/report.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/render/report.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::cli {

void add_report_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string out;
        std::string horizon = "180d";
        uint32_t ready_days = 7;
        bool no_graph = false;
        size_t flows_per_device = 4;
        std::string template_dir;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "report",
        "One self-contained HTML page (inline CSS and SVG, no external resources): the scorecard and its trend, the risk "
        "matrix and ranking, the communication graph, the calendar of changes, and a section per segment and device "
        "with its flows, verdicts, risk reasons, readiness and life-cycle dates");
    add_site_options(*cmd, o->site);
    cmd->add_option("-o,--output", o->out, "Write the page to this file (atomically) instead of standard output");
    cmd->add_option("--db", o->site.db,
                    "Baseline database (wardgate ingest): its edges join the flow files, its recorded scorecards make "
                    "the trend")
        ->check(CLI::ExistingFile);
    cmd->add_option("--horizon", o->horizon, "How far the calendar looks ahead (180d, 26w)");
    cmd->add_option("--ready-days", o->ready_days, "Days of observation a device needs before it is ready to enforce")
        ->check(CLI::Range(1, 3650));
    cmd->add_option("--flows-per-device", o->flows_per_device, "Flows listed per device, blocked ones first (the rest counted)")
        ->check(CLI::Range(0, 100000));
    cmd->add_flag("--no-graph", o->no_graph, "Leave the communication graph out (large sites lay out slowly)");
    cmd->add_option("--templates", o->template_dir, "Template directory (default: the installed templates)");
    cmd->callback([o] {
        auto days = parse_horizon(o->horizon);
        if (!days) bad_option("--horizon", "expected a number of days (180d) or weeks (26w) up to ten years, got \"" + o->horizon + "\"");
        auto p = load_pipeline(o->site);
        ReportOptions options;
        options.horizon_days = *days;
        options.ready_days = o->ready_days;
        options.graph = !o->no_graph;
        options.flows_per_device = o->flows_per_device;
        if (!o->site.db.empty()) options.history = BaselineStore(o->site.db).scorecards(p.site->name);
        auto model = report_model(p, options);
        auto dir = o->template_dir.empty() ? default_template_dir() : std::filesystem::path(o->template_dir);
        emit(o->out, render_report_html(model, dir));
    });
}

}  // namespace wardgate::cli
