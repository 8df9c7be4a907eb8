#pragma once
// The policy as an `nft -f` script that replaces wardgate's own table (inet wardgate) in
// one transaction and touches nothing else.
#include <string>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

inline constexpr const char* kNftTable = "wardgate";

std::string render_nft(const Policy& policy);

// Names used in the ruleset, shared with the netlink applier and the drift check.
std::string nft_group_set(const AddressGroup& g, Family f);   // "role_pacs_v4"
std::string nft_drop_chain(const std::string& segment);       // "drop_icu"
std::string nft_dns_set(const std::string& dns_name, Family f);  // "dns_update_vendor_example_v4"
std::string nft_accept_chain(const std::string& segment);     // "accept_icu": counts what the segment's traffic accepted
inline constexpr const char* kNftOutsideSegment = "outside";  // chains of traffic that is in no segment
std::string nft_log_prefix(const std::string& segment, bool monitor);

}  // namespace wardgate
