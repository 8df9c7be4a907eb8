#pragma once
// The observed baseline: which observed flows no rule allows are kept as pinholes, and which
// are refused for want of evidence.
#include <vector>

#include "wardgate/graph/classify.hpp"
#include "wardgate/policy/baseline_memo.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate::policy_detail {

struct BaselineOutcome {
    std::vector<Pinhole> pinholes;         // sorted by key, one per key
    std::vector<BaselineRefusal> refused;  // sorted by key
    size_t unrouted = 0;                   // edges never forwarded (link-local, multicast, broadcast)
};

// `before`: the policy the declarations and approvals make, without pinholes. `lineage` (may be
// null) says where the edges came from; with it, `memo` (may be null) is used and updated.
BaselineOutcome judge_baseline(const AddressBook& book, const Policy& before, const std::vector<ClassifiedEdge>& edges,
                               const EdgeLineage* lineage, const Date& today, BaselineMemo* memo);

}  // namespace wardgate::policy_detail
