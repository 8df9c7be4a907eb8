#include "gateway.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "service_loop.hpp"
#include "state_lock.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/netlink/vlan.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft.hpp"

namespace wardgate::service::detail {

std::string now_text() { return describe_ms(now_ms()); }

ApplyRecord record(std::string result, std::string version, std::string message) {
    return {now_text(), std::move(result), std::move(version), std::move(message), {}};
}

namespace {

constexpr size_t kMaxDifferences = 20;

std::string apply_error_text(const std::exception& e) {
    std::string out = e.what();
    if (auto* a = dynamic_cast<const netlink::ApplyError*>(&e))
        for (const auto& k : a->errors()) out += "; " + k.message;
    return out;
}

}  // namespace

Gateway::Gateway(const ServeOptions& options) : o_(options) {
    state_dir_ = o_.state_dir.empty() ? default_state_dir() : o_.state_dir;
    st_.site_dir = o_.site_dir.empty() ? "" : std::filesystem::absolute(o_.site_dir).string();
    st_.gateway = o_.gateway;
    if (!o_.from.empty()) {
        st_.controller.emplace();
        source_ = std::make_unique<PublishedSource>(o_, *st_.controller);  // a bad publisher key stops the start
    }
    st_.pid = static_cast<int>(getpid());
    st_.started = now_text();
    st_.enforcement = "not-applied";
}

Gateway::Desired Gateway::desired_of(Policy policy, const std::string& loading) {
    const auto lowering = std::chrono::steady_clock::now();
    Desired d;
    d.ruleset = nft::lower_policy(policy);
    d.version = policy_version(d.ruleset, &set_digests_);
    d.took = loading + fmt::format(", lowering {:.0f} ms", ms_since(lowering));
    d.site_name = policy.site;
    for (const auto& s : policy.segments) d.segments.push_back({s.name, policy.monitor(s) ? "monitor" : "enforce", s.vlan});
    for (const auto& m : policy.monitored)
        if (!m.cause.by_segment()) d.monitored_devices.push_back({m.device, m.cause.why});
    for (const auto& r : policy.rules)
        if (r.trial())
            for (const auto& w : r.why) d.trials.push_back(fmt::format("{} ({}): {}", w.source, w.origin, r.trial_effect()));
    d.policy = std::move(policy);
    return d;
}

std::optional<Gateway::Desired> Gateway::load_site(const std::string& why) {
    if (source_) return load_published(why);
    try {
        PipelineOptions po;
        po.today = today_utc();
        po.dns = dns_bind_options();
        po.gateway = o_.gateway;
        po.site_cache = &site_cache_;
        po.flow_cache = &flow_cache_;
        po.compile_memo = &compile_memo_;
        Pipeline p = run_pipeline(o_.site_dir, po);
        dns_loaded(*p.site, p.dns);
        // The policy moves to what is applied; the scorecard below reads the rest of the pipeline.
        Desired d = desired_of(std::move(p.policy), detail::stage_times(p.stages));
        st_.site = d.site_name;
        st_.site_version = d.version;
        st_.last_reload = record("ok", d.version, why);
        // The scorecard is for status and metrics: scored once the kernel holds the policy.
        loaded_ = std::make_shared<const Pipeline>(std::move(p));
        return d;
    } catch (const InputError& e) {
        st_.last_reload = record("rejected", "", why + ": the site does not validate; the running policy stays");
        for (const auto& d : e.diagnostics()) st_.last_reload.diagnostics.push_back(d.to_string());
        ++st_.counters.rejected_reloads;
        spdlog::error("{}: the site does not validate, the running policy {} stays in place:", why,
                      st_.policy_version.empty() ? "(none)" : st_.policy_version);
        for (const auto& d : st_.last_reload.diagnostics) spdlog::error("  {}", d);
    } catch (const std::exception& e) {
        st_.last_reload = record("rejected", "", why + ": " + e.what());
        st_.last_reload.diagnostics.push_back(e.what());
        ++st_.counters.rejected_reloads;
        spdlog::error("{}: cannot load the site, the running policy stays in place: {}", why, e.what());
    }
    return std::nullopt;
}

bool Gateway::enforce(Desired d, bool commit_confirmed) {
    if (pending_) {
        spdlog::info("policy {} waits: commit {} is waiting for confirmation", d.version, pending_->id);
        waiting_ = std::move(d);
        return false;
    }
    if (rejected_.count(d.version)) {
        spdlog::warn("policy {} was rolled back unconfirmed; it is not re-applied until the site changes", d.version);
        st_.last_apply = record("rejected", d.version, "rolled back unconfirmed earlier; edit the site to apply another version");
        return false;
    }
    std::optional<CommitConfirmed> cc;
    try {
        if (commit_confirmed && o_.confirm_within.count() > 0) {
            CommitConfirmedOptions co;
            co.state_dir = state_dir_;
            co.table = table();
            co.within = o_.confirm_within;
            co.site = st_.site_dir;
            co.version = d.version;
            cc.emplace(CommitConfirmed::begin(co));
        }
        const auto applying = std::chrono::steady_clock::now();
        netlink::ApplyOptions ao;
        ao.encodings = &set_encodings_;
        ++table_writes_;
        auto r = netlink::apply_ruleset(d.ruleset, ao);
        const double kernel_ms = ms_since(applying);
        if (cc) {
            cc->finish();
            pending_ = cc->record();
            st_.pending_commit = pending_->id;
            st_.pending_deadline = describe_ms(pending_->deadline_ms);
            spdlog::warn("policy {} applied; it is rolled back at {} unless `wardgate confirm`", d.version, st_.pending_deadline);
        }
        std::string how = r.unchanged     ? "the kernel already held it"
                          : r.incremental ? fmt::format("set elements only: +{} -{}", r.elements_added, r.elements_removed)
                                          : fmt::format("whole table, {} messages", r.messages);
        if (!r.unchanged) ++st_.counters.applies;
        st_.last_apply = record(r.unchanged ? "unchanged" : "ok", d.version, how);
        // The policy two versions back is freed once this one is reported (a large site's
        // policy takes a while to free, and the kernel already holds the new one).
        std::optional<Desired> retired;
        if (!desired_ || desired_->version != d.version) {
            retired = std::move(fallback_);
            fallback_ = std::move(desired_);
        }
        desired_ = std::move(d);  // moved, not copied: it holds the whole policy and ruleset
        const Desired& now = *desired_;
        st_.policy_version = now.version;
        st_.enforcement = pending_ ? "waiting-for-confirmation" : active_state(now);
        if (now.took.empty())
            spdlog::info("policy {} applied ({})", now.version, how);
        else
            spdlog::info("policy {} applied ({}); {}, kernel {:.0f} ms", now.version, how, now.took, kernel_ms);
        if (now.published) published_applied(*now.published);  // the kernel holds it: then the copy kept on disk
        return true;
    } catch (const std::exception& e) {
        if (cc) cc->abandon();
        ++st_.counters.apply_failures;
        st_.last_apply = record("failed", d.version, apply_error_text(e));
        spdlog::error("applying policy {} failed, the kernel keeps {}: {}", d.version,
                      st_.policy_version.empty() ? "what it had" : st_.policy_version, apply_error_text(e));
        return false;
    }
}

// From the policy being enforced, so a gateway following published versions (no site files)
// keeps its segments' links as one reading the site does.
void Gateway::setup_vlans(const Policy& policy) {
    std::string trunk = o_.trunk;
    if (trunk.empty() && policy.gateway) trunk = policy.gateway->trunk;
    if (trunk.empty()) return;
    try {
        auto desired = netlink::desired_vlan_links(policy, trunk);
        auto plan = netlink::plan_vlan_links_live(desired, trunk);
        if (plan.changes()) {
            spdlog::info("VLAN links on {}:\n{}", trunk, netlink::print_vlan_plan(plan));
            netlink::apply_vlan_plan(plan, trunk);
        }
        st_.vlan = plan.conflicts.empty() ? "ok" : "conflicts: " + fmt::format("{}", fmt::join(plan.conflicts, "; "));
        for (const auto& c : plan.conflicts) spdlog::warn("VLAN links: {}", c);
    } catch (const std::exception& e) {
        st_.vlan = e.what();
        spdlog::error("VLAN links on {}: {}", trunk, e.what());
    }
}

void Gateway::start() {
    try {
        conntrack_ = std::make_unique<observe::ConntrackWatch>();
    } catch (const std::exception& e) {
        spdlog::warn("{}; lost conntrack events stay unknown", e.what());
    }
    tick();
    auto d = load_site("service start");
    if (!d && source_ && !st_.controller->reachable) d = load_kept();
    if (!d) return;
    setup_vlans(d->policy);
    enforce(std::move(*d), false);
    score();
    write_metrics();
}

void Gateway::score() {
    if (!loaded_) return;
    try {
        scorer_.submit(std::move(loaded_));
    } catch (const std::exception& e) {  // no thread to score on: the policy is what matters
        spdlog::warn("scorecard: {}; status and metrics keep the previous one", e.what());
    }
    loaded_.reset();
}

void Gateway::scored() {
    try {
        auto kpis = scorer_.take();
        if (!kpis) return;
        st_.kpis = std::move(*kpis);
        write_metrics();
    } catch (const std::exception& e) {
        spdlog::warn("scorecard: {}; status and metrics keep the previous one", e.what());
    }
}

void Gateway::reload(const std::string& what_changed) {
    ++st_.counters.reloads;
    spdlog::info("site changed ({}): reloading", what_changed);
    auto d = load_site("site changed: " + what_changed);
    if (!d) {
        flow_cache_.release_retired();
        write_metrics();
        return;
    }
    // Another version than the one rolled back: the operator has edited the site.
    if (!rejected_.count(d->version)) rejected_.clear();
    setup_vlans(d->policy);
    if (desired_ && desired_->version == d->version && !pending_) {
        spdlog::info("policy {} unchanged", d->version);
        desired_ = std::move(d);
    } else {
        enforce(std::move(*d), true);
    }
    flow_cache_.release_retired();  // the previous site's edges: freed now the policy is in place
    score();
    write_metrics();
}

void Gateway::check_drift() {
    if (!desired_ || pending_ || drift_job_.busy()) return;
    // Reading back a table of a hundred thousand elements takes the kernel a few hundred
    // milliseconds: done on a thread of its own against a copy, so an edit meanwhile is not kept
    // waiting. What it finds counts only if the table was not written since it started.
    auto ruleset = std::make_shared<const nft::Ruleset>(desired_->ruleset);
    drift_version_ = desired_->version;
    drift_writes_ = table_writes_;
    // Lowest priority: reading back a large table takes a while, and an edit arriving meanwhile
    // is applied first.
    drift_job_.start([ruleset, encodings = &drift_encodings_] { return netlink::check_drift(*ruleset, encodings); }, 19);
}

void Gateway::drift_checked() {
    try {
        auto checked = drift_job_.take();
        if (!checked) return;
        if (!desired_ || pending_ || desired_->version != drift_version_ || table_writes_ != drift_writes_) return;
        const netlink::Drift& drift = *checked;
        st_.last_drift_check = now_text();
        if (!drift.any()) {
            st_.drift = false;
            write_metrics();
            return;
        }
        ++st_.counters.drift_events;
        st_.drift = true;
        st_.last_drift = st_.last_drift_check;
        st_.drift_reasserted = false;
        st_.drift_differences.clear();
        if (drift.table_missing) st_.drift_differences.push_back("table inet " + table() + " is missing");
        for (const auto& s : drift.differences) {
            if (st_.drift_differences.size() == kMaxDifferences) {
                st_.drift_differences.push_back(fmt::format("... and {} more", drift.differences.size() - kMaxDifferences + 1));
                break;
            }
            st_.drift_differences.push_back(s);
        }
        spdlog::warn("drift: table inet {} differs from policy {}:", table(), desired_->version);
        for (const auto& s : st_.drift_differences) spdlog::warn("  {}", s);
        netlink::ApplyOptions ao;
        ao.encodings = &set_encodings_;
        ++table_writes_;
        auto r = netlink::apply_ruleset(desired_->ruleset, ao);
        ++st_.counters.reasserts;
        if (!r.unchanged) ++st_.counters.applies;
        st_.drift = false;
        st_.drift_reasserted = true;
        st_.last_apply = record("ok", desired_->version, "re-asserted after drift");
        spdlog::info("policy {} re-asserted", desired_->version);
    } catch (const std::exception& e) {
        ++st_.counters.apply_failures;
        st_.last_apply = record("failed", desired_->version, "re-asserting after drift: " + apply_error_text(e));
        spdlog::error("drift check or re-assert failed: {}", apply_error_text(e));
    }
    write_metrics();
}

void Gateway::rolled_back(const RollbackRecord& r, const std::string& message) {
    ++st_.counters.rollbacks;
    handled_rollback_ = r.id;
    spdlog::warn("commit {} was not confirmed in time: {}", r.id, message);
    if (!r.version.empty()) rejected_.insert(r.version);
    if (desired_ && desired_->version == r.version) {
        desired_ = std::move(fallback_);
        fallback_.reset();
    }
    st_.policy_version = desired_ ? desired_->version : "";
    st_.last_apply = record("rolled-back", r.version, message);
}

void Gateway::tick() {
    try {
        auto files = record_files(state_dir_, table());
        auto current = read_record(files.pending);
        if (current && now_ms() >= current->deadline_ms) {
            ++table_writes_;
            auto r = rollback_if_due(state_dir_, table(), current->id);
            if (r.rolled_back()) rolled_back(*current, r.message);
            current = read_record(files.pending);
        }
        if (pending_ && (!current || current->id != pending_->id)) {
            // Resolved elsewhere: the watchdog rolled it back, or `wardgate confirm`.
            auto last = read_record(files.rolled_back);
            if (last && last->id == pending_->id && last->id != handled_rollback_)
                rolled_back(*last, "rolled back by its watchdog");
            else if (auto ok = read_record(files.confirmed); ok && ok->id == pending_->id)
                spdlog::info("commit {} confirmed", pending_->id);
        }
        pending_ = current;
        st_.pending_commit = current ? std::optional<std::string>(current->id) : std::nullopt;
        st_.pending_deadline = current ? describe_ms(current->deadline_ms) : "";
        if (pending_) {
            st_.enforcement = "waiting-for-confirmation";
        } else {
            st_.enforcement = desired_ ? active_state(*desired_) : "not-applied";
            if (waiting_) {
                auto d = std::move(*waiting_);
                waiting_.reset();
                enforce(std::move(d), true);
            }
        }
    } catch (const std::exception& e) {
        spdlog::error("commit-confirmed bookkeeping: {}", e.what());
    }
    refresh_dns();
}

void Gateway::refresh_counters() {
    if (conntrack_) st_.conntrack_lost_events = conntrack_->lost_events();
    if (!desired_) return;
    st_.segments = desired_->segments;
    st_.monitored_devices = desired_->monitored_devices;
    st_.trials = desired_->trials;
    try {
        auto counters = netlink::read_segment_counters(table());
        for (auto& seg : st_.segments) {
            auto it = std::find_if(counters.begin(), counters.end(), [&](const auto& c) { return c.segment == seg.name; });
            if (it == counters.end()) continue;
            if (it->monitor) seg.mode = *it->monitor ? "monitor" : "enforce";  // what the kernel does, not what was meant
            if (it->has_drop_counter) {
                seg.dropped_packets = it->dropped_packets;
                seg.dropped_bytes = it->dropped_bytes;
                seg.would_be_dropped_packets = it->would_be_dropped_packets;
                seg.would_be_dropped_bytes = it->would_be_dropped_bytes;
                seg.counters_known = true;
            }
            if (it->has_accept_counter) {
                seg.accepted_packets = it->accepted_packets;
                seg.accepted_bytes = it->accepted_bytes;
                seg.accept_counters_known = true;
            }
        }
    } catch (const std::exception& e) {
        spdlog::warn("cannot read the segment counters: {}", e.what());
    }
}

nlohmann::json Gateway::status() {
    refresh_counters();
    auto j = to_json(st_);
    add_dns_status(j);
    return j;
}

void Gateway::write_metrics() {
    if (o_.metrics_file.empty()) return;
    refresh_counters();
    try {
        write_metrics_file(o_.metrics_file, render_metrics(st_) + dns_metrics());
    } catch (const std::exception& e) {
        spdlog::warn("metrics: {}", e.what());
    }
}

}  // namespace wardgate::service::detail
