// wardgate: least-privilege network policy for medical devices.
#include <spdlog/spdlog.h>

#include <iostream>

#include "common.hpp"
#include "wardgate/core/diagnostic.hpp"

int main(int argc, char** argv) {
    using namespace wardgate;
    CLI::App app{"wardgate: turns observed flows and manufacturer-declared ports of medical devices into "
                 "least-privilege VLAN and firewall rules"};
    app.set_version_flag("--version", std::string("wardgate ") + WARDGATE_VERSION + " (" + WARDGATE_REVISION + ")");
    app.require_subcommand(1);
    int exit_code = 0;
    cli::add_plan_command(app, exit_code);
    cli::add_apply_command(app, exit_code);
    cli::add_compile_command(app, exit_code);
    cli::add_explain_command(app, exit_code);
    cli::add_graph_command(app, exit_code);
    cli::add_discover_command(app, exit_code);
    cli::add_risk_command(app, exit_code);
    cli::add_scorecard_command(app, exit_code);
    cli::add_report_command(app, exit_code);
    cli::add_readiness_command(app, exit_code);
    cli::add_check_command(app, exit_code);
    cli::add_export_command(app, exit_code);
    cli::add_import_mud_command(app, exit_code);
    cli::add_ingest_command(app, exit_code);
    cli::add_collect_command(app, exit_code);
    cli::add_flows_command(app, exit_code);
    cli::add_observe_command(app, exit_code);
    cli::add_segment_command(app, exit_code);
    cli::add_vlan_command(app, exit_code);
    cli::add_nac_command(app, exit_code);
    cli::add_serve_command(app, exit_code);
    cli::add_status_command(app, exit_code);
    cli::add_confirm_command(app, exit_code);
    cli::add_rollback_command(app, exit_code);
    cli::add_publish_command(app, exit_code);
    cli::add_keygen_command(app, exit_code);
    cli::add_fleet_command(app, exit_code);
    cli::add_db_setup_command(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) std::cerr << "error: " << d.to_string() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return exit_code;
}
