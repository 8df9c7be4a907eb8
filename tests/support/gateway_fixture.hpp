#pragma once
// The policy of tests/data/gateway-site and applying it inside a test's namespace.
#include <string>

#include "netns.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate::testing {

// The gateway site's policy as of 2026-11-22.
Policy gateway_policy();

// Lowers the policy to nft and applies it inside gw; fails the test unless it is committed.
void apply_in(const Netns& gw, const Policy& policy);

// A [[device]] block for devices.toml: an Acme Vitals 1 patient monitor in the ICU segment,
// the model the gateway site's profile covers.
std::string icu_monitor_toml(const std::string& name, const std::string& address);

// netlink::describe_live_table() inside ns: the canonical state of the live wardgate table.
std::string live_state(const Netns& ns);

}  // namespace wardgate::testing
