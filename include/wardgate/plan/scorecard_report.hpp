#pragma once
// The scorecard of `wardgate scorecard`, with its trend from the runs the store recorded.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/assess/scorecard.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

// What the store keeps of a scorecard: shares as ratios (0..1), counts as counts.
ScorecardRecord scorecard_record(const Scorecard& card, double recorded_at);

// history: the recorded runs, oldest first; the scorecard itself is "now" (when it was just
// recorded, it is the last of history and not repeated).
std::string scorecard_text(const Scorecard& card, const std::vector<ScorecardRecord>& history, bool recorded);
nlohmann::json scorecard_json(const Scorecard& card, const std::vector<ScorecardRecord>& history, bool recorded);

}  // namespace wardgate
