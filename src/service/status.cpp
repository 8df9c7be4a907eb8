// The status document and its text form; the policy version.
#include <fmt/format.h>

#include "wardgate/service/status.hpp"
#include "wardgate/service/namespace_paths.hpp"

namespace wardgate::service {

std::string policy_version(const nft::Ruleset& ruleset, nft::SetDigests* digests) {
    return fmt::format("fnv1a64:{:016x}", nft::ruleset_digest(ruleset, digests));
}

std::filesystem::path default_socket_path() { return per_network_namespace("/run/wardgate") / "status.sock"; }

namespace {

nlohmann::json record_json(const ApplyRecord& a) {
    if (a.time.empty()) return nullptr;
    nlohmann::json j{{"time", a.time}, {"result", a.result}, {"version", a.version}, {"message", a.message}};
    if (!a.diagnostics.empty()) j["diagnostics"] = a.diagnostics;
    return j;
}

std::string str(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string record_text(const nlohmann::json& j) {
    if (!j.is_object()) return "never\n";
    std::string out = fmt::format("{} {}", str(j, "time"), str(j, "result"));
    if (!str(j, "version").empty()) out += " " + str(j, "version");
    if (!str(j, "message").empty()) out += ": " + str(j, "message");
    out += "\n";
    if (auto d = j.find("diagnostics"); d != j.end())
        for (const auto& line : *d) out += "                   " + line.get<std::string>() + "\n";
    return out;
}

}  // namespace

nlohmann::json to_json(const ServiceStatus& s) {
    nlohmann::json segments = nlohmann::json::array();
    for (const auto& seg : s.segments) {
        nlohmann::json j{{"name", seg.name}, {"mode", seg.mode}, {"vlan", seg.vlan ? nlohmann::json(*seg.vlan) : nullptr}};
        auto counted = [&](uint64_t v) { return seg.counters_known ? nlohmann::json(v) : nlohmann::json(nullptr); };
        j["dropped_packets"] = counted(seg.dropped_packets);
        j["dropped_bytes"] = counted(seg.dropped_bytes);
        j["would_be_dropped_packets"] = counted(seg.would_be_dropped_packets);
        j["would_be_dropped_bytes"] = counted(seg.would_be_dropped_bytes);
        auto accepted = [&](uint64_t v) { return seg.accept_counters_known ? nlohmann::json(v) : nlohmann::json(nullptr); };
        j["accepted_packets"] = accepted(seg.accepted_packets);
        j["accepted_bytes"] = accepted(seg.accepted_bytes);
        segments.push_back(std::move(j));
    }
    nlohmann::json monitored = nlohmann::json::array();
    for (const auto& m : s.monitored_devices) monitored.push_back({{"device", m.device}, {"why", m.why}});
    nlohmann::json pending = nullptr;
    if (s.pending_commit) pending = {{"id", *s.pending_commit}, {"deadline", s.pending_deadline}};
    nlohmann::json controller = nullptr;
    if (s.controller) {
        const auto& c = *s.controller;
        controller = {{"database", c.database},
                      {"reachable", c.reachable},
                      {"last_error", c.last_error},
                      {"last_contact", c.last_contact},
                      {"applied_version", c.applied_version},
                      {"applied_published_at", c.applied_published_at},
                      {"latest_version", c.latest_version},
                      {"refused_versions", c.refused_versions},
                      {"last_refusal", c.last_refusal}};
    }
    return {
        {"controller", controller},
        {"site", s.site},
        {"site_dir", s.site_dir},
        {"gateway", s.gateway.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.gateway)},
        {"pid", s.pid},
        {"started", s.started},
        {"policy_version", s.policy_version},
        {"site_version", s.site_version},
        {"enforcement", s.enforcement},
        {"last_apply", record_json(s.last_apply)},
        {"last_reload", record_json(s.last_reload)},
        {"drift",
         {{"detected", s.drift},
          {"last_check", s.last_drift_check},
          {"last_event", s.last_drift.empty() ? nlohmann::json(nullptr)
                                              : nlohmann::json{{"time", s.last_drift},
                                                               {"differences", s.drift_differences},
                                                               {"reasserted", s.drift_reasserted}}}}},
        {"segments", segments},
        {"monitored_devices", monitored},
        {"trials", s.trials},
        {"conntrack", {{"lost_events", s.conntrack_lost_events ? nlohmann::json(*s.conntrack_lost_events) : nullptr}}},
        {"commit_confirmed", pending},
        {"vlan", s.vlan},
        {"counters",
         {{"applies", s.counters.applies},
          {"apply_failures", s.counters.apply_failures},
          {"reloads", s.counters.reloads},
          {"rejected_reloads", s.counters.rejected_reloads},
          {"rollbacks", s.counters.rollbacks},
          {"drift_events", s.counters.drift_events},
          {"reasserts", s.counters.reasserts}}},
    };
}

std::string render_status_text(const nlohmann::json& j) {
    std::string out;
    out += fmt::format("site:            {} ({})\n", str(j, "site"), str(j, "site_dir"));
    if (j.contains("gateway") && j["gateway"].is_string())
        out += fmt::format("gateway:         {} (its slice of the site's policy)\n", j["gateway"].get<std::string>());
    if (auto c = j.find("controller"); c != j.end() && c->is_object()) {
        out += fmt::format("controller:      {} {}\n", str(*c, "database"),
                           c->value("reachable", false) ? "reachable" : "UNREACHABLE: " + str(*c, "last_error") +
                                                                            " (the last applied version stays enforced)");
        out += fmt::format("published:       version {} applied ({}), latest seen {}\n", c->value("applied_version", 0),
                           str(*c, "applied_published_at"), c->value("latest_version", 0));
        if (c->value("refused_versions", 0) > 0)
            out += fmt::format("REFUSED:         {} version(s); last: {}\n", c->value("refused_versions", 0), str(*c, "last_refusal"));
    }
    out += fmt::format("service:         pid {}, started {}\n", j.value("pid", 0), str(j, "started"));
    out += fmt::format("policy version:  {}\n", str(j, "policy_version").empty() ? "(none applied)" : str(j, "policy_version"));
    if (str(j, "site_version") != str(j, "policy_version") && !str(j, "site_version").empty())
        out += fmt::format("site version:    {} (not enforced)\n", str(j, "site_version"));
    out += fmt::format("enforcement:     {}\n", str(j, "enforcement"));
    out += "last apply:      " + record_text(j.value("last_apply", nlohmann::json()));
    out += "last site load:  " + record_text(j.value("last_reload", nlohmann::json()));
    const auto& drift = j.at("drift");
    std::string checked = str(drift, "last_check").empty() ? "never" : str(drift, "last_check");
    out += fmt::format("drift:           {} (checked {})\n", drift.value("detected", false) ? "yes" : "none", checked);
    if (const auto& e = drift.at("last_event"); e.is_object()) {
        out += fmt::format("last drift:      {}{}\n", str(e, "time"), e.value("reasserted", false) ? ", policy re-asserted" : "");
        for (const auto& d : e.at("differences")) out += "                   " + d.get<std::string>() + "\n";
    }
    if (const auto& p = j.at("commit_confirmed"); p.is_object())
        out += fmt::format("pending commit:  {} rolls back at {} unless `wardgate confirm`\n", str(p, "id"), str(p, "deadline"));
    if (!str(j, "vlan").empty()) out += "VLAN links:      " + str(j, "vlan") + "\n";
    out += "segments:\n";
    auto number = [](const nlohmann::json& s, const char* key) {
        auto it = s.find(key);
        return it == s.end() || !it->is_number() ? std::string("?") : std::to_string(it->get<uint64_t>());
    };
    for (const auto& s : j.at("segments")) {
        bool monitor = str(s, "mode") == "monitor";
        out += fmt::format("  {:<20} {:<8} accepted {:>12} packets {:>14} bytes, {} {:>12} packets {:>14} bytes",
                           str(s, "name"), str(s, "mode"), number(s, "accepted_packets"), number(s, "accepted_bytes"),
                           monitor ? "would have dropped" : "dropped",
                           number(s, monitor ? "would_be_dropped_packets" : "dropped_packets"),
                           number(s, monitor ? "would_be_dropped_bytes" : "dropped_bytes"));
        if (!monitor && number(s, "would_be_dropped_packets") != "0" && number(s, "would_be_dropped_packets") != "?")
            out += fmt::format(", would have dropped {} packets of devices in monitor", number(s, "would_be_dropped_packets"));
        out += "\n";
    }
    if (auto it = j.find("monitored_devices"); it != j.end() && !it->empty()) {
        out += "devices in monitor:\n";
        for (const auto& m : *it) out += fmt::format("  {:<20} {}\n", str(m, "device"), str(m, "why"));
    }
    if (auto it = j.find("trials"); it != j.end() && !it->empty()) {
        out += "on trial:\n";
        for (const auto& t : *it) out += "  " + t.get<std::string>() + "\n";
    }
    const auto& lost = j.at("conntrack").at("lost_events");
    out += fmt::format("conntrack:       lost events {}\n", lost.is_null() ? std::string("unknown") : std::to_string(lost.get<uint64_t>()));
    const auto& c = j.at("counters");
    out += fmt::format("counters:        applies {}, failed applies {}, site reloads {} ({} rejected), rollbacks {}, drift events {}, re-asserts {}\n",
                       c.value("applies", 0), c.value("apply_failures", 0), c.value("reloads", 0), c.value("rejected_reloads", 0),
                       c.value("rollbacks", 0), c.value("drift_events", 0), c.value("reasserts", 0));
    return out;
}

}  // namespace wardgate::service
