#pragma once
// What one compilation keeps for the next: serve (and its reload benchmark) compiles the whole
// site again after every edit, and an edit changes few of its groups and edges.
#include <string>
#include <vector>

#include "wardgate/core/content_memo.hpp"
#include "wardgate/core/net.hpp"
#include "wardgate/policy/baseline_memo.hpp"

namespace wardgate {

// An address group's members and prefixes: as the compiler gathered them, and as tidied
// (prefixes collapsed, members sorted, each once). Collapsing a role of tens of thousands of
// scattered hosts is most of what building it costs.
struct GroupContent {
    std::vector<Prefix> prefixes;
    std::vector<std::string> members;
    bool operator==(const GroupContent&) const = default;
};
using GroupMemo = ContentMemo<GroupContent, GroupContent>;

struct CompileMemo {
    BaselineMemo baseline;  // used when the observed edges come with their lineage
    GroupMemo groups;       // keyed by what each group stands for
};

}  // namespace wardgate
