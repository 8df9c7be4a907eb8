#pragma once
// The gateway service (`wardgate serve`): enforces a site's policy and keeps it enforced.
//
// - applies the site's policy at start (and the VLAN links when a trunk is given);
// - re-applies when the site directory changes (inotify, debounced); an edit that does not
//   validate leaves the running policy in place and is reported with its diagnostics;
// - checks for drift on an interval and re-asserts the policy;
// - honours commit-confirmed records (its own with --confirm-within, and `wardgate apply
//   --confirm-within` ones): while one is pending nothing is re-applied, at its deadline it
//   is rolled back, and a rolled-back policy version is not re-asserted until the site
//   changes to another one;
// - answers `wardgate status` on a Unix socket (mode 0600) and writes Prometheus metrics.
#include <chrono>
#include <filesystem>
#include <string>

namespace wardgate::service {

struct ServeOptions {
    std::filesystem::path site_dir;
    std::string trunk;                               // empty: the gateway's declared trunk, else no VLAN links
    std::string gateway;                             // a [[gateway]] of the site: enforce its slice ("" = whole site)
    std::filesystem::path socket;                    // empty: default_socket_path()
    std::filesystem::path metrics_file;              // empty: no metrics file
    std::filesystem::path state_dir;                 // empty: default_state_dir()
    std::chrono::milliseconds drift_interval{30000};
    std::chrono::milliseconds debounce{500};
    std::chrono::milliseconds confirm_within{0};     // > 0: site reloads are commit-confirmed
    bool drop_capabilities = true;
    std::string nameserver;                          // for DNS-only endpoints; empty: the site's, else the system's
    std::filesystem::path alerts_file;               // JSON-lines alerts (DNS names that stop resolving); empty: log only
    // Follow the versions `wardgate publish` stores in this PostgreSQL database instead of a site
    // directory (site_dir then stays empty).
    std::string from;
    std::string site_name;                           // with `from`: which published site ("" = the only one)
    std::filesystem::path publisher_key;             // with `from`: the publisher's Ed25519 public key (PEM)
    std::string instance;                            // with `from`: this gateway in heartbeats ("" = the host name)
    std::chrono::milliseconds heartbeat{5000};       // with `from`: heartbeat and catch-up interval
};

// Runs until SIGTERM or SIGINT (SIGHUP reloads the site). Returns the exit status.
int run_service(const ServeOptions& options);

}  // namespace wardgate::service
