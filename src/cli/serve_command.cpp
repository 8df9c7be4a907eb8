#include <cmath>

#include "common.hpp"
#include "wardgate/service/logging.hpp"
#include "wardgate/service/serve.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::cli {

void add_serve_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string site, trunk, gateway, socket, metrics, state_dir, nameserver, alerts;
        std::string from, site_name, publisher_key, instance;
        double drift_interval = 30, confirm_within = 0, heartbeat = 5;
        int debounce_ms = 500;
        bool keep_capabilities = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("serve", "Run the gateway service: enforce the site's policy, re-apply on site edits, "
                                            "re-assert on drift, answer `wardgate status`");
    cmd->add_option("site", o->site, "Site directory (or --from)")->check(CLI::ExistingDirectory);
    cmd->add_option("--from", o->from,
                    "postgresql://...: follow the versions `wardgate publish` stores there instead of a site directory");
    cmd->add_option("--site-name", o->site_name, "With --from: the published site to follow (default: the only one)");
    cmd->add_option("--publisher-key", o->publisher_key,
                    "With --from: the publisher's Ed25519 public key (PEM); nothing it did not sign is applied")
        ->check(CLI::ExistingFile);
    cmd->add_option("--instance", o->instance, "With --from: this gateway's name in its heartbeat (default: its database login, which the "
                                              "wardgate_gateway role's row-level security requires)");
    cmd->add_option("--heartbeat-interval", o->heartbeat, "With --from: seconds between heartbeats (and catching up)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--trunk", o->trunk, "Trunk interface: also keep the segments' VLAN links <trunk>.<vlan>");
    cmd->add_option("--gateway", o->gateway,
                    "A [[gateway]] of site.toml: enforce only its slice of the policy (and its segments' VLAN links)");
    cmd->add_option("--socket", o->socket, "Status socket (default /run/wardgate/status.sock)");
    cmd->add_option("--metrics-file", o->metrics, "Prometheus textfile to write (node_exporter textfile collector, *.prom)");
    cmd->add_option("--drift-interval", o->drift_interval, "Seconds between drift checks")->check(CLI::PositiveNumber);
    cmd->add_option("--debounce-ms", o->debounce_ms, "Quiet time after a site edit before reloading, in ms")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--state-dir", o->state_dir, "Commit-confirmed records (default $WARDGATE_STATE_DIR or /var/lib/wardgate)");
    cmd->add_option("--confirm-within", o->confirm_within,
                    "Apply site edits commit-confirmed: rolled back unless `wardgate confirm` within SECONDS")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--nameserver", o->nameserver,
                    "DNS server for DNS-only endpoints, ADDRESS[:PORT] (default: site.toml's nameserver, else the system's)");
    cmd->add_option("--alerts", o->alerts, "Append alerts (DNS names that stop resolving) to this JSON-lines file");
    cmd->add_flag("--keep-capabilities", o->keep_capabilities, "Do not drop capabilities other than CAP_NET_ADMIN");
    cmd->callback([o, &exit_code] {
        if (o->site.empty() == o->from.empty())
            bad_option(o->from.empty() ? "site" : "--from", "serve takes a site directory or --from postgresql://..., one of them");
        if (!o->from.empty() && o->publisher_key.empty())
            bad_option("--publisher-key", "is required with --from: a gateway applies only versions the publisher signed");
        if (!o->from.empty() && !is_database_url(o->from))
            bad_option("--from", "expected a postgresql:// URI");
        if (!o->trunk.empty() && !is_interface_name(o->trunk)) bad_option("--trunk", not_an_interface_name(o->trunk));
        service::setup_logging();
        service::ServeOptions so;
        so.site_dir = o->site;
        so.trunk = o->trunk;
        so.gateway = o->gateway;
        so.socket = o->socket;
        so.metrics_file = o->metrics;
        so.state_dir = o->state_dir;
        so.drift_interval = std::chrono::milliseconds(std::llround(o->drift_interval * 1000));
        so.debounce = std::chrono::milliseconds(o->debounce_ms);
        so.confirm_within = std::chrono::milliseconds(std::llround(o->confirm_within * 1000));
        so.drop_capabilities = !o->keep_capabilities;
        so.nameserver = o->nameserver;
        so.alerts_file = o->alerts;
        so.from = o->from;
        so.site_name = o->site_name;
        so.publisher_key = o->publisher_key;
        so.instance = o->instance;
        so.heartbeat = std::chrono::milliseconds(std::llround(o->heartbeat * 1000));
        exit_code = service::run_service(so);
    });
}

}  // namespace wardgate::cli
