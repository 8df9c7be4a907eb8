#pragma once
// The change board's calendar: what the policy loses over the next N days, day by day, as
// approvals expire and devices reach the end of their support by their dates.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/plan/pipeline.hpp"

namespace wardgate {

struct HorizonEvent {
    enum class Kind { approval_expires, stage_raised };
    Kind kind = Kind::approval_expires;
    std::string subject;  // the approval id or the device name
    std::string text;     // what happens, with its source
};

// Observed flows allowed the day before and blocked from this day on, grouped by the peer
// and service the devices lose.
struct HorizonLoss {
    std::string peer;
    std::string service;                // "tcp/8080"
    bool peer_initiates = false;        // the devices lose it *from* the peer (else *to* it)
    bool monitored = false;             // in monitor mode: logged, not yet dropped
    std::vector<std::string> devices;   // sorted
    std::vector<std::string> roles;     // of those devices, sorted, distinct
    uint64_t connections = 0;           // observed so far
    std::vector<std::string> applications;
};

struct HorizonDay {
    std::string day;                    // the first day the change is in effect
    std::vector<HorizonEvent> events;
    size_t rules_added = 0, rules_removed = 0, rules_changed = 0;
    std::vector<HorizonLoss> losses;
};

struct Horizon {
    std::string site;
    std::string today, until;           // the window: after today, up to and including until
    uint32_t days = 0;
    std::vector<HorizonDay> changes;    // by day
};

// Recompiles the policy on every day in the window on which an approval expires or a
// device's dates raise its stage, and compares it with the day before.
Horizon make_horizon(const Pipeline& today, uint32_t days);

// "90d", "90" or "12w" -> days; nullopt when it is none of those or not in 1..3650 days.
std::optional<uint32_t> parse_horizon(std::string_view text);

std::string render_horizon_text(const Horizon& h);
nlohmann::json render_horizon_json(const Horizon& h);

}  // namespace wardgate
