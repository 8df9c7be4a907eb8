#include "wardgate/plan/risk_report.hpp"

#include <fmt/format.h>

namespace wardgate {

namespace {

std::string tier_text(int tier) { return tier == 0 ? "-" : std::to_string(tier); }

nlohmann::json impact_json(const ImpactFactor& f) { return {{"level", to_string(f.level)}, {"source", f.source}}; }

nlohmann::json reason_json(const RiskReason& r) {
    return {{"factor", to_string(r.factor)}, {"points", r.points}, {"reason", r.reason}, {"remedy", r.remedy}};
}

}  // namespace

std::string risk_text(const std::vector<DeviceRisk>& risks, const std::string& site, bool details) {
    std::string out = fmt::format("Risk per device of {}, highest first (score = impact x exposure, see docs/risk.md)\n\n",
                                  site);
    out += fmt::format("{:<20} {:<20} {:<16} {:<7} {:<13} {:>5}  {}\n", "DEVICE", "ROLE", "STAGE", "IMPACT",
                       "EXPOSURE", "SCORE", "TIER");
    for (const auto& r : risks) {
        out += fmt::format("{:<20} {:<20} {:<16} {:<7} {:<13} {:>5}  {}\n", r.device, r.role, to_string(r.stage),
                           to_string(r.impact), fmt::format("{} ({})", to_string(r.exposure_level), r.exposure_points),
                           r.score, tier_text(r.fda_tier));
        if (!details) continue;
        std::string impact;
        for (const auto* f : {&r.safety, &r.privacy, &r.availability})
            if (f->level != Level::none) impact += (impact.empty() ? "" : "; ") + f->source;
        out += "    impact: " + (impact.empty() ? std::string("nothing recorded (no FDA class, PHI or downtime impact)") : impact) + "\n";
        if (r.fda_tier) out += fmt::format("    FDA tier {}: {}\n", r.fda_tier, r.tier_reason);
        for (const auto& e : r.exposure) out += fmt::format("    +{} {}\n", e.points, e.reason);
        if (r.best_change)
            out += fmt::format("    lowers it most: {} (score {} -> {})\n", r.best_change->remedy, r.score, r.score_after);
    }
    size_t high = 0, medium = 0;
    for (const auto& r : risks) {
        high += r.level == Level::high;
        medium += r.level == Level::medium;
    }
    out += fmt::format("\n{} devices: {} high risk (score >= 60), {} medium (>= 30)\n", risks.size(), high, medium);
    return out;
}

nlohmann::json risk_json(const std::vector<DeviceRisk>& risks, const std::string& site, const std::string& today) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& r : risks) {
        nlohmann::json exposure = nlohmann::json::array();
        for (const auto& e : r.exposure) exposure.push_back(reason_json(e));
        nlohmann::json d = {{"device", r.device},
                            {"role", r.role},
                            {"segment", r.segment},
                            {"vendor", r.vendor},
                            {"model", r.model},
                            {"stage", to_string(r.stage)},
                            {"impact",
                             {{"level", to_string(r.impact)},
                              {"patient_safety", impact_json(r.safety)},
                              {"privacy", impact_json(r.privacy)},
                              {"availability", impact_json(r.availability)}}},
                            {"fda_tier", r.fda_tier == 0 ? nlohmann::json(nullptr) : nlohmann::json(r.fda_tier)},
                            {"tier_reason", r.tier_reason},
                            {"exposure", {{"level", to_string(r.exposure_level)}, {"points", r.exposure_points}, {"reasons", exposure}}},
                            {"score", r.score},
                            {"level", to_string(r.level)},
                            {"best_change", r.best_change ? reason_json(*r.best_change) : nlohmann::json(nullptr)},
                            {"score_after_best_change", r.score_after}};
        devices.push_back(std::move(d));
    }
    return {{"format", 1}, {"site", site}, {"today", today}, {"devices", devices}};
}

}  // namespace wardgate
