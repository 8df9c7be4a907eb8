#pragma once
// The ruleset to install, in the kernel's encoding: the model to compare with the live
// table, plus the libnftnl rules (and their anonymous sets) to send.
#include <string>
#include <vector>

#include "expressions.hpp"
#include "model.hpp"

namespace wardgate::netlink::detail {

struct DesiredTable {
    TableModel model;                             // what the kernel should hold afterwards
    std::vector<uint32_t> set_ids;                // NFTA_SET_ID per model.sets entry
    std::vector<std::vector<BuiltRule>> rules;    // per model.chains entry
    std::vector<std::vector<const nft::Rule*>> source;  // the nft::Rule behind each built rule
};

// Throws std::invalid_argument when the ruleset cannot be encoded (bad key, missing verdict...).
DesiredTable build_desired(const nft::Ruleset& r);

// "ip saddr @x tcp dport 443 counter accept" — the rule as `nft -f` text.
std::string rule_line(const nft::Rule& r);

}  // namespace wardgate::netlink::detail
