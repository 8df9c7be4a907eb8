// serve --from: following the versions published in the policy database.
#include <spdlog/spdlog.h>

#include <chrono>

#include "gateway.hpp"
#include "service_loop.hpp"
#include "wardgate/alerts/alerts.hpp"
#include "wardgate/alerts/sinks.hpp"

namespace wardgate::service::detail {

std::optional<Gateway::Desired> Gateway::desired_of(AcceptedSlice a, const std::string& why, double accept_ms) {
    dns_published(a.policy);
    Desired d = desired_of(std::move(a.policy), fmt::format("fetch and checks {:.0f} ms", accept_ms));
    d.published = std::move(a.version);
    st_.site = d.site_name;
    st_.site_version = d.version;
    st_.controller->latest_version = std::max(st_.controller->latest_version, d.published->id);
    st_.last_reload = record("ok", d.version, why + ": published version " + std::to_string(d.published->id) + " of " +
                                                  d.published->published_at + " by " + d.published->author);
    return d;
}

std::optional<Gateway::Desired> Gateway::load_published(const std::string& why) {
    try {
        const auto start = std::chrono::steady_clock::now();
        auto a = source_->newer_than(st_.controller->applied_version);
        if (!a) return std::nullopt;
        return desired_of(std::move(*a), why, ms_since(start));
    } catch (const SliceRefused& e) {
        refused(e.what());
    } catch (const std::exception& e) {
        refused(e.what());
    }
    return std::nullopt;
}

std::optional<Gateway::Desired> Gateway::load_kept() {
    const auto start = std::chrono::steady_clock::now();
    auto a = source_->kept(state_dir_);
    if (!a) return std::nullopt;
    spdlog::warn("the policy database cannot be reached: enforcing the last applied version {} again", a->version.id);
    return desired_of(std::move(*a), "service start without the policy database: the last applied version",
                      ms_since(start));
}

void Gateway::refused(const std::string& why) {
    ControllerStatus& c = *st_.controller;
    ++c.refused_versions;
    c.last_refusal = why;
    ++st_.counters.rejected_reloads;
    st_.last_reload = record("rejected", "", why + "; the running policy stays");
    spdlog::error("refused a published version, the running policy {} stays: {}",
                  st_.policy_version.empty() ? "(none)" : st_.policy_version, why);
    open_alert_sinks();
    Alert a = policy_refused_alert(o_.gateway, why, static_cast<double>(now_ms()) / 1000.0);
    for (auto& sink : dns_alerts_) {
        try {
            sink->send(a);
        } catch (const std::exception& e) {
            spdlog::error("alert: {}", e.what());
        }
    }
}

void Gateway::published_applied(const PublishedVersion& v) {
    ControllerStatus& c = *st_.controller;
    c.applied_version = v.id;
    c.applied_published_at = v.published_at;
    try {
        source_->keep(state_dir_, v);
    } catch (const std::exception& e) {
        spdlog::warn("cannot keep a copy of version {}: {}", v.id, e.what());
    }
}

void Gateway::published_announced() {
    if (!source_ || !source_->announced()) return;
    ++st_.counters.reloads;
    auto d = load_published("a new version was published");
    if (!d) return;
    if (!rejected_.count(d->version)) rejected_.clear();
    enforce(std::move(*d), true);
    heartbeat();
    write_metrics();
}

void Gateway::heartbeat() {
    if (!source_) return;
    // Versions published while the database was away, or whose announcement was missed.
    if (auto d = load_published("catching up with the published versions")) {
        ++st_.counters.reloads;
        if (!rejected_.count(d->version)) rejected_.clear();
        enforce(std::move(*d), true);
    }
    Heartbeat h;
    h.site = source_->site();
    h.gateway = o_.gateway;
    h.instance = o_.instance;  // "" names it by its database login, which row-level security requires
    h.applied_version = st_.controller->applied_version;
    h.applied_at = st_.last_apply.time;
    h.mode = st_.enforcement;
    h.drift = st_.drift;
    if (st_.last_apply.result == "failed" || st_.last_apply.result == "rolled-back")
        h.last_error = st_.last_apply.message;
    else if (st_.last_reload.result == "rejected")
        h.last_error = st_.last_reload.message;
    h.detail = nlohmann::json{{"policy_version", st_.policy_version},
                              {"pid", st_.pid},
                              {"applies", st_.counters.applies},
                              {"apply_failures", st_.counters.apply_failures},
                              {"drift_events", st_.counters.drift_events},
                              {"refused_versions", st_.controller->refused_versions}}
                   .dump();
    if (!h.site.empty()) source_->beat(h);
}

}  // namespace wardgate::service::detail
