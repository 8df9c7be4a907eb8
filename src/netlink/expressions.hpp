#pragma once
// nft::Rule -> nftnl_rule with the expressions `nft -f` generates for the printed rule,
// and the canonical text used to compare rules with what the kernel holds.
#include <functional>
#include <string>
#include <vector>

#include "model.hpp"
#include "nftnl_ptr.hpp"

namespace wardgate::netlink::detail {

struct BuiltRule {
    RulePtr rule;
    std::vector<AnonSet> anon;  // anonymous sets the rule looks up; created just before it
};

// ids: NFTA_SET_ID of every named set in the batch; anonymous sets take the next ids.
BuiltRule build_rule(const nft::Rule& r, const std::string& table, const std::string& chain, SetIds& ids);

// Resolves a lookup's anonymous set (kernel name "__set3" or batch name "__set%d" + id).
using AnonResolver = std::function<const SetModel*(const std::string& name, uint32_t set_id)>;

// Expressions in a fixed text form: counters without values, anonymous sets by content.
std::string canonical_rule_text(const nftnl_rule* r, const AnonResolver& anon);
std::string rule_comment(const nftnl_rule* r);
std::string anon_set_text(const SetModel& s);

}  // namespace wardgate::netlink::detail
