#pragma once
// Comparing two tables: whether only set elements differ, and which elements to delete
// and add to turn the live table into the desired one.
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"

namespace wardgate::netlink::detail {

// Chains, rules and set definitions equal (elements may differ).
bool same_definitions(const TableModel& desired, const TableModel& live);

struct SetDelta {
    const SetModel* desired = nullptr;
    const SetModel* live = nullptr;
    std::vector<uint32_t> remove;   // indices into live->elems
    std::vector<uint32_t> add;      // indices into desired->elems, in the order to send
    size_t ranges_removed = 0, ranges_added = 0;  // logical elements (ranges count once)
};

// Only for tables with the same definitions; sets without changes are left out.
std::vector<SetDelta> element_delta(const TableModel& desired, const TableModel& live);

// Readable differences between the elements of two sets ("10.9.9.9" missing / extra).
struct ElementDiff {
    std::vector<std::string> missing;   // in desired, not in live
    std::vector<std::string> extra;     // in live, not in desired
};
ElementDiff element_diff(const SetModel& desired, const SetModel& live);

}  // namespace wardgate::netlink::detail
