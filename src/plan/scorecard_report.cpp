#include "wardgate/plan/scorecard_report.hpp"

#include <fmt/format.h>

#include <cmath>

#include "wardgate/plan/plan.hpp"

namespace wardgate {

namespace {

constexpr size_t kTrendShown = 6;

std::string value_text(const Kpi& k, double v) {
    if (k.of) return fmt::format("{}%", static_cast<int>(std::lround(100.0 * v)));
    return v == std::floor(v) ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{:.1f}", v);
}

double stored_value(const Kpi& k) { return k.of ? k.ratio() : k.value; }

std::optional<double> recorded_value(const ScorecardRecord& r, const std::string& key) {
    for (const auto& [kpi, v] : r.values)
        if (kpi == key) return v;
    return std::nullopt;
}

// The history without the run just recorded (the scorecard itself stands for it).
std::vector<const ScorecardRecord*> before_now(const std::vector<ScorecardRecord>& history, bool recorded) {
    std::vector<const ScorecardRecord*> out;
    for (size_t i = 0; i + (recorded ? 1 : 0) < history.size(); ++i) out.push_back(&history[i]);
    return out;
}

}  // namespace

ScorecardRecord scorecard_record(const Scorecard& card, double recorded_at) {
    ScorecardRecord r{recorded_at, card.site, card.today, {}};
    for (const auto& k : card.kpis) r.values.emplace_back(k.key, stored_value(k));
    return r;
}

std::string scorecard_text(const Scorecard& card, const std::vector<ScorecardRecord>& history, bool recorded) {
    auto past = before_now(history, recorded);
    std::string out = fmt::format("Scorecard of {} on {}", card.site, card.today);
    if (past.empty()) out += " (no earlier run recorded: `--db DB --record` keeps one per run)\n\n";
    else out += fmt::format(" against {} earlier run{} (first {})\n\n", past.size(), past.size() == 1 ? "" : "s", past.front()->day);
    for (const auto& k : card.kpis) {
        out += fmt::format("{:<62} {:>16}", k.title, k.text());
        std::vector<std::string> trend;
        std::optional<double> last;
        size_t first = past.size() > kTrendShown ? past.size() - kTrendShown : 0;
        for (size_t i = first; i < past.size(); ++i)
            if (auto v = recorded_value(*past[i], k.key)) {
                trend.push_back(value_text(k, *v));
                last = v;
            }
        if (!trend.empty()) {
            double now = stored_value(k);
            std::string verdict = std::abs(now - *last) < 1e-9                ? "same"
                                  : (now > *last) == k.higher_is_better ? "better"
                                                                          : "worse";
            std::string joined;
            for (const auto& t : trend) joined += t + " -> ";
            out += fmt::format("   {}{} ({})", joined, value_text(k, now), verdict);
        }
        out += "\n";
    }
    if (recorded) out += "\nrecorded this run in the store\n";
    return out;
}

nlohmann::json scorecard_json(const Scorecard& card, const std::vector<ScorecardRecord>& history, bool recorded) {
    auto past = before_now(history, recorded);
    nlohmann::json kpis = nlohmann::json::array();
    for (const auto& k : card.kpis) {
        nlohmann::json trend = nlohmann::json::array();
        for (const auto* r : past)
            if (auto v = recorded_value(*r, k.key))
                trend.push_back({{"recorded_at", iso_time(r->recorded_at)}, {"day", r->day}, {"value", *v}});
        kpis.push_back({{"key", k.key},
                        {"title", k.title},
                        {"value", k.value},
                        {"of", k.of ? nlohmann::json(*k.of) : nlohmann::json(nullptr)},
                        {"ratio", k.of ? nlohmann::json(k.ratio()) : nlohmann::json(nullptr)},
                        {"higher_is_better", k.higher_is_better},
                        {"trend", trend}});
    }
    return {{"format", 1}, {"site", card.site}, {"today", card.today}, {"recorded", recorded}, {"kpis", kpis}};
}

}  // namespace wardgate
