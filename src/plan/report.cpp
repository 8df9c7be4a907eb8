#include "wardgate/plan/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "wardgate/assess/risk.hpp"
#include "wardgate/assess/scorecard.hpp"
#include "wardgate/plan/horizon.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/plan/policy_graph.hpp"
#include "wardgate/plan/readiness.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/render/graph_svg.hpp"

namespace wardgate {

namespace {

using json = nlohmann::json;

std::string anchor(std::string_view kind, std::string_view name) {
    std::string out(kind);
    out += '-';
    for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    return out;
}

// Graphviz's dot lays out a few hundred vertices in seconds, a thousand in many minutes.
constexpr size_t kMostVerticesDrawn = 150;
// A cell of the risk matrix links its highest-scoring devices; the ranking has them all.
constexpr size_t kMostLinksPerCell = 30;

std::string level_class(Level l) { return "level-" + std::string(to_string(l)); }

// A small line chart of a KPI's recorded values and today's, scaled to its own range.
std::string sparkline(const std::vector<double>& values, bool share) {
    if (values.size() < 2) return "";
    const double w = 120, h = 28, pad = 3;
    double lo = share ? 0 : *std::min_element(values.begin(), values.end());
    double hi = share ? 1 : *std::max_element(values.begin(), values.end());
    if (hi - lo < 1e-9) hi = lo + 1;
    std::string points;
    for (size_t i = 0; i < values.size(); ++i) {
        double x = pad + (w - 2 * pad) * static_cast<double>(i) / static_cast<double>(values.size() - 1);
        double y = h - pad - (h - 2 * pad) * (values[i] - lo) / (hi - lo);
        points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x, y);
    }
    return fmt::format(R"(<svg class="spark" role="img" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
                       R"(xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="currentColor" )"
                       R"(stroke-width="2" points="{2}"/></svg>)",
                       w, h, points);
}

json scorecard_part(const Scorecard& card, const std::vector<ScorecardRecord>& history) {
    json out = json::array();
    for (const auto& k : card.kpis) {
        std::vector<double> values;
        for (const auto& r : history)
            for (const auto& [key, v] : r.values)
                if (key == k.key) values.push_back(v);
        double now = k.of ? k.ratio() : k.value;
        std::string verdict;
        if (!values.empty())
            verdict = std::abs(now - values.back()) < 1e-9 ? "same" : (now > values.back()) == k.higher_is_better ? "better" : "worse";
        values.push_back(now);
        out.push_back({{"key", k.key},
                       {"title", k.title},
                       {"text", k.text()},
                       {"verdict", verdict},
                       {"runs", values.size()},
                       {"sparkline", sparkline(values, k.of.has_value())}});
    }
    return out;
}

json matrix_part(const std::vector<DeviceRisk>& risks) {
    json rows = json::array();
    for (Level impact : {Level::high, Level::medium, Level::low, Level::none}) {
        json cells = json::array();
        for (Level exposure : {Level::low, Level::medium, Level::high}) {
            json devices = json::array();
            size_t count = 0;
            for (const auto& r : risks)
                if (r.impact == impact && r.exposure_level == exposure && count++ < kMostLinksPerCell)
                    devices.push_back({{"name", r.device}, {"anchor", anchor("device", r.device)}});
            int band = static_cast<int>(impact) + static_cast<int>(exposure) - 1;
            cells.push_back({{"exposure", to_string(exposure)},
                             {"count", count},
                             {"more", count > kMostLinksPerCell ? fmt::format("and {} more", count - kMostLinksPerCell) : ""},
                             {"band", "band-" + std::to_string(std::clamp(band, 0, 4))},
                             {"devices", devices}});
        }
        rows.push_back({{"impact", to_string(impact)}, {"cells", cells}});
    }
    return rows;
}

json calendar_part(const Horizon& h) {
    json days = json::array();
    for (const auto& c : h.changes) {
        json events = json::array(), losses = json::array();
        for (const auto& e : c.events) events.push_back(e.text);
        for (const auto& l : c.losses)
            losses.push_back(fmt::format("{} {} {} {} {}", l.devices.size() == 1 ? l.devices.front() : fmt::format("{} devices", l.devices.size()),
                                         l.monitored ? "would lose" : "lose", l.service, l.peer_initiates ? "from" : "to", l.peer));
        days.push_back({{"day", c.day}, {"events", events}, {"losses", losses}});
    }
    return days;
}

// The device's flows that matter most to a reader, blocked ones first, then by connections;
// at most `most` of them (the page stays small on a large site), and how many there are.
std::pair<json, size_t> flows_of(const Pipeline& p, uint32_t device, const std::vector<size_t>& edges,
                                  const Evaluator& eval, size_t most) {
    std::vector<json> all;
    for (size_t e : edges) {
        const ClassifiedEdge& c = p.edges[e];
        const bool initiated = c.initiator.kind == Entity::Kind::device && c.initiator.index == device;
        const bool responded = c.responder.kind == Entity::Kind::device && c.responder.index == device;
        if (!initiated && !responded) continue;
        const auto& k = c.observed.key;
        const Entity& peer = initiated ? c.responder : c.initiator;
        std::string verdict = "link-local: never forwarded";
        bool allowed = true;
        if (!c.unrouted) {
            auto v = eval.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
            allowed = v.allowed;
            verdict = describe_verdict(v, p.policy);
        }
        all.push_back({{"direction", initiated ? "to" : "from"},
                       {"peer", p.book->name(peer)},
                       {"service", flow_service_text(k.protocol, k.responder_port, k.initiator.family)},
                       {"applications", to_string(c.observed.stats.applications)},
                       {"connections", c.observed.stats.connections},
                       {"days", c.observed.stats.days_seen},
                       {"last_seen", iso_time(c.observed.stats.last_seen).substr(0, 10)},
                       {"allowed", allowed},
                       {"verdict", verdict}});
    }
    std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
        if (a["allowed"] != b["allowed"]) return !a["allowed"].get<bool>();
        return a["connections"].get<uint64_t>() > b["connections"].get<uint64_t>();
    });
    json out = json::array();
    for (size_t i = 0; i < all.size() && i < most; ++i) out.push_back(std::move(all[i]));
    return {out, all.size()};
}

}  // namespace

