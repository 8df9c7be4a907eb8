// The port heuristics that decide who initiated a flow whose handshake was not seen.
#include <algorithm>
#include <array>

#include "wardgate/flows/pcap.hpp"

namespace wardgate {

namespace {

// Registered ports (above 1023) where services listen in and around hospitals.
constexpr std::array<uint16_t, 43> kServicePorts = {
    1433,  1434,  1521,  1812,  1813,  1883,  1900,  2000, 2049, 2575, 2762, 3268, 3269, 3306, 3389,
    3478,  3702,  4500,  5060,  5061,  5353,  5355,  5432, 5671, 5672, 5683, 5900, 5901, 5902, 5903,
    5985,  5986,  6514,  6661,  7000,  8000,  8080,  8443, 8883, 9100, 11112, 24005, 24105};
// 47808 (BACnet) is kept apart because the array above is sorted for binary search.
constexpr uint16_t kBacnet = 47808;

// Ports below 1024 that clients send from, not services: DHCP and DHCPv6 clients.
constexpr std::array<uint16_t, 2> kClientPorts = {68, 546};

constexpr uint16_t kFirstDynamicPort = 49152;  // IANA dynamic/private range

}  // namespace

bool is_service_port(uint16_t port) {
    if (port == 0) return false;
    if (port <= 1023) return std::find(kClientPorts.begin(), kClientPorts.end(), port) == kClientPorts.end();
    return port == kBacnet || std::binary_search(kServicePorts.begin(), kServicePorts.end(), port);
}

int responder_by_ports(uint16_t port_a, uint16_t port_b) {
    bool service_a = is_service_port(port_a), service_b = is_service_port(port_b);
    if (service_a != service_b) return service_a ? 0 : 1;
    if (port_a == port_b) return -1;
    if (service_a) return port_a < port_b ? 0 : 1;  // both services: the lower port listens (e.g. 20 vs 1023)
    bool dynamic_a = port_a >= kFirstDynamicPort, dynamic_b = port_b >= kFirstDynamicPort;
    if (dynamic_a != dynamic_b) return dynamic_a ? 1 : 0;  // a registered port answers a dynamic one
    return -1;
}

}  // namespace wardgate
