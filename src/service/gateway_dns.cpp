// The gateway's DNS-only endpoints: their names are compiled from the live table, asked
// again when their TTL runs out, and a change is applied as an element delta of their sets.
#include <spdlog/spdlog.h>

#include "gateway.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/resolve/cache.hpp"

namespace wardgate::service::detail {

namespace {

// The service asks in its event loop: a dead nameserver must not hold it for long.
constexpr auto kQueryTimeout = std::chrono::milliseconds(1000);

SysSeconds now_seconds() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

}  // namespace

DnsBindOptions Gateway::dns_bind_options() const {
    DnsBindOptions o;
    o.nameserver = o_.nameserver;
    if (dns_) o.given = dns_->allowed();
    return o;
}

void Gateway::open_alert_sinks() {
    if (!dns_alerts_.empty()) return;
    dns_alerts_.push_back(std::make_unique<LogAlertSink>());
    if (!o_.alerts_file.empty()) {
        try {
            dns_alerts_.push_back(std::make_unique<JsonLinesAlertSink>(o_.alerts_file));
        } catch (const std::exception& e) {
            spdlog::error("alerts: {}", e.what());
        }
    }
}

void Gateway::follow_dns(const DnsSettings& settings) {
    std::string nameserver = o_.nameserver.empty() ? settings.nameserver : o_.nameserver;
    auto resolver = std::make_shared<Resolver>(ResolverOptions{nameserver, kQueryTimeout, 2});
    DnsResolve resolve = [resolver](const std::string& name) { return resolver->resolve(name); };
    if (!dns_) {
        dns_ = std::make_unique<DnsRefresher>(settings, resolve);
        open_alert_sinks();
    }
    dns_->set_settings(settings);
    dns_->set_resolve(resolve);
}

void Gateway::dns_loaded(const Site& site, const DnsAnswers& compiled_with) {
    auto uses = dns_only_names(site);
    if (uses.empty() && !dns_) return;
    follow_dns(site.dns);
    std::vector<std::pair<std::string, std::string>> names;
    for (const auto& u : uses) names.emplace_back(u.name, u.endpoint->name);
    dns_->set_names(names, compiled_with, now_seconds());
}

// A published slice carries its DNS names with the publisher's answers: the gateway asks
// them itself from then on, and a name it already follows keeps its live answer.
void Gateway::dns_published(Policy& policy) {
    std::vector<std::pair<std::string, std::string>> names;
    DnsAnswers compiled_with;
    for (const auto& g : policy.groups)
        for (const auto& b : g.dns) {
            if (compiled_with.count(b.name)) continue;
            names.emplace_back(b.name, b.endpoint);
            DnsAnswer& a = compiled_with[b.name];
            a.addresses = b.addresses;
            // "2026-11-22T10:15Z"; an unreadable time makes it due at once
            const std::string when = b.resolved.size() == 17 ? b.resolved.substr(0, 16) + ":00Z" : b.resolved;
            if (auto t = parse_resolution_time(when)) a.resolved = *t;
        }
    if (names.empty() && !dns_) return;
    follow_dns(policy.dns);
    dns_->set_names(names, compiled_with, now_seconds());
    rebind_dns(policy, dns_->allowed());
}

void Gateway::refresh_dns() {
    if (!dns_) return;
    auto now = now_seconds();
    auto due = dns_->next_due();
    if (!due || now < *due) return;
    DnsRefreshOutcome out;
    try {
        out = dns_->refresh(now);
    } catch (const std::exception& e) {
        spdlog::error("DNS refresh: {}", e.what());
        return;
    }
    for (const auto& f : out.failures) {
        spdlog::warn("DNS: {} (endpoint {}) does not resolve: {}; its last addresses stay", f.name, f.endpoint, f.error);
        if (!f.first) continue;
        Alert a = dns_failure_alert(f.endpoint, f.name, f.error, f.kept,
                                    static_cast<double>(now.time_since_epoch().count()));
        for (auto& sink : dns_alerts_) {
            try {
                sink->send(a);
            } catch (const std::exception& e) {
                spdlog::error("alert: {}", e.what());
            }
        }
    }
    for (const auto& c : out.changes) spdlog::info("DNS: {}", c);
    if (!out.changes.empty()) {
        try {
            // Following published versions there is no site directory: the cache is the gateway's own.
            write_dns_cache(source_ ? state_dir_ / "dns-cache.json" : default_dns_cache(o_.site_dir), dns_->answers());
        } catch (const std::exception& e) {
            spdlog::warn("DNS: cannot keep the answers in the resolution cache: {}", e.what());
        }
    }
    if (out.changed && desired_) {
        Desired d = waiting_ ? *waiting_ : *desired_;
        rebind_dns(d.policy, dns_->allowed());
        d.ruleset = nft::lower_policy(d.policy);
        d.version = policy_version(d.ruleset, &set_digests_);
        enforce(std::move(d), false);
    }
    if (out.changed || !out.failures.empty()) write_metrics();
}

void Gateway::add_dns_status(nlohmann::json& status) const {
    if (dns_) status["dns"] = dns_->status();
}

std::string Gateway::dns_metrics() const { return dns_ ? render_dns_metrics(*dns_) : ""; }

}  // namespace wardgate::service::detail
