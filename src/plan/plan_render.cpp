#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "wardgate/plan/plan.hpp"

namespace wardgate {

namespace {

struct Palette {
    bool on;
    std::string paint(const std::string& code, const std::string& text) const {
        return on ? "\x1b[" + code + "m" + text + "\x1b[0m" : text;
    }
    std::string green(const std::string& t) const { return paint("32", t); }
    std::string red(const std::string& t) const { return paint("31", t); }
    std::string yellow(const std::string& t) const { return paint("33", t); }
    std::string bold(const std::string& t) const { return paint("1", t); }
};

std::string members_text(const std::vector<std::string>& members) {
    if (members.empty()) return "";
    std::string out;
    size_t shown = std::min<size_t>(members.size(), 5);
    for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + members[i];
    if (members.size() > shown) out += fmt::format(" and {} more", members.size() - shown);
    return fmt::format(" [{} member{}: {}]", members.size(), members.size() == 1 ? "" : "s", out);
}

std::string member_delta(const std::vector<std::string>& before, const std::vector<std::string>& now) {
    std::set<std::string> a(before.begin(), before.end()), b(now.begin(), now.end());
    std::string out;
    for (const auto& m : b)
        if (!a.count(m)) out += " +" + m;
    for (const auto& m : a)
        if (!b.count(m)) out += " -" + m;
    return out;
}

void rule_lines(std::string& out, const ReadableRule& r, const std::string& mark, const Palette& p) {
    std::string head = fmt::format("{} {:<5} {}{}{}", mark, r.action, r.src, members_text(r.src_members),
                                   !r.trial ? ""
                                   : r.action == "deny" ? "  (on trial: logs, drops nothing)"
                                                        : "  (on trial: logs each new connection)");
    std::string body = fmt::format("        -> {}{}\n        {}\n", r.dst, members_text(r.dst_members), r.services);
    for (const auto& w : r.why) body += "        why: " + w + "\n";
    std::string text = head + "\n" + body;
    out += mark == "+" ? p.green(text) : mark == "-" ? p.red(text) : p.yellow(text);
}

std::string comparison_line(const Plan& plan) {
    if (plan.at)
        return "the policy on " + *plan.at + " compared with today's (" + plan.today +
               "): approvals expired and life-cycle stages raised by their dates in between\n";
    std::string state = plan.have_state ? "the state saved " + plan.state_saved_at : "no saved state";
    if (plan.live) return "compared with the kernel's table inet wardgate; rules below against " + state + "\n";
    if (!plan.have_state) return "no saved state: everything below is new (the kernel was not read; --live reads it)\n";
    return "compared with " + state + " (the kernel was not read; --live reads it)\n";
}

std::string live_text(const LiveTable& live, const Palette& p) {
    if (live.missing) return p.red("kernel: table inet wardgate does not exist: the whole policy would be installed") + "\n";
    if (live.differences.empty()) return "kernel: table inet wardgate holds exactly this policy\n";
    std::string out = p.yellow("kernel: table inet wardgate differs from this policy:") + "\n";
    for (const auto& d : live.differences) out += p.yellow("  " + d) + "\n";
    return out;
}

std::string service_list_text(const std::vector<Service>& services) {
    std::string out;
    for (const auto& s : services) out += (out.empty() ? "" : " ") + s.to_string();
    return out;
}

std::string names_text(const std::vector<std::string>& src) {
    std::string out;
    size_t shown = std::min<size_t>(src.size(), 6);
    for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + src[i];
    if (src.size() > shown) out += fmt::format(" and {} more", src.size() - shown);
    return out;
}

void verdicts_text(std::string& out, const Plan& plan, const Palette& p) {
    if (!plan.verdicts) return;
    const auto& v = *plan.verdicts;
    out += "\n" + p.bold(fmt::format("Traffic whose verdict changes ({} newly allowed, {} newly denied)",
                                     v.newly_allowed.size(), v.newly_denied.size())) + "\n";
    if (v.empty()) out += "  none: every connection gets the verdict it had\n";
    for (const auto& r : v.newly_allowed)
        out += p.green(fmt::format("+ allowed now: {} -> {} {}", names_text(r.src), names_text(r.dst),
                                   service_list_text(r.services))) + "\n";
    for (const auto& r : v.newly_denied)
        out += p.red(fmt::format("- denied now:  {} -> {} {}", names_text(r.src), names_text(r.dst),
                                 service_list_text(r.services))) + "\n";
}

std::string mode_line(const Plan& plan) {
    std::string out = plan.mode == "monitor"
                          ? "mode: monitor (the default deny logs and lets traffic through; explicit denies drop)"
                          : "mode: enforce";
    if (plan.mode != "monitor" && !plan.monitored_segments.empty())
        out += fmt::format("; segments in monitor mode: {}", fmt::join(plan.monitored_segments, ", "));
    out += "\n";
    if (plan.mode != "monitor" && !plan.monitored_devices.empty()) {
        out += "devices in monitor (would-be drops to or from them are logged and let through; explicit denies drop):\n";
        for (const auto& g : plan.monitored_devices) {
            std::string names = fmt::format("{}", fmt::join(g.devices.begin(),
                                                            g.devices.begin() + static_cast<long>(std::min<size_t>(g.devices.size(), 8)), ", "));
            if (g.devices.size() > 8) names += fmt::format(" and {} more", g.devices.size() - 8);
            out += g.scope.rfind("device ", 0) == 0
                       ? fmt::format("  {}: {}\n", g.devices.front(), g.why)
                       : fmt::format("  {}: {} device{}: {}\n", g.why, g.devices.size(), g.devices.size() == 1 ? "" : "s", names);
        }
    }
    if (plan.readiness && plan.readiness->devices) {
        const auto& r = *plan.readiness;
        out += fmt::format("readiness ({} days observed, nothing blocked, required declared flows seen): {} of {} devices "
                           "ready to enforce",
                           r.min_days, r.ready, r.devices);
        if (r.monitored) {
            const auto& names = r.ready_to_leave_monitor;
            out += fmt::format("; {} of {} devices in monitor ready to leave it", names.size(), r.monitored);
            if (!names.empty())
                out += fmt::format(" ({}{})", fmt::join(names.begin(), names.begin() + static_cast<long>(std::min<size_t>(names.size(), 6)), ", "),
                                   names.size() > 6 ? ", ..." : "");
        }
        out += " (wardgate readiness says why)\n";
    }
    if (!plan.trials.empty()) {
        out += "on trial:\n";
        for (const auto& t : plan.trials) out += fmt::format("  {} ({}): {}\n", t.rule, t.origin, t.effect);
    }
    return out;
}

std::string refusal_line(const BaselineRefusal& r) {
    return fmt::format("    {} ({}) -> {} ({}) {}  {}", r.src_name, r.src.to_string(), r.dst_name, r.dst.to_string(),
                       flow_service_text(r.protocol, r.port, r.src.family), r.detail);
}

void refusals_text(std::string& out, const Plan& plan, const Palette& p) {
    if (!plan.refused.empty()) {
        out += "\n" + p.bold(fmt::format("Not kept by the observed baseline ({} flows)", plan.refused.size())) + "\n";
        std::optional<BaselineRefusal::Reason> current;
        for (const auto& r : plan.refused) {
            if (r.reason != current) out += "  " + std::string(heading(r.reason)) + "\n";
            current = r.reason;
            out += refusal_line(r) + "\n";
        }
    }
    if (plan.unrouted_flows)
        out += fmt::format("\nignored: {} link-local/multicast/broadcast flow{} (never routed by a gateway)\n",
                           plan.unrouted_flows, plan.unrouted_flows == 1 ? "" : "s");
}

}  // namespace

std::string mode_change_text(const ModeChange& m) {
    if (m.before.empty()) return fmt::format("{}: new, {}", m.scope, m.after);
    if (m.after.empty()) return fmt::format("{}: removed (was {})", m.scope, m.before);
    return fmt::format("{}: {} -> {} ({})", m.scope, m.before, m.after,
                       m.after == "monitor" ? "default deny becomes log-and-accept" : "default deny drops again");
}

// Which slice this is and how it compares with the whole site's policy.
static std::string gateway_line(const Plan& plan) {
    const GatewayScope& g = *plan.gateway;
    std::string segments;
    for (const auto& s : g.segments) segments += (segments.empty() ? "" : ", ") + s;
    return fmt::format("gateway {} (routes {}): {} of the site's {} rules, {} of {} address groups, {} of {} baseline "
                       "pinholes, {} of {} set elements; the observed edges are those that pass it\n",
                       g.name, segments, plan.rule_count, g.site_rules, plan.group_count, g.site_groups,
                       plan.pinhole_count, g.site_pinholes, plan.element_count, g.site_elements);
}

std::string render_plan_text(const Plan& plan, bool color) {
    Palette p{color};
    std::string out = p.bold("wardgate plan for " + plan.site) + "\n";
    out += comparison_line(plan);
    if (plan.live) out += live_text(*plan.live, p);
    if (plan.gateway) out += gateway_line(plan);
    out += fmt::format("policy: {} rules over {} address groups, {} baseline pinholes; {} observed edges\n",
                       plan.rule_count, plan.group_count, plan.pinhole_count, plan.observed_edges);
    out += mode_line(plan) + "\n";
    if (!plan.modes.empty()) out += p.bold("Modes") + "\n";
    for (const auto& m : plan.modes) out += p.yellow("~ " + mode_change_text(m)) + "\n";
    if (!plan.modes.empty()) out += "\n";
    size_t added = 0, removed = 0, changed = 0;
    if (!plan.rules.empty()) out += p.bold("Rules") + "\n";
    for (const auto& c : plan.rules) {
        switch (c.kind) {
            case RuleChange::Kind::added: ++added; rule_lines(out, c.rule, "+", p); break;
            case RuleChange::Kind::removed: ++removed; rule_lines(out, c.rule, "-", p); break;
            case RuleChange::Kind::changed: {
                ++changed;
                rule_lines(out, c.rule, "~", p);
                std::string delta = member_delta(c.before->src_members, c.rule.src_members) +
                                    member_delta(c.before->dst_members, c.rule.dst_members);
                if (!delta.empty()) out += p.yellow("        members:" + delta) + "\n";
                if (c.before->services != c.rule.services)
                    out += p.yellow("        services: " + c.before->services + " -> " + c.rule.services) + "\n";
                break;
            }
        }
    }
    verdicts_text(out, plan, p);
    if (!plan.pinholes_added.empty() || !plan.pinholes_removed.empty()) {
        out += "\n" + p.bold(fmt::format("Baseline pinholes (+{} -{})", plan.pinholes_added.size(),
                                         plan.pinholes_removed.size())) + "\n";
        for (const auto& h : plan.pinholes_added)
            out += p.green(fmt::format("+ {} ({}) -> {} ({}) {}  {}", h.src, h.src_ip, h.dst, h.dst_ip, h.service, h.why)) + "\n";
        for (const auto& h : plan.pinholes_removed)
            out += p.red(fmt::format("- {} ({}) -> {} ({}) {}  {}", h.src, h.src_ip, h.dst, h.dst_ip, h.service, h.why)) + "\n";
    }
    size_t blocked = 0;
    uint64_t blocked_conns = 0;
    for (const auto& d : plan.impact) {
        blocked += d.flows.size();
        blocked_conns += d.connections();
    }
    out += "\n" + p.bold(fmt::format("Impact: observed flows this policy would block ({} flows, {} connections, {} devices)",
                                     blocked, blocked_conns, plan.impact.size())) + "\n";
    if (plan.impact.empty()) out += "  none\n";
    for (const auto& d : plan.impact) {
        std::string marks;
        if (d.clinical) marks += " CLINICAL";
        if (d.lifecycle == "end-of-support") marks += " END-OF-SUPPORT";
        std::string head = d.role.empty() ? d.device : fmt::format("{} ({}, {})", d.device, d.role, d.lifecycle);
        out += "! " + p.bold(head) + (marks.empty() ? "" : p.red(marks)) +
               fmt::format("  {} flows, {} connections\n", d.flows.size(), d.connections());
        for (const auto& f : d.flows) {
            out += fmt::format("    {} ({}) -> {} ({}) {}{}  {} conn, {}, last seen {}  blocked by {}{}", f.initiator,
                               f.initiator_ip, f.responder, f.responder_ip, f.service,
                               f.applications.empty() ? "" : fmt::format(" ({})", fmt::join(f.applications, ", ")),
                               f.connections,
                               f.established ? "established" : "never established", f.last_seen, f.blocked_by,
                               f.monitored ? " (monitor mode: logged, let through)" : "");
            if (!f.expired.empty()) out += " (approval expired: " + fmt::format("{}", fmt::join(f.expired, ", ")) + ")";
            out += "\n";
        }
    }
    refusals_text(out, plan, p);
    if (!plan.notes.empty()) {
        out += "\n" + p.bold("Notes") + "\n";
        for (const auto& n : plan.notes)
            out += (n.level == PolicyNote::Level::warning ? p.yellow("warning: ") : std::string("info: ")) + n.message + "\n";
    }
    std::string modes = plan.modes.empty() ? "" : fmt::format("{} mode change{}; ", plan.modes.size(),
                                                              plan.modes.size() == 1 ? "" : "s");
    out += "\n" + p.bold(fmt::format("Plan: {}{} rules to add, {} to remove, {} to change; {} pinholes to add, {} to "
                                     "remove; {} observed flows would be blocked.",
                                     modes, added, removed, changed, plan.pinholes_added.size(),
                                     plan.pinholes_removed.size(), blocked)) + "\n";
    if (!plan.has_changes()) out += "No changes.\n";
    return out;
}

nlohmann::json service_list_json(const std::vector<Service>& services) {
    auto out = nlohmann::json::array();
    for (const auto& s : services) {
        auto ports = nlohmann::json::array();
        for (const auto& pr : s.ports) ports.push_back({pr.first, pr.last});
        auto types = nlohmann::json::array();
        for (const auto& t : s.icmp_types)
            types.push_back({{"family", t.family == Family::v4 ? "icmp" : "icmpv6"},
                             {"type", t.type},
                             {"code", t.code < 0 ? nlohmann::json(nullptr) : nlohmann::json(t.code)},
                             {"name", t.to_string()}});
        out.push_back({{"protocol", to_string(s.protocol)},
                       {"number", static_cast<int>(s.protocol)},
                       {"ports", ports},
                       {"icmp_types", types}});
    }
    return out;
}

// file:line split back into its parts, so a pipeline can point at the line.
nlohmann::json provenance_json(const Provenance& w) {
    nlohmann::json j{{"kind", to_string(w.kind)}, {"source", w.source},     {"detail", w.detail},
                     {"document", w.document},    {"service", service_list_json({w.service})[0]}};
    auto colon = w.origin.rfind(':');
    j["file"] = colon == std::string::npos ? w.origin : w.origin.substr(0, colon);
    int line = 0;
    if (colon != std::string::npos) std::from_chars(w.origin.data() + colon + 1, w.origin.data() + w.origin.size(), line);
    j["line"] = line;
    if (w.kind == Provenance::Kind::approved || w.kind == Provenance::Kind::denied) {
        auto id = w.source.substr(w.source.find(' ') + 1);
        j[w.kind == Provenance::Kind::approved ? "approval_id" : "deny_id"] = id.substr(0, id.find(' '));
    }
    j["ticket"] = w.ticket;
    j["owner"] = w.owner;
    j["expires"] = w.expires ? nlohmann::json(to_string(*w.expires)) : nlohmann::json(nullptr);
    return j;
}

nlohmann::json render_plan_json(const Plan& plan) {
    using nlohmann::json;
    auto rule_json = [](const ReadableRule& r) {
        json j{{"id", r.id},           {"action", r.action},           {"trial", r.trial}, {"src", r.src},   {"src_members", r.src_members},
               {"dst", r.dst},         {"dst_members", r.dst_members}, {"services", r.services}, {"why", r.why}};
        if (!r.src_kind.empty()) {
            j["src_group"] = {{"kind", r.src_kind}, {"label", r.src}, {"members", r.src_members}};
            j["dst_group"] = {{"kind", r.dst_kind}, {"label", r.dst}, {"members", r.dst_members}};
            j["service_list"] = service_list_json(r.service_list);
            auto reasons = json::array();
            for (const auto& w : r.reasons) reasons.push_back(provenance_json(w));
            j["reasons"] = reasons;
        }
        return j;
    };
    json j{{"format", 2}, {"site", plan.site}, {"have_state", plan.have_state}, {"state_saved_at", plan.state_saved_at},
           {"changes", plan.has_changes()},
           {"counts", {{"rules", plan.rule_count}, {"groups", plan.group_count}, {"pinholes", plan.pinhole_count},
                       {"observed_edges", plan.observed_edges}}}};
    if (plan.gateway) {
        const GatewayScope& g = *plan.gateway;
        json local = json::array();
        for (const auto& p : g.local) local.push_back(p.to_string());
        j["gateway"] = {{"name", g.name},
                        {"segments", g.segments},
                        {"subnets", local},
                        {"elements", plan.element_count},
                        {"site_counts", {{"rules", g.site_rules}, {"groups", g.site_groups}, {"pinholes", g.site_pinholes},
                                         {"elements", g.site_elements}}}};
    }
    if (plan.at) j["at"] = {{"date", *plan.at}, {"compared_with", plan.today}};
    j["rules"] = json::array();
    for (const auto& c : plan.rules) {
        json r = rule_json(c.rule);
        r["change"] = c.kind == RuleChange::Kind::added ? "added" : c.kind == RuleChange::Kind::removed ? "removed" : "changed";
        if (c.before) r["before"] = rule_json(*c.before);
        j["rules"].push_back(r);
    }
    auto pin_json = [](const ReadablePinhole& h) {
        return json{{"src", h.src}, {"src_ip", h.src_ip}, {"dst", h.dst}, {"dst_ip", h.dst_ip}, {"service", h.service}, {"why", h.why}};
    };
    j["pinholes_added"] = json::array();
    j["pinholes_removed"] = json::array();
    for (const auto& h : plan.pinholes_added) j["pinholes_added"].push_back(pin_json(h));
    for (const auto& h : plan.pinholes_removed) j["pinholes_removed"].push_back(pin_json(h));
    j["impact"] = json::array();
    for (const auto& d : plan.impact) {
        json dj{{"device", d.device}, {"role", d.role}, {"lifecycle", d.lifecycle}, {"clinical", d.clinical},
                {"connections", d.connections()}, {"flows", json::array()}};
        for (const auto& f : d.flows)
            dj["flows"].push_back({{"initiator", f.initiator}, {"initiator_ip", f.initiator_ip}, {"responder", f.responder},
                                   {"responder_ip", f.responder_ip}, {"service", f.service}, {"connections", f.connections},
                                   {"established", f.established}, {"last_seen", f.last_seen}, {"blocked_by", f.blocked_by},
                                   {"monitored", f.monitored}, {"expired_approvals", f.expired},
                                   {"applications", f.applications}});
        j["impact"].push_back(dj);
    }
    if (plan.live) j["live"] = {{"table_missing", plan.live->missing}, {"differences", plan.live->differences}};
    if (plan.verdicts) {
        auto regions = [](const std::vector<VerdictRegion>& rs) {
            auto out = json::array();
            for (const auto& r : rs) {
                out.push_back({{"src", r.src}, {"dst", r.dst}, {"services", service_list_json(r.services)}});
            }
            return out;
        };
        j["verdict_changes"] = {{"newly_allowed", regions(plan.verdicts->newly_allowed)},
                                {"newly_denied", regions(plan.verdicts->newly_denied)}};
    }
    j["mode"] = plan.mode;
    j["monitored_segments"] = plan.monitored_segments;
    j["monitored_devices"] = json::array();
    for (const auto& g : plan.monitored_devices)
        j["monitored_devices"].push_back({{"scope", g.scope}, {"why", g.why}, {"devices", g.devices}});
    if (plan.readiness)
        j["readiness"] = {{"min_days", plan.readiness->min_days},
                          {"devices", plan.readiness->devices},
                          {"ready", plan.readiness->ready},
                          {"monitored", plan.readiness->monitored},
                          {"ready_to_leave_monitor", plan.readiness->ready_to_leave_monitor}};
    j["trials"] = json::array();
    for (const auto& t : plan.trials) j["trials"].push_back({{"rule", t.rule}, {"origin", t.origin}, {"effect", t.effect}});
    j["mode_changes"] = json::array();
    for (const auto& m : plan.modes)
        j["mode_changes"].push_back({{"scope", m.scope}, {"before", m.before}, {"after", m.after}});
    j["refused"] = json::array();
    for (const auto& r : plan.refused) {
        j["refused"].push_back({{"reason", to_string(r.reason)}, {"initiator", r.src_name},
                                {"initiator_ip", r.src.to_string()}, {"responder", r.dst_name},
                                {"responder_ip", r.dst.to_string()},
                                {"service", flow_service_text(r.protocol, r.port, r.src.family)},
                                {"connections", r.connections}, {"detail", r.detail}});
    }
    j["ignored_unrouted_flows"] = plan.unrouted_flows;
    j["notes"] = json::array();
    for (const auto& n : plan.notes)
        j["notes"].push_back({{"level", n.level == PolicyNote::Level::warning ? "warning" : "info"},
                              {"code", n.code},
                              {"subject", n.subject},
                              {"message", n.message}});
    return j;
}

}  // namespace wardgate
