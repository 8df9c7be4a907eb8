#pragma once
// One gateway's share of the site's policy: what it must enforce for the traffic that passes
// it, and nothing of the traffic that never does.
#include <string_view>
#include <vector>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

// The slice of `whole` for the [[gateway]] of `site` named `gateway`: the rules whose traffic
// starts or ends in the segments it routes (a group narrowed to those segments' addresses where
// every rule that uses it only needs that end there), the groups those rules use, the baseline
// pinholes and refused flows that touch its segments. Every segment stays (its default deny
// decides the traffic from it that reaches this gateway), as do the devices in monitor. For
// every flow that passes the gateway the slice's verdict is the whole policy's.
// Throws InputError (command line, --gateway) when the site declares no such gateway.
Policy slice_for_gateway(const Policy& whole, const Site& site, std::string_view gateway);
// The same, taking what it keeps out of `whole` (left valid but unspecified).
Policy slice_for_gateway(Policy&& whole, const Site& site, std::string_view gateway);

// Every [[gateway]]'s slice, in the order the site declares them; what they share (the groups'
// members looked up, the notes on rules no gateway enforces) is worked out once.
std::vector<Policy> slices_for_gateways(const Policy& whole, const Site& site);

// The site's [[gateway]] of that name; InputError (command line, --gateway) when there is none.
const GatewayDecl& declared_gateway(const Site& site, std::string_view gateway);

// Addresses and prefixes the policy's sets hold: groups' prefixes, pinholes, monitored addresses.
size_t policy_elements(const Policy& policy);

}  // namespace wardgate
