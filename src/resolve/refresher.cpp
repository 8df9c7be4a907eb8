#include "wardgate/resolve/refresher.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

std::vector<IpAddress> DnsNameState::allowed() const {
    std::vector<IpAddress> out = answer.addresses;
    for (const auto& [a, until] : leaving) out.push_back(a);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

DnsRefresher::DnsRefresher(DnsSettings settings, DnsResolve resolve)
    : settings_(std::move(settings)), resolve_(std::move(resolve)) {}

SysSeconds DnsRefresher::next_after(const DnsAnswer& a, SysSeconds now) const {
    uint32_t ttl = std::clamp(a.ttl, settings_.min_ttl, settings_.max_ttl);
    // An answer from the cache may be old: then it is due now, but no sooner than the floor after it was taken.
    return std::max(a.resolved + std::chrono::seconds(ttl), std::min(now, a.resolved + std::chrono::seconds(settings_.min_ttl)));
}

void DnsRefresher::set_names(const std::vector<std::pair<std::string, std::string>>& names_and_endpoints,
                             const DnsAnswers& answers, SysSeconds now) {
    std::map<std::string, DnsNameState> next;
    for (const auto& [name, endpoint] : names_and_endpoints) {
        auto it = names_.find(name);
        DnsNameState st;
        if (it != names_.end()) {
            st = std::move(it->second);
        } else {
            st.name = name;
            if (auto a = answers.find(name); a != answers.end()) st.answer = a->second;
            st.next_refresh = st.answer.addresses.empty() ? now : next_after(st.answer, now);
        }
        st.endpoint = endpoint;
        next[name] = std::move(st);
    }
    names_ = std::move(next);
}

namespace {

std::string join(const std::vector<IpAddress>& list) {
    std::string out;
    for (const auto& a : list) out += (out.empty() ? "" : ", ") + a.to_string();
    return out;
}

}  // namespace

DnsRefreshOutcome DnsRefresher::refresh(SysSeconds now) {
    DnsRefreshOutcome out;
    for (auto& [name, st] : names_) {
        for (auto it = st.leaving.begin(); it != st.leaving.end();) {
            if (it->second > now) {
                ++it;
                continue;
            }
            out.changed = true;
            out.changes.push_back(fmt::format("{}: -{} (grace period over)", name, it->first.to_string()));
            it = st.leaving.erase(it);
        }
        if (now < st.next_refresh) continue;
        Resolution r = resolve_(name);
        if (!r.ok()) {
            ++st.failures;
            ++failures_;
            out.failures.push_back({name, st.endpoint, r.message, st.allowed(), !st.failing});
            st.failing = true;
            st.last_error = r.message;
            st.last_failure = now;
            st.next_refresh = now + std::chrono::seconds(settings_.min_ttl);
            continue;
        }
        auto before = st.allowed();
        std::vector<IpAddress> gone;
        std::set_difference(st.answer.addresses.begin(), st.answer.addresses.end(), r.answer.addresses.begin(),
                            r.answer.addresses.end(), std::back_inserter(gone));
        for (const auto& a : r.answer.addresses) st.leaving.erase(a);
        for (const auto& a : gone)
            if (settings_.grace > 0) st.leaving[a] = now + std::chrono::seconds(settings_.grace);
        st.answer = r.answer;
        st.failing = false;
        st.last_error.clear();
        st.next_refresh = next_after(st.answer, now);
        auto after = st.allowed();
        if (before != after || !gone.empty()) {
            out.changed = out.changed || before != after;
            std::string text = fmt::format("{}: now {}", name, join(st.answer.addresses));
            if (!gone.empty())
                text += fmt::format(" ({} left the answer{})", join(gone),
                                    settings_.grace ? fmt::format(", allowed until {}",
                                                                  resolution_time(now + std::chrono::seconds(settings_.grace)))
                                                    : "");
            out.changes.push_back(text);
        }
    }
    return out;
}

std::optional<SysSeconds> DnsRefresher::next_due() const {
    std::optional<SysSeconds> out;
    auto take = [&](SysSeconds t) { out = out ? std::min(*out, t) : t; };
    for (const auto& [name, st] : names_) {
        take(st.next_refresh);
        for (const auto& [a, until] : st.leaving) take(until);
    }
    return out;
}

DnsAnswers DnsRefresher::allowed() const {
    DnsAnswers out;
    for (const auto& [name, st] : names_) {
        if (st.answer.addresses.empty() && st.leaving.empty()) continue;
        out[name] = {st.allowed(), st.answer.ttl, st.answer.resolved};
    }
    return out;
}

DnsAnswers DnsRefresher::answers() const {
    DnsAnswers out;
    for (const auto& [name, st] : names_)
        if (!st.answer.addresses.empty()) out[name] = st.answer;
    return out;
}

nlohmann::json DnsRefresher::status() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, st] : names_) {
        nlohmann::json addresses = nlohmann::json::array(), grace = nlohmann::json::array();
        for (const auto& a : st.answer.addresses) addresses.push_back(a.to_string());
        for (const auto& [a, until] : st.leaving)
            grace.push_back({{"address", a.to_string()}, {"until", resolution_time(until)}});
        nlohmann::json j = {{"name", name},
                            {"endpoint", st.endpoint},
                            {"addresses", addresses},
                            {"grace", grace},
                            {"ttl", st.answer.ttl},
                            {"resolved", st.answer.addresses.empty() ? "" : resolution_time(st.answer.resolved)},
                            {"next_refresh", resolution_time(st.next_refresh)},
                            {"failing", st.failing},
                            {"failures", st.failures}};
        if (st.failing) j["error"] = st.last_error;
        list.push_back(std::move(j));
    }
    return list;
}

