#pragma once
// `wardgate report`: one self-contained HTML page for people who would rather look than read.
// The plan stage gathers everything (scorecard and trend, risk, readiness, the graph, the
// calendar, per-device flows and verdicts) into one model; render/report turns it into HTML
// through templates/report/.
#include <nlohmann/json.hpp>

#include "wardgate/plan/pipeline.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

struct ReportOptions {
    std::vector<ScorecardRecord> history;  // recorded scorecards, oldest first
    uint32_t horizon_days = 180;           // how far the calendar looks ahead
    uint32_t ready_days = 7;               // days of observation a device needs to be ready
    bool graph = true;                     // lay the communication graph out (Graphviz)
    size_t flows_per_device = 4;           // flows listed per device, blocked ones first
};

nlohmann::json report_model(const Pipeline& p, const ReportOptions& options);

}  // namespace wardgate
