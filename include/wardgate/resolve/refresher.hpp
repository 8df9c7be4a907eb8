#pragma once
// The gateway's live DNS table: every DNS-only endpoint's name is asked again when its TTL
// runs out (within the site's floor and ceiling). Addresses that leave an answer stay
// allowed for the grace period, so connections to them are not cut; a name that stops
// resolving keeps its last addresses.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/resolve/dns.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

struct DnsNameState {
    std::string name;
    std::string endpoint;                      // the endpoint that lists it
    DnsAnswer answer;                          // the last good answer (addresses, TTL, when)
    std::map<IpAddress, SysSeconds> leaving;   // addresses gone from the answer -> allowed until
    SysSeconds next_refresh{};
    bool failing = false;                      // the last attempt failed
    std::string last_error;                    // "NXDOMAIN (Domain name not found)"
    SysSeconds last_failure{};
    uint64_t failures = 0;

    std::vector<IpAddress> allowed() const;    // answer and leaving addresses, sorted
};

struct DnsFailure {
    std::string name, endpoint, error;
    std::vector<IpAddress> kept;
    bool first = false;  // the name resolved (or was new) before this failure
};

struct DnsRefreshOutcome {
    bool changed = false;               // the allowed addresses of some name changed
    std::vector<std::string> changes;   // "update.vendor.example: +203.0.113.6 (-203.0.113.5 in grace until ...)"
    std::vector<DnsFailure> failures;
};

using DnsResolve = std::function<Resolution(const std::string& name)>;

class DnsRefresher {
public:
    // `resolve` asks DNS (a Resolver, or a stand-in).
    DnsRefresher(DnsSettings settings, DnsResolve resolve);

    // The names after a site (re)load, with the answers the policy was compiled with.
    // Names already known keep their state; names no longer used are dropped.
    void set_names(const std::vector<std::pair<std::string, std::string>>& names_and_endpoints, const DnsAnswers& answers,
                   SysSeconds now);
    void set_settings(const DnsSettings& s) { settings_ = s; }
    void set_resolve(DnsResolve resolve) { resolve_ = std::move(resolve); }
    // Asks again every name that is due and ends grace periods that are over.
    DnsRefreshOutcome refresh(SysSeconds now);
    // When refresh() next has something to do; nullopt: no names.
    std::optional<SysSeconds> next_due() const;
    // Each name with its allowed addresses (answer + grace), its TTL and when it was resolved.
    DnsAnswers allowed() const;
    // Each name's last good answer, as the resolution cache keeps it.
    DnsAnswers answers() const;
    const std::map<std::string, DnsNameState>& names() const { return names_; }
    uint64_t failures() const { return failures_; }
    // [{name, endpoint, addresses, grace: [{address, until}], ttl, resolved, next_refresh, failing, error, failures}]
    nlohmann::json status() const;

private:
    SysSeconds next_after(const DnsAnswer& a, SysSeconds now) const;
    DnsSettings settings_;
    DnsResolve resolve_;
    std::map<std::string, DnsNameState> names_;
    uint64_t failures_ = 0;
};

// Puts the allowed addresses into every group of the policy that has DNS names.
struct Policy;
void rebind_dns(Policy& policy, const DnsAnswers& allowed);

// Metrics lines (Prometheus text) for the DNS table.
std::string render_dns_metrics(const DnsRefresher& r);
// The lines `wardgate status` prints for the "dns" part of the status.
std::string render_dns_status_text(const nlohmann::json& dns);

}  // namespace wardgate