void rebind_dns(Policy& policy, const DnsAnswers& allowed) {
    for (auto& g : policy.groups) {
        if (g.dns.empty()) continue;
        std::vector<Prefix> prefixes = g.fixed;
        for (auto& b : g.dns) {
            auto it = allowed.find(b.name);
            b.addresses = it == allowed.end() ? std::vector<IpAddress>{} : it->second.addresses;
            if (it != allowed.end()) b.resolved = resolution_minute(it->second.resolved);
            for (const auto& a : b.addresses) prefixes.push_back(Prefix::host(a));
        }
        g.prefixes = collapse_prefixes(std::move(prefixes));
    }
}

std::string render_dns_metrics(const DnsRefresher& r) {
    std::string out;
    out += "# HELP wardgate_dns_resolution_failures_total Attempts to resolve a DNS-only endpoint's name that failed.\n";
    out += "# TYPE wardgate_dns_resolution_failures_total counter\n";
    out += fmt::format("wardgate_dns_resolution_failures_total {}\n", r.failures());
    out += "# HELP wardgate_dns_addresses Addresses a DNS name allows (its answer and those in their grace period).\n";
    out += "# TYPE wardgate_dns_addresses gauge\n";
    for (const auto& [name, st] : r.names()) out += fmt::format("wardgate_dns_addresses{{name=\"{}\"}} {}\n", name, st.allowed().size());
    out += "# HELP wardgate_dns_failing 1 while a DNS name does not resolve and keeps its last addresses.\n";
    out += "# TYPE wardgate_dns_failing gauge\n";
    for (const auto& [name, st] : r.names()) out += fmt::format("wardgate_dns_failing{{name=\"{}\"}} {}\n", name, st.failing ? 1 : 0);
    return out;
}

std::string render_dns_status_text(const nlohmann::json& dns) {
    if (!dns.is_array() || dns.empty()) return "";
    std::string out = "DNS names:\n";
    for (const auto& n : dns) {
        std::string addresses;
        for (const auto& a : n.value("addresses", nlohmann::json::array()))
            addresses += (addresses.empty() ? "" : ", ") + a.get<std::string>();
        out += fmt::format("  {} (endpoint {}): {}  TTL {} s, resolved {}, next refresh {}\n", n.value("name", ""),
                           n.value("endpoint", ""), addresses.empty() ? "(none)" : addresses, n.value("ttl", 0u),
                           n.value("resolved", "never"), n.value("next_refresh", ""));
        for (const auto& g : n.value("grace", nlohmann::json::array()))
            out += fmt::format("    {} left the answer, allowed until {}\n", g.value("address", ""), g.value("until", ""));
        if (n.value("failing", false))
            out += fmt::format("    not resolving: {}; keeping the addresses above\n", n.value("error", ""));
    }
    return out;
}

}  // namespace wardgate
