#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "alerting.hpp"
#include "common.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/store/ingest.hpp"

namespace wardgate::cli {

namespace {

struct IngestOptions : AlertingOptions {
    std::string db;
    std::vector<std::string> inputs;
    std::string source;
    int retention_days = 0;
    bool partial = false;
};

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void show_progress(const IngestProgress& p, const char* unit) {
    double share = p.bytes_total ? 100.0 * double(p.bytes_done) / double(p.bytes_total) : 0;
    double rate = p.seconds > 0 ? double(p.rows) / p.seconds : 0;
    std::fprintf(stderr, "\r  reading %s: %5.1f%%  %llu %s  %.0f %s/s   ", p.file.c_str(), share,
                 static_cast<unsigned long long>(p.rows), unit, rate, unit);
    if (p.bytes_done >= p.bytes_total) std::fprintf(stderr, "\n");
}

struct Totals {
    uint64_t files = 0, already = 0, failed = 0;
    uint64_t rows = 0, records = 0, edges = 0, new_edges = 0;
    std::map<std::string, uint64_t> skipped;
};

void print_file(const FileIngest& r, Totals& totals) {
    const std::string name = r.file.string();
    if (r.commit.already_ingested) {
        ++totals.already;
        std::cout << name << ": already ingested " << iso_time(r.commit.previous.ingested_at) << " as "
                  << r.commit.previous.source << " (" << r.commit.previous.records << " records); skipped\n";
        return;
    }
    ++totals.files;
    const bool capture = r.format == FlowFormat::pcap;
    std::cout << name << ": " << format_name(r.format) << ", " << r.read.rows << (capture ? " packets, " : " rows, ")
              << r.records << " records, " << r.edges << " edges (" << r.commit.new_edges.size() << " new)";
    if (r.capture) {
        if (r.capture->tcp_without_handshake)
            std::cout << ", " << r.capture->tcp_without_handshake << " TCP without handshake";
        if (r.capture->ended_early) std::cout << ", " << r.capture->ended_early << " flows ended early (table full)";
    }
    std::cout << "\n";
    for (const auto& [reason, n] : r.read.skipped) std::cout << "  skipped " << n << ": " << reason << "\n";
    for (const auto& w : r.read.warnings) std::cout << "  warning: " << w << "\n";
    if (r.read.rows == 0) std::cout << "  warning: holds no flow records\n";
    totals.rows += r.read.rows;
    totals.records += r.records;
    totals.edges += r.edges;
    totals.new_edges += r.commit.new_edges.size();
    for (const auto& [reason, n] : r.read.skipped) totals.skipped[reason] += n;
}

void run(const IngestOptions& o, int& exit_code) {
    BaselineStore store(o.db);
    auto alerting = open_alerting(o, store);
    auto& detector = alerting->detector;
    auto& dispatcher = alerting->dispatcher;

    Totals totals;
    for (const auto& input : o.inputs) {
        ProgressCallback progress;
        if (::isatty(STDERR_FILENO)) {
            const char* unit = "rows";
            try {
                if (detect_flow_format(input) == FlowFormat::pcap) unit = "packets";
            } catch (const InputError&) {
            }
            progress = [unit](const IngestProgress& p) { show_progress(p, unit); };
        }
        try {
            FileIngest r = ingest_file(store, input, o.source, progress, o.partial);
            print_file(r, totals);
            if (detector && !r.commit.new_edges.empty()) dispatcher.dispatch(detector->detect(r.commit.new_edges));
        } catch (const InputError& e) {
            ++totals.failed;
            for (const auto& d : e.diagnostics()) std::cerr << "error: " << d.to_string() << "\n";
        }
    }
    if (detector) store.save_alert_marks(dispatcher.limiter().marks());

    if (o.retention_days > 0) {
        double cutoff = now_seconds() - o.retention_days * 86400.0;
        uint64_t removed = store.age_out(cutoff);
        std::cout << "retention: removed " << removed << " edges last seen before " << iso_time(cutoff) << "\n";
    }

    std::cout << "ingested " << totals.files << " file" << (totals.files == 1 ? "" : "s");
    if (totals.already) std::cout << " (" << totals.already << " already ingested)";
    if (totals.failed) std::cout << ", " << totals.failed << " failed";
    std::cout << ": " << totals.records << " records, " << totals.edges << " distinct edges, " << totals.new_edges
              << " new edges; the store holds " << store.edge_count() << " edges\n";
    for (const auto& [reason, n] : totals.skipped) std::cout << "  skipped " << n << ": " << reason << "\n";
    alerting->print_summary(std::cout);
    if (totals.failed) exit_code = 1;
}

}  // namespace

void add_ingest_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<IngestOptions>();
    auto* cmd = app.add_subcommand("ingest", "Add flow files (pcap/pcapng, Zeek TSV/JSON, CSV) to the baseline database.\n"
                                             "A file already ingested (same content) is skipped.");
    add_store_options(*cmd, o->db, o->retention_days);
    cmd->add_option("inputs", o->inputs, "Flow files")->required()->check(CLI::ExistingFile);
    cmd->add_option("--source", o->source, "Label for these files' edges (default: the format, e.g. pcap)");
    cmd->add_flag("--partial", o->partial,
                  "Record what was read of a file that ends in damage or mid-record (a capture cut short, a log still "
                  "being written); without it such a file is refused and nothing from it is recorded");
    add_alerting_options(cmd, *o, "Site directory: raise alerts for new edges its devices' baseline and policy do not explain");
    cmd->callback([o, &exit_code] { run(*o, exit_code); });
}

}  // namespace wardgate::cli
