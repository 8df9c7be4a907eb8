#pragma once
// The ranked risk table of `wardgate risk`: text for people, JSON (docs/schema/risk.schema.json).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/assess/risk.hpp"

namespace wardgate {

std::string risk_text(const std::vector<DeviceRisk>& risks, const std::string& site, bool details);
nlohmann::json risk_json(const std::vector<DeviceRisk>& risks, const std::string& site, const std::string& today);

}  // namespace wardgate
