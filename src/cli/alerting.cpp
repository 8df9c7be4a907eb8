#include "alerting.hpp"

#include "common.hpp"
#include "wardgate/plan/plan.hpp"

namespace wardgate::cli {

void add_alerting_options(CLI::App* cmd, AlertingOptions& o, const std::string& site_help) {
    cmd->add_option("--site", o.site, site_help)->check(CLI::ExistingDirectory);
    cmd->add_option("--today", o.today, "Day approvals expire against, YYYY-MM-DD (default: today, UTC)");
    cmd->add_option("--alerts", o.alerts, "Append alerts to this JSON-lines file");
    cmd->add_option("--syslog", o.syslog, "Send alerts as RFC 5424 syslog over UDP to HOST:PORT");
    cmd->add_option("--alert-window", o.alert_window, "At most one alert per edge per this many seconds")
        ->check(CLI::PositiveNumber);
}

void Alerting::print_summary(std::ostream& out) const {
    if (detector) out << "alerts: " << dispatcher.sent() << " raised, " << dispatcher.suppressed() << " suppressed\n";
}

std::unique_ptr<Alerting> open_alerting(const AlertingOptions& o, BaselineStore& store) {
    if (o.site.empty() && (!o.alerts.empty() || !o.syslog.empty()))
        throw InputError(Diagnostic{"command line", 0, 0, "--site", "--alerts and --syslog need --site to know the devices"});
    auto a = std::make_unique<Alerting>();
    if (o.site.empty()) return a;
    SiteOptions site;
    site.site = o.site;
    site.today = o.today;
    a->pipeline.emplace(load_pipeline(site));
    a->detector.emplace(*a->pipeline->book, a->pipeline->policy, a->pipeline->today);
    // What each device's siblings do: the site's flows and everything the store holds so far.
    Aggregator known;
    EdgeQuery everything;
    everything.include_denied = false;
    store.merge_into(known, everything);
    std::vector<ClassifiedEdge> edges = classify_edges(known.edges(), *a->pipeline->book, a->pipeline->today);
    edges.insert(edges.end(), a->pipeline->edges.begin(), a->pipeline->edges.end());
    a->siblings.emplace(*a->pipeline->book, edges);
    a->detector->set_siblings(&*a->siblings);
    AlertLimiter limiter(o.alert_window);
    limiter.restore(store.alert_marks());
    a->dispatcher = AlertDispatcher(std::move(limiter));
    a->dispatcher.add_sink(std::make_unique<LogAlertSink>());
    if (!o.alerts.empty()) a->dispatcher.add_sink(std::make_unique<JsonLinesAlertSink>(o.alerts));
    if (!o.syslog.empty()) a->dispatcher.add_sink(std::make_unique<SyslogAlertSink>(o.syslog));
    return a;
}

}  // namespace wardgate::cli
