#pragma once
// Random sites for the differential test: every site is drawn from one seed, so a seed
// printed by a failing run writes the same site again.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "wardgate/core/net.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate::testing {

// What the generator knows about the site it wrote, to draw addresses and ports from.
struct RandomSite {
    std::map<std::string, std::string> files;  // for TempSite(files, false)
    std::vector<Prefix> segment_subnets;
    std::vector<IpAddress> device_addresses;
    std::vector<IpAddress> endpoint_hosts;     // single addresses named by endpoints
    std::vector<Prefix> endpoint_networks;     // endpoint prefixes that are not the whole internet
    std::vector<uint16_t> ports;               // every declared, approved and denied port and range edge
};

// The day sites are compiled on; approvals expire relative to it.
inline constexpr const char* kRandomSiteToday = "2026-11-22";

RandomSite random_site(std::mt19937& rng);

// One new connection to send through the gateway. For ICMP the packet has no port: `port` is
// what the explainer is asked with (0, or what `explain ... icmp/8` would pass).
struct Probe {
    IpAddress src;
    IpAddress dst;
    Protocol proto = Protocol::tcp;
    uint16_t port = 0;

    std::string text() const;  // "10.1.2.3 -> 10.4.5.6 tcp/443"
};

// n connections of one family each, between the site's devices, endpoints, unmanaged
// hosts in its segments and addresses outside it.
std::vector<Probe> random_probes(const RandomSite& site, std::mt19937& rng, size_t n);

// Up to n connections aimed at the policy's rules and pinholes: addresses at and just beyond
// the edges of their groups' prefixes, ports at and just beyond the edges of their ranges.
std::vector<Probe> rule_probes(const Policy& policy, std::mt19937& rng, size_t n);

// Addresses a test gateway uses for its own links; the generator never draws from them.
inline constexpr const char* kLinkNet4 = "100.64.0.0/10";
inline constexpr const char* kLinkNet6 = "2001:db8:ffff::/48";

}  // namespace wardgate::testing
