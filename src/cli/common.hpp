#pragma once
// Options and helpers every subcommand shares. The CLI only parses, calls the library, prints.
#include <CLI/CLI.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "wardgate/plan/pipeline.hpp"

namespace wardgate::cli {

struct SiteOptions {
    std::string site;
    std::string today;                    // YYYY-MM-DD; empty = today (UTC)
    std::vector<std::string> extra_flows;
    std::string db;                       // baseline database to merge (plan --db); empty: none
    std::string nameserver;               // for DNS-only endpoints; empty: the site's, else the system's
    bool resolve = false;                 // re-resolve names the resolution cache holds
    bool offline = false;                 // use the resolution cache only
    std::string gateway;                  // a [[gateway]]: its slice of the policy ("" = the whole site)
};

void add_site_options(CLI::App& cmd, SiteOptions& o);
// --gateway NAME: the commands that compile what one gateway enforces.
void add_gateway_option(CLI::App& cmd, SiteOptions& o);
// --db (required) and --retention-days for the commands that write the baseline store.
// --db of the reading commands: an existing baseline file, or a postgresql:// URI.
CLI::Validator existing_store();
void add_store_options(CLI::App& cmd, std::string& db, int& retention_days);
// What the options ask of the pipeline, with terminal progress when stderr is a terminal.
PipelineOptions pipeline_options(const SiteOptions& o);
Pipeline load_pipeline(const SiteOptions& o);
bool use_color(const std::string& mode);  // auto | always | never, against stdout
// Writes to a file atomically, or to stdout when path is empty or "-".
void emit(const std::string& path, const std::string& content);
// A bad command-line value, reported like an input error: "command line: OPTION: message".
[[noreturn]] void bad_option(const std::string& option, const std::string& message);
// SIGINT and SIGTERM set the returned flag. No SA_RESTART, so a blocking poll() or recv() returns
// at once and the loop sees the flag; stop_signal() names the signal that came (0: none).
const std::atomic<bool>& install_stop_handlers();
int stop_signal();

void add_plan_command(CLI::App& app, int& exit_code);
void add_apply_command(CLI::App& app, int& exit_code);
void add_compile_command(CLI::App& app, int& exit_code);
void add_graph_command(CLI::App& app, int& exit_code);
void add_discover_command(CLI::App& app, int& exit_code);
void add_risk_command(CLI::App& app, int& exit_code);
void add_scorecard_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_readiness_command(CLI::App& app, int& exit_code);
void add_explain_command(CLI::App& app, int& exit_code);
void add_check_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_import_mud_command(CLI::App& app, int& exit_code);
void add_ingest_command(CLI::App& app, int& exit_code);
void add_collect_command(CLI::App& app, int& exit_code);
void add_flows_command(CLI::App& app, int& exit_code);
void add_observe_command(CLI::App& app, int& exit_code);
void add_vlan_command(CLI::App& app, int& exit_code);
void add_nac_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_status_command(CLI::App& app, int& exit_code);
void add_confirm_command(CLI::App& app, int& exit_code);
void add_rollback_command(CLI::App& app, int& exit_code);
void add_publish_command(CLI::App& app, int& exit_code);
void add_keygen_command(CLI::App& app, int& exit_code);
void add_fleet_command(CLI::App& app, int& exit_code);
void add_db_setup_command(CLI::App& app, int& exit_code);
void add_segment_command(CLI::App& app, int& exit_code);

}  // namespace wardgate::cli
