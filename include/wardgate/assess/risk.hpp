#pragma once
// Risk per device (docs/risk.md): what a compromise could do to patients, privacy and care
// (impact), times what wardgate saw and knows that makes a compromise likelier (exposure).
// Every point comes with its reason and the change that would take it away; never a bare number.
#include <optional>
#include <string>
#include <vector>

#include "wardgate/graph/classify.hpp"

namespace wardgate {

enum class ExposureFactor { lifecycle, internet_seen, internet_declared, insecure_protocol, insecure_attempts, unexplained_peers,
                            peer_deviation,
                            workstation_peers, monitor, no_profile };
std::string_view to_string(ExposureFactor f);  // "lifecycle", "internet-seen", ...

struct RiskReason {
    ExposureFactor factor = ExposureFactor::lifecycle;
    int points = 0;
    std::string reason;  // what was seen or declared
    std::string remedy;  // the change that takes these points away
};

struct ImpactFactor {
    Level level = Level::none;
    std::string source;  // "FDA class II", "role infusion-pump delivers therapy", "PHI high"...
};

struct DeviceRisk {
    std::string device, role, segment, vendor, model;
    Lifecycle stage = Lifecycle::support;
    ImpactFactor safety, privacy, availability;
    Level impact = Level::none;  // the highest of the three
    int fda_tier = 0;            // 1 or 2 for regulated devices, 0 otherwise
    std::string tier_reason;
    std::vector<RiskReason> exposure;  // most points first
    int exposure_points = 0;
    Level exposure_level = Level::none;
    int score = 0;               // 0..100
    Level level = Level::none;
    // The one change that lowers the score most, and the score after it.
    std::optional<RiskReason> best_change;
    int score_after = 0;
};

// The score of an impact and an exposure: 100 x impact/3 x (1 + min(exposure, 10)) / 11.
int risk_score(Level impact, int exposure_points);
Level score_level(int score);       // >= 60 high, >= 30 medium, > 0 low
Level exposure_level(int points);   // >= 5 high, >= 2 medium, else low

// Every managed device, highest score first (then by name).
std::vector<DeviceRisk> assess_risk(const AddressBook& book, const std::vector<ClassifiedEdge>& edges);

}  // namespace wardgate
