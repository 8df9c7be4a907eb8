#include <unistd.h>

#include <chrono>
#include <atomic>
#include <iostream>
#include <optional>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "alerting.hpp"
#include "common.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/flows/netflow_collector.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/pending_commits.hpp"

namespace wardgate::cli {

namespace {

struct CollectOptions : AlertingOptions {
    std::string listen = "0.0.0.0:2055";
    std::string db;
    std::string source = "netflow";
    double flush_seconds = 60;
    double duration = 0;
    int retention_days = 0;
    int receive_buffer = 32 << 20;
};

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Totals {
    uint64_t batches = 0;  // made, committed or not
    uint64_t flushes = 0, records = 0, edges = 0, new_edges = 0, aged_out = 0;
};

void print_summary(const CollectOptions& o, const netflow::Collector& c, const Totals& t, std::optional<uint64_t> stored_edges) {
    const auto& d = c.decoder().counters();
    const auto& r = c.receiver_stats();
    auto by_version = [&](uint8_t v) {
        auto it = d.packets_by_version.find(v);
        return it == d.packets_by_version.end() ? uint64_t{0} : it->second;
    };
    std::cout << fmt::format("collected on {}: {} datagrams (v5 {}, v9 {}, IPFIX {}), {} records, {} edges in {} commits, "
                             "{} new edges; {}\n",
                             o.listen, r.datagrams, by_version(5), by_version(9), by_version(10), d.records, t.edges,
                             t.flushes, t.new_edges,
                             stored_edges ? fmt::format("the store holds {} edges", *stored_edges)
                                          : std::string("the store did not answer"));
    std::cout << fmt::format("  lost by sequence: {} records (v5, IPFIX), {} packets (v9); {} sequence resets\n",
                             d.lost_records, d.lost_packets, d.sequence_resets);
    if (t.aged_out) std::cout << fmt::format("  retention: removed {} edges\n", t.aged_out);
    std::cout << fmt::format("  kernel drops: {} (receive buffer {} bytes); {} truncated datagrams\n", r.kernel_drops,
                             r.receive_buffer, r.truncated);
    std::cout << fmt::format("  templates: {} ({} withdrawn); data sets before their template: {} ({} decoded later, {} dropped); "
                             "{} options records\n",
                             d.templates, d.template_withdrawals, d.unknown_template_sets, d.held_sets_decoded,
                             d.held_sets_dropped, d.options_records);
    std::cout << fmt::format("  malformed: {} datagrams\n", d.malformed_packets);
    for (const auto& [reason, n] : d.malformed) std::cout << fmt::format("    {}: {}\n", reason, n);
    for (const auto& m : c.decoder().malformations())
        std::cout << fmt::format("    from {} (version {}) at byte {}: {}\n", m.exporter, m.version, m.offset, m.reason);
    for (const auto& [reason, n] : d.skipped) std::cout << fmt::format("  skipped {}: {}\n", n, reason);
    auto sampling = c.decoder().sampling();
    if (sampling.empty()) std::cout << "  sampling: none reported\n";
    for (const auto& s : sampling)
        std::cout << fmt::format("  sampling: {} version {} domain {}: 1 in {} ({})\n", s.exporter, s.version, s.domain,
                                 s.interval, s.origin);
}

void run(const CollectOptions& o, int& exit_code) {
    BaselineStore store(o.db);
    auto alerting = open_alerting(o, store);
    auto& detector = alerting->detector;
    auto& dispatcher = alerting->dispatcher;

    const std::atomic<bool>& stop = install_stop_handlers();
    netflow::Collector collector(o.listen, o.receive_buffer);
    std::cout << "listening on " << o.listen << " (port " << collector.port() << ")" << std::endl;

    // Each commit is stored like an ingested file, under an identity no other commit has.
    const std::string run_id = fmt::format("{:016x}{:08x}", std::random_device{}() * 0x100000000ULL + std::random_device{}(),
                                           static_cast<unsigned>(::getpid()));
    Totals totals;
    PendingCommits pending;
    auto flush = [&] {
        if (o.retention_days > 0) {
            try {
                totals.aged_out += store.age_out(now_seconds() - o.retention_days * 86400.0);
            } catch (const StoreError& e) {
                spdlog::warn("retention: {}", e.what());
            }
        }
        Aggregator edges = collector.take_edges();
        if (edges.size() == 0 && pending.pending() == 0) return;
        std::vector<CommittedBatch> committed;
        if (edges.size() > 0) {
            StoreBatch batch;
            batch.file.file.path = "netflow://" + o.listen;
            batch.file.file.mtime = now_seconds();
            batch.file.file.hash = fmt::format("netflow-{}-{}", run_id, ++totals.batches);
            batch.file.source = o.source;
            batch.file.format = "netflow";
            batch.file.records = edges.records();
            batch.edges = edges.edges();
            committed = pending.commit(store, std::move(batch));
        } else {
            committed = pending.retry(store);
        }
        for (const auto& c : committed) {
            ++totals.flushes;
            totals.records += c.batch.file.records;
            totals.edges += c.batch.edges.size();
            totals.new_edges += c.result.new_edges.size();
            spdlog::info("committed {} records, {} edges ({} new)", c.batch.file.records, c.batch.edges.size(),
                         c.result.new_edges.size());
            if (detector && !c.result.new_edges.empty()) dispatcher.dispatch(detector->detect(c.result.new_edges));
        }
        if (pending.pending() > 0)
            spdlog::warn("baseline database: {}; {} records in {} batches kept, to commit when it answers again",
                         pending.last_error(), pending.pending_records(), pending.pending());
    };

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    auto next_flush = start + std::chrono::duration<double>(o.flush_seconds);
    while (!stop) {
        collector.poll(200);
        const auto now = Clock::now();
        if (o.duration > 0 && now - start >= std::chrono::duration<double>(o.duration)) break;
        if (now >= next_flush) {
            flush();
            next_flush = now + std::chrono::duration<double>(o.flush_seconds);
        }
    }
    // Whatever is queued in the socket when the stop comes is still read.
    while (collector.poll(0) > 0) {
    }
    flush();
    if (pending.pending() > 0) {
        // The database never came back: what it did not take is lost, and the exit says so.
        print_summary(o, collector, totals, std::nullopt);
        std::cerr << fmt::format("error: {} records in {} batches were not committed: {}\n", pending.pending_records(),
                                 pending.pending(), pending.last_error());
        exit_code = 1;
        return;
    }
    if (detector) store.save_alert_marks(dispatcher.limiter().marks());
    print_summary(o, collector, totals, store.edge_count());
    alerting->print_summary(std::cout);
    exit_code = 0;
}

}  // namespace

void add_collect_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CollectOptions>();
    auto* cmd = app.add_subcommand("collect", "Receive NetFlow v5/v9 and IPFIX over UDP and commit the edges to the baseline database.\n"
                                              "Stops on SIGINT or SIGTERM after a last commit.");
    cmd->add_option("--listen", o->listen, "Address and port to receive on: 0.0.0.0:2055, [::]:4739 (IPv6 and IPv4)")
        ->capture_default_str();
    add_store_options(*cmd, o->db, o->retention_days);
    cmd->add_option("--source", o->source, "Label for the collected edges")->capture_default_str();
    cmd->add_option("--flush-seconds", o->flush_seconds, "Commit the edges seen to the database this often")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--duration", o->duration, "Stop after this many seconds (default: run until a signal)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--receive-buffer", o->receive_buffer, "Socket receive buffer in bytes")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    add_alerting_options(cmd, *o, "Site directory: raise alerts for new edges its devices' baseline and policy do not explain");
    cmd->callback([o, &exit_code] { run(*o, exit_code); });
}

}  // namespace wardgate::cli
