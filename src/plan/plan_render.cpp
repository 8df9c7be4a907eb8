#include <fmt/format.h>

#include <algorithm>
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
    std::string head = fmt::format("{} {:<5} {}{}", mark, r.action, r.src, members_text(r.src_members));
    std::string body = fmt::format("        -> {}{}\n        {}\n", r.dst, members_text(r.dst_members), r.services);
    for (const auto& w : r.why) body += "        why: " + w + "\n";
    std::string text = head + "\n" + body;
    out += mark == "+" ? p.green(text) : mark == "-" ? p.red(text) : p.yellow(text);
}

}  // namespace

std::string render_plan_text(const Plan& plan, bool color) {
    Palette p{color};
    std::string out = p.bold("wardgate plan for " + plan.site) + "\n";
    out += plan.have_state ? "compared with the state saved " + plan.state_saved_at + "\n"
                           : "no saved state: everything below is new\n";
    out += fmt::format("policy: {} rules over {} address groups, {} baseline pinholes; {} observed edges\n\n",
                       plan.rule_count, plan.group_count, plan.pinhole_count, plan.observed_edges);
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
            out += fmt::format("    {} ({}) -> {} ({}) {}  {} conn, {}, last seen {}  blocked by {}{}", f.initiator,
                               f.initiator_ip, f.responder, f.responder_ip, f.service, f.connections,
                               f.established ? "established" : "never established", f.last_seen, f.blocked_by,
                               f.monitored ? " (monitor mode: logged, let through)" : "");
            if (!f.expired.empty()) out += " (approval expired: " + fmt::format("{}", fmt::join(f.expired, ", ")) + ")";
            out += "\n";
        }
    }
    if (!plan.notes.empty()) {
        out += "\n" + p.bold("Notes") + "\n";
        for (const auto& n : plan.notes)
            out += (n.level == PolicyNote::Level::warning ? p.yellow("warning: ") : std::string("info: ")) + n.message + "\n";
    }
    out += "\n" + p.bold(fmt::format("Plan: {} rules to add, {} to remove, {} to change; {} pinholes to add, {} to remove; "
                                     "{} observed flows would be blocked.",
                                     added, removed, changed, plan.pinholes_added.size(), plan.pinholes_removed.size(),
                                     blocked)) + "\n";
    if (!plan.has_changes()) out += "No changes.\n";
    return out;
}

nlohmann::json render_plan_json(const Plan& plan) {
    using nlohmann::json;
    auto rule_json = [](const ReadableRule& r) {
        return json{{"action", r.action}, {"src", r.src}, {"src_members", r.src_members}, {"dst", r.dst},
                    {"dst_members", r.dst_members}, {"services", r.services}, {"why", r.why}};
    };
    json j{{"site", plan.site}, {"have_state", plan.have_state}, {"state_saved_at", plan.state_saved_at},
           {"changes", plan.has_changes()},
           {"counts", {{"rules", plan.rule_count}, {"groups", plan.group_count}, {"pinholes", plan.pinhole_count},
                       {"observed_edges", plan.observed_edges}}}};
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
                                   {"monitored", f.monitored}, {"expired_approvals", f.expired}});
        j["impact"].push_back(dj);
    }
    j["notes"] = json::array();
    for (const auto& n : plan.notes)
        j["notes"].push_back({{"level", n.level == PolicyNote::Level::warning ? "warning" : "info"}, {"message", n.message}});
    return j;
}

}  // namespace wardgate
