#pragma once
#include <string>

namespace wardgate::service::detail {

// Keeps CAP_NET_ADMIN (netlink: nftables, links) and CAP_DAC_READ_SEARCH (reading site
// files whatever their owner) and drops every other capability, from the bounding set too
// when the process may change it. Returns what it did in words; throws on failure.
std::string keep_only_network_capabilities();

}  // namespace wardgate::service::detail
