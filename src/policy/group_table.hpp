#pragma once
// Collects address groups while compiling, keyed by what they stand for, and gives them
// stable, backend-safe names at the end.
#include <map>
#include <string>
#include <vector>

#include "wardgate/policy/compile_memo.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate::policy_detail {

// [a-z0-9_] only, collapsing other characters into '_'.
std::string identifier(std::string_view text);

class GroupTable {
public:
    // With a memo, a group gathered exactly as last time is tidied as it was then.
    explicit GroupTable(GroupMemo* memo = nullptr) : memo_(memo) {}
    // Returns the id of the group with this key, creating it from `g` on first use.
    size_t intern(const std::string& key, AddressGroup g);
    const AddressGroup& at(size_t id) const { return groups_[id]; }
    // Sorts groups by name (making names unique) and returns the old-id -> new-index map. The
    // groups move out: the table is spent.
    std::vector<size_t> finish(std::vector<AddressGroup>& out) &&;

private:
    GroupMemo* memo_;
    std::map<std::string, size_t> by_key_;
    std::vector<AddressGroup> groups_;
};

}  // namespace wardgate::policy_detail