json report_model(const Pipeline& p, const ReportOptions& options) {
    const Site& site = *p.site;
    json m;
    m["site"] = site.name;
    m["today"] = to_string(p.today);
    auto risks = assess_risk(*p.book, p.edges);
    auto card = compute_scorecard(*p.book, p.edges, p.today, risks);
    m["scorecard"] = scorecard_part(card, options.history);
    m["recorded_runs"] = options.history.size();
    m["matrix"] = matrix_part(risks);
    auto readiness = assess_readiness(p, options.ready_days);
    std::map<std::string, const DeviceReadiness*> ready_of;
    for (const auto& r : readiness.devices) ready_of[r.device] = &r;

    json risk_rows = json::array();
    for (const auto& r : risks) {
        json reasons = json::array();
        // The weightiest here; every one is in the device's own section.
        for (size_t i = 0; i < r.exposure.size() && i < 1; ++i)
            reasons.push_back({{"points", r.exposure[i].points}, {"reason", r.exposure[i].reason}});
        risk_rows.push_back({{"device", r.device},
                             {"anchor", anchor("device", r.device)},
                             {"role", r.role},
                             {"stage", to_string(r.stage)},
                             {"impact", to_string(r.impact)},
                             {"exposure", to_string(r.exposure_level)},
                             {"score", r.score},
                             {"level", to_string(r.level)},
                             {"level_class", level_class(r.level)},
                             {"tier", r.fda_tier ? std::to_string(r.fda_tier) : "-"},
                             {"reasons", reasons},
                             {"best_change", r.best_change ? r.best_change->remedy : ""},
                             {"has_change", r.best_change.has_value()},
                             {"score_after", r.score_after}});
    }
    m["risks"] = risk_rows;

    std::map<std::string, const DeviceRisk*> risk_of;
    for (const auto& r : risks) risk_of[r.device] = &r;
    const Evaluator eval(p.policy);
    std::vector<std::vector<size_t>> edges_of(site.devices.size());  // device -> its edges
    for (size_t e = 0; e < p.edges.size(); ++e) {
        const auto& c = p.edges[e];
        if (c.initiator.kind == Entity::Kind::device) edges_of[c.initiator.index].push_back(e);
        if (c.responder.kind == Entity::Kind::device && !(c.initiator == c.responder)) edges_of[c.responder.index].push_back(e);
    }
    json devices = json::array();
    for (uint32_t i = 0; i < site.devices.size(); ++i) {
        const Device& d = site.devices[i];
        const DeviceRisk& r = *risk_of.at(d.name);
        const DeviceReadiness& ready = *ready_of.at(d.name);
        json reasons = json::array();
        for (const auto& e : r.exposure) reasons.push_back({{"points", e.points}, {"reason", e.reason}});
        std::string addresses;
        for (const auto& a : d.addresses) addresses += (addresses.empty() ? "" : ", ") + a.to_string();
        auto [flows, flow_count] = flows_of(p, i, edges_of[i], eval, options.flows_per_device);
        devices.push_back({{"name", d.name},
                           {"anchor", anchor("device", d.name)},
                           {"segment_anchor", anchor("segment", d.segment)},
                           {"role", d.role},
                           {"vendor", d.vendor},
                           {"model", d.model},
                           {"segment", d.segment},
                           {"addresses", addresses},
                           {"stage", to_string(d.lifecycle)},
                           {"stage_raised", d.declared_lifecycle.has_value()},
                           {"eol", d.eol ? to_string(*d.eol) : "-"},
                           {"eos", d.eos ? to_string(*d.eos) : "-"},
                           {"score", r.score},
                           {"level_class", level_class(r.level)},
                           {"reasons", reasons},
                           {"ready", ready.ready},
                           {"readiness", ready.verdict},
                           {"flows", flows},
                           {"more_flows", flow_count > flows.size() ? fmt::format("and {} more: wardgate flows --device {}", flow_count - flows.size(), d.name) : ""}});
    }
    m["devices"] = devices;

    std::map<std::string, const GroupReadiness*> segment_ready;
    for (const auto& g : readiness.segments) segment_ready[g.name] = &g;
    json segments = json::array();
    for (const auto& s : site.segments) {
        json members = json::array();
        for (const auto& d : site.devices)
            if (d.segment == s.name) members.push_back({{"name", d.name}, {"anchor", anchor("device", d.name)}});
        auto g = segment_ready.find(s.name);
        size_t total = g == segment_ready.end() ? 0 : g->second->devices, ready = g == segment_ready.end() ? 0 : g->second->ready;
        std::string subnets;
        for (const auto& sn : s.subnets) subnets += (subnets.empty() ? "" : ", ") + sn.to_string();
        segments.push_back({{"name", s.name},
                            {"anchor", anchor("segment", s.name)},
                            {"kind", to_string(s.kind)},
                            {"vlan", s.vlan ? std::to_string(*s.vlan) : "-"},
                            {"subnets", subnets},
                            {"mode", site.mode == EnforcementMode::monitor || s.monitor ? "monitor" : "enforce"},
                            {"ready", fmt::format("{} of {} devices ready to enforce", ready, total)},
                            {"devices", members}});
    }
    m["segments"] = segments;
    m["calendar"] = calendar_part(make_horizon(p, options.horizon_days));
    m["horizon_days"] = options.horizon_days;
    m["graph_svg"] = "";
    m["graph_note"] = "";
    if (options.graph) {
        const CommGraph whole = policy_graph(p);
        CommGraph drawn = whole.grouped();
        if (drawn.vertex_count() > kMostVerticesDrawn) {
            m["graph_note"] = fmt::format(
                "Even with identical devices grouped the site's graph has {} vertices, too many to read on one page (or to "
                "lay out quickly): drawn here with one vertex per segment. `wardgate graph SITE --segment NAME --format "
                "svg` draws one segment whole.",
                drawn.vertex_count());
            drawn = whole.by_segment();
        }
        std::string svg = render_svg(drawn.to_dot(site.name));
        // The XML prologue and DOCTYPE are for a file of its own, not for a page that inlines it.
        if (auto at = svg.find("<svg"); at != std::string::npos) svg.erase(0, at);
        m["graph_svg"] = svg;
    }
    return m;
}

}  // namespace wardgate
