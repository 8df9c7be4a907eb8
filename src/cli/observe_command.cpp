#include <atomic>
#include <cstring>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "alerting.hpp"
#include "common.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/observe/observer.hpp"
#include "wardgate/service/logging.hpp"

namespace wardgate::cli {

namespace {

struct ObserveCliOptions : AlertingOptions {
    std::string db;
    bool conntrack = false;
    int nflog_group = -1;
    double flush_seconds = 60;
    double duration = 0;
    int retention_days = 0;
    int receive_buffer_mib = 16;
};

void print_summary(const observe::ObserveSummary& s) {
    std::cout << fmt::format("conntrack: {} events, {} flow records, {} lost (receive buffer overruns)\n", s.conntrack_events,
                             s.records, s.conntrack_lost);
    std::cout << fmt::format("nflog: {} logged packets, {} denied-attempt records, {} lost\n", s.nflog_packets,
                             s.denied_records, s.nflog_lost);
    for (const auto& [why, n] : s.denied_by) std::cout << fmt::format("  {} packets: {}\n", n, why);
    for (const auto& [rule, n] : s.trial_connections)
        std::cout << fmt::format("  {} connections accepted by {}, on trial\n", n, rule);
    if (s.undecodable) std::cout << fmt::format("skipped {} events or packets (other protocols, or cut short)\n", s.undecodable);
    std::cout << fmt::format("committed {} times: {} edges ({} denied), {} new edges\n", s.commits, s.edges, s.denied_edges,
                             s.new_edges);
    if (s.aged_out) std::cout << fmt::format("retention: removed {} edges\n", s.aged_out);
}

void run(const ObserveCliOptions& o, int& exit_code) {
    if (!o.conntrack && o.nflog_group < 0) bad_option("--conntrack", "give --conntrack, --nflog-group N or both");
    service::setup_logging();

    BaselineStore store(o.db);
    auto alerting = open_alerting(o, store);
    auto& detector = alerting->detector;
    auto& dispatcher = alerting->dispatcher;

    observe::ObserverOptions options;
    options.conntrack = o.conntrack;
    if (o.nflog_group >= 0) options.nflog_group = static_cast<uint16_t>(o.nflog_group);
    options.conntrack_options.receive_buffer = o.receive_buffer_mib << 20;
    options.nflog_options.receive_buffer = o.receive_buffer_mib << 20;
    options.flush_interval = std::chrono::milliseconds(std::llround(o.flush_seconds * 1000));
    if (o.retention_days > 0) options.retention_seconds = o.retention_days * 86400.0;
    if (o.duration > 0) options.duration = std::chrono::milliseconds(std::llround(o.duration * 1000));
    observe::Observer observer(store, options);
    if (detector) observer.set_alerts(&*detector, &dispatcher);

    const std::atomic<bool>& stop = install_stop_handlers();
    std::cerr << "observing" << (o.conntrack ? " conntrack events" : "")
              << (o.nflog_group >= 0 ? fmt::format("{}NFLOG group {}", o.conntrack ? " and " : " ", o.nflog_group) : "")
              << " into " << store.name() << "; committing every " << o.flush_seconds << " s; stop with Ctrl-C\n";
    observer.run(stop);
    if (stop_signal()) std::cerr << strsignal(stop_signal()) << ": stopped\n";
    print_summary(observer.summary());
    alerting->print_summary(std::cout);
    if (observer.summary().uncommitted_records > 0) {
        // The database never came back: what it did not take is lost, and the exit says so.
        std::cerr << "error: " << observer.summary().uncommitted_records
                  << " records were not committed: " << observer.summary().commit_error << "\n";
        exit_code = 1;
        return;
    }
    std::cout << "the store holds " << store.edge_count() << " edges\n";
    exit_code = 0;
}

}  // namespace

void add_observe_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ObserveCliOptions>();
    auto* cmd = app.add_subcommand("observe", "Record flows on the gateway itself: conntrack events and packets its ruleset "
                                              "logs to NFLOG, committed to the baseline database periodically");
    add_store_options(*cmd, o->db, o->retention_days);
    cmd->add_flag("--conntrack", o->conntrack, "Record connections from conntrack NEW/UPDATE/DESTROY events and table dumps (source \"conntrack\")");
    cmd->add_option("--nflog-group", o->nflog_group, "Record packets logged to this NFLOG group as denied attempts (source \"nflog\"); "
                                                     "the site's log_group")
        ->check(CLI::Range(0, 65535));
    add_alerting_options(cmd, *o, "Site directory: raise alerts (denied attempts, new edges) with device context");
    cmd->add_option("--flush-seconds", o->flush_seconds, "Seconds between commits to the database")->check(CLI::PositiveNumber);
    cmd->add_option("--duration", o->duration, "Stop after this many seconds (default: run until SIGINT/SIGTERM)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--receive-buffer-mib", o->receive_buffer_mib, "Netlink receive buffer per listener, MiB")
        ->check(CLI::Range(1, 1024));
    cmd->callback([o, &exit_code] { run(*o, exit_code); });
}

}  // namespace wardgate::cli
