#pragma once
// Which segment each device should be in, by three rules a person can check (end-of-support
// devices of a role apart, nothing clinical outside a device segment, devices with the same
// needs together), and what the moves would do: new addresses, the rules and pinholes before
// and after, and every observed flow whose path or verdict the moves change.
#include <optional>
#include <string>
#include <vector>

#include "wardgate/plan/pipeline.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/site/inventory_patch.hpp"

namespace wardgate {

enum class PlacementRule { end_of_support_apart, clinical_in_device_segment, same_needs_together };
std::string_view to_string(PlacementRule r);      // "end-of-support-apart", ...
std::string_view rule_text(PlacementRule r);      // the rule as a sentence

struct SegmentMove {
    std::string device, role;
    std::string from, to;
    std::vector<IpAddress> before, after;  // addresses; `after` in `to`'s subnets, family by family
    PlacementRule rule = PlacementRule::same_needs_together;
    std::string why;                       // "end of support since 2024-06-30; icu also holds 26 other devices"
    int risk_before = 0, risk_after = 0;   // wardgate risk scores, the flows carried to the new addresses
};

// A segment the proposal wants and the site does not have: add it and run again.
struct NeededSegment {
    std::string name;
    SegmentKind kind = SegmentKind::devices;
    std::optional<uint16_t> vlan;          // known when the end-of-support stance names the VLAN
    PlacementRule rule = PlacementRule::end_of_support_apart;
    std::string why;
    std::vector<std::string> devices;
    size_t with_ipv4 = 0, with_ipv6 = 0;   // how many of the devices have addresses of each family
};

// A move the rules want that cannot be made as the site stands.
struct HeldMove {
    std::string device, to, why;
};

// An observed flow whose path or verdict the moves change.
struct PathChange {
    std::string initiator, responder;          // names
    std::string initiator_ip, responder_ip;    // after the moves
    std::string service;
    uint64_t connections = 0;
    std::string before, after;                 // "inside icu: never reaches the gateway", "allowed: ...", "blocked: ..."
    bool blocked_after = false;                // allowed (or inside a segment) before, blocked after
};

struct SegmentProposal {
    std::string site, today;
    std::vector<SegmentMove> moves;            // highest risk first, then by name
    std::vector<NeededSegment> needed;
    std::vector<HeldMove> held;
    size_t rules_before = 0, rules_after = 0, pinholes_before = 0, pinholes_after = 0;
    std::vector<RuleChange> rules;             // what the moves change, by rule id
    std::vector<ReadablePinhole> pinholes_lost;  // observed baseline of moved devices: keyed by the old addresses
    std::vector<PathChange> paths;             // blocked after first
    InventoryPatch patch;                      // the moves as a diff of the inventory files

    bool empty() const { return moves.empty() && needed.empty() && held.empty(); }
};

SegmentProposal propose_segments(const Pipeline& p);

std::string render_segment_proposal(const SegmentProposal& proposal);

}  // namespace wardgate
