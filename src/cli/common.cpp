#include "common.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/plan/snapshot.hpp"

namespace wardgate::cli {

namespace {
std::atomic<bool> g_stop{false};
volatile sig_atomic_t g_signal = 0;

void request_stop(int sig) {
    g_signal = sig;
    g_stop.store(true);
}
}  // namespace

CLI::Validator existing_store() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            if (is_database_url(value)) return {};
            return CLI::ExistingFile(value);
        },
        "FILE|URI", "existing baseline database");
}

void add_store_options(CLI::App& cmd, std::string& db, int& retention_days) {
    cmd.add_option("--db", db, "Baseline database: a SQLite file (created if missing) or postgresql://... (tables created on first use)")->required();
    cmd.add_option("--retention-days", retention_days, "Remove edges not seen for this many days (after each commit)")
        ->check(CLI::PositiveNumber);
}

void bad_option(const std::string& option, const std::string& message) {
    throw InputError(Diagnostic{"command line", 0, 0, option, message});
}

const std::atomic<bool>& install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = request_stop;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    return g_stop;
}

int stop_signal() { return g_signal; }

void add_site_options(CLI::App& cmd, SiteOptions& o) {
    cmd.add_option("site", o.site, "Site directory (site.toml, devices, profiles, policy, flows)")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd.add_option("--today", o.today, "Day approvals expire against, YYYY-MM-DD (default: today, UTC)");
    cmd.add_option("--flows", o.extra_flows, "Extra observed-flow files (Zeek TSV/JSON or CSV)")
        ->check(CLI::ExistingFile);
    cmd.add_option("--nameserver", o.nameserver,
                   "DNS server for DNS-only endpoints, ADDRESS[:PORT] (default: site.toml's nameserver, else the system's)");
    cmd.add_flag("--resolve", o.resolve, "Resolve DNS names again even when SITE/.wardgate/dns.json holds them");
    cmd.add_flag("--offline", o.offline, "Never ask DNS: every DNS name must be in SITE/.wardgate/dns.json");
}

void add_gateway_option(CLI::App& cmd, SiteOptions& o) {
    cmd.add_option("--gateway", o.gateway,
                   "A [[gateway]] of site.toml: only its slice of the policy (the traffic that starts or ends in the "
                   "segments it routes)");
}

static void show_progress(const IngestProgress& p) {
    double share = p.bytes_total ? 100.0 * double(p.bytes_done) / double(p.bytes_total) : 0;
    double rate = p.seconds > 0 ? double(p.rows) / p.seconds : 0;
    std::fprintf(stderr, "\r  reading %s: %5.1f%%  %llu rows  %.0f rows/s   ", p.file.c_str(), share,
                 static_cast<unsigned long long>(p.rows), rate);
    if (p.bytes_done >= p.bytes_total) std::fprintf(stderr, "\n");
}

PipelineOptions pipeline_options(const SiteOptions& o) {
    PipelineOptions opts;
    if (o.today.empty()) {
        opts.today = today_utc();
    } else if (auto d = parse_date(o.today)) {
        opts.today = *d;
    } else {
        throw InputError(Diagnostic{"command line", 0, 0, "--today", "expected a date YYYY-MM-DD, got \"" + o.today + "\""});
    }
    for (const auto& f : o.extra_flows) opts.extra_flows.emplace_back(f);
    opts.store = o.db;
    opts.dns.nameserver = o.nameserver;
    opts.dns.refresh = o.resolve;
    opts.dns.offline = o.offline;
    opts.gateway = o.gateway;
    if (::isatty(STDERR_FILENO)) opts.progress = show_progress;
    return opts;
}

Pipeline load_pipeline(const SiteOptions& o) { return run_pipeline(o.site, pipeline_options(o)); }

bool use_color(const std::string& mode) {
    if (mode == "always") return true;
    if (mode == "never") return false;
    return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
}

void emit(const std::string& path, const std::string& content) {
    if (path.empty() || path == "-") {
        std::cout << content << std::flush;
    } else {
        write_file_atomically(path, content);
    }
}

}  // namespace wardgate::cli
