#pragma once
// The ruleset to install, in the kernel's encoding: the model to compare with the live
// table, plus the libnftnl rules (and their anonymous sets) to send.
#include <string>
#include <vector>

#include "expressions.hpp"
#include "wardgate/core/content_memo.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "model.hpp"

namespace wardgate::netlink {

struct SetEncodings::Memo : ContentMemo<nft::Set, detail::SetModel> {};

}  // namespace wardgate::netlink

namespace wardgate::netlink::detail {

struct DesiredTable {
    TableModel model;                             // what the kernel should hold afterwards
    std::vector<uint32_t> set_ids;                // NFTA_SET_ID per model.sets entry
    std::vector<std::vector<BuiltRule>> rules;    // per model.chains entry
    std::vector<std::vector<const nft::Rule*>> source;  // the nft::Rule behind each built rule
};

// Throws std::invalid_argument when the ruleset cannot be encoded (bad key, missing verdict...).
// With `encodings`, a set equal to one encoded before is taken from there.
DesiredTable build_desired(const nft::Ruleset& r, SetEncodings* encodings = nullptr);

// "ip saddr @x tcp dport 443 counter accept" — the rule as `nft -f` text.
std::string rule_line(const nft::Rule& r);

}  // namespace wardgate::netlink::detail
