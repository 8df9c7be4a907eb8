#pragma once
// Is a device ready to be enforced? Long enough observed, nothing it does that enforcement
// would block, and every flow its manufacturer says it needs seen at least once.
#include <string>
#include <vector>

#include "wardgate/plan/pipeline.hpp"

namespace wardgate {

struct DeviceReadiness {
    std::string device, role, segment;
    uint32_t days_observed = 0;     // distinct UTC days any of its flows was seen on
    std::string last_seen;          // ISO 8601 UTC; empty: never
    size_t would_block = 0;         // observed flows the policy blocks (explicit denies excluded)
    size_t immature = 0;            // of those, flows the baseline would keep once seen longer
    size_t declared_unseen = 0;     // required declared flows of its profile never observed
    bool ready = false;
    std::string verdict;            // "ready to enforce: 12 days observed, 0 ..." or "not ready: ..."
};

struct GroupReadiness {
    std::string name;               // a segment or a role
    size_t devices = 0, ready = 0;
};

struct Readiness {
    uint32_t min_days = 7;
    std::vector<DeviceReadiness> devices;   // in inventory order
    std::vector<GroupReadiness> segments, roles;  // by name
};

Readiness assess_readiness(const Pipeline& p, uint32_t min_days = 7);

}  // namespace wardgate
