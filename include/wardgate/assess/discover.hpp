#pragma once
// The inventory the hospital does not have: every address the flows show that the site
// does not know, with what identifies it, what it did, which manufacturer profiles its
// behaviour matches, and a proposed device entry for a person to review. And the reverse:
// inventory devices the flows never show.
//
// A proposal is never policy: it opens nothing until a person adds it to the inventory,
// and the fields only a person can answer (the life-cycle stage) are left for them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/assess/mac_vendors.hpp"
#include "wardgate/graph/classify.hpp"

namespace wardgate {

// What a host said about itself in the traffic (DHCP, DICOM, HL7).
struct HostIdentity {
    std::string mac;             // the DHCP client hardware address, else the source of its frames
    bool mac_from_frames = false;  // the MAC is its frames' (no DHCP message named it)
    std::string mac_vendor;      // the IEEE registry's organisation for the MAC
    std::string hostname;        // DHCP option 12
    std::string vendor_class;    // DHCP option 60 (DHCPv6 16)
    std::string mud_url;         // DHCP option 161 (DHCPv6 112)
    std::string dhcp_parameters; // DHCP option 55, a fingerprint of the client's software
    std::vector<std::string> ae_titles;         // DICOM AE titles it called from or answered to
    std::vector<std::string> hl7_applications;  // HL7 MSH-3@MSH-4 of messages on connections it opened
    bool empty() const;
};

// One kind of conversation a host had: direction, peer, service.
struct HostFlow {
    bool initiated = false;     // the host opened it
    std::string peer;           // the other end's name (device, endpoint, or address)
    IpAddress peer_address;
    Protocol protocol = Protocol::tcp;
    uint16_t port = 0;          // the responder port (for ICMP the message)
    std::string service;        // "tcp/443", "udp/123", "icmp/echo-request"
    uint64_t connections = 0;
    bool answered = false;      // some connection was answered: behaviour, not an attempt
    ApplicationSet applications = 0;
    auto operator<=>(const HostFlow&) const = default;
};

struct ProfileMatch {
    const Profile* profile = nullptr;
    size_t declared = 0;        // the profile's declared flows
    size_t seen = 0;            // ... the host was seen doing (answered, or connectionless)
    size_t required = 0;
    size_t required_seen = 0;
    size_t undeclared = 0;      // the host's flows this profile does not declare
    bool announced = false;     // the host's DHCP MUD URL is this profile's MUD file

    double share() const { return declared ? static_cast<double>(seen) / static_cast<double>(declared) : 0; }
};

// A device entry for a person to review. Empty fields are theirs to fill.
struct DeviceProposal {
    std::string name;
    std::string role;
    std::string vendor;
    std::string model;
    std::string segment;
    const Profile* profile = nullptr;
    std::string why;            // "did 2 of Acme Pump 1's 4 declared flows", "announces MUD URL ..."
    std::string same_mac_as;    // an inventory device with this MAC (it moved, or its address is wrong)
};

struct DiscoveredHost {
    IpAddress address;
    int segment = -1;           // index into Site::segments, -1 outside every segment
    double first_seen = 0;
    double last_seen = 0;
    HostIdentity identity;
    std::vector<HostFlow> flows;            // sorted: served first, then opened; by protocol, port, peer
    std::vector<ProfileMatch> matches;      // best first; profiles it did something of, or announced
    size_t undeclared_by_any = 0;           // of its flows, those no profile declares
    DeviceProposal proposal;
};

// A DHCP client seen before it had an address (DISCOVER from 0.0.0.0 and no requested address).
struct UnaddressedClient {
    HostIdentity identity;
    double first_seen = 0;
};

struct Discovery {
    // By address: those that opened a connection, answered one, or said who they are.
    std::vector<DiscoveredHost> hosts;
    // Addresses only ever sent to, never heard from (a scan's targets, a host that is gone):
    // nothing shows that anything is there.
    std::vector<IpAddress> silent;
    std::vector<UnaddressedClient> unaddressed;  // by MAC
    std::vector<const Device*> unseen;           // inventory devices no flow and no DHCP message shows
};

struct DiscoverOptions {
    const MacVendors* vendors = nullptr;  // names the MAC's organisation when given
};

// A MAC seen with more addresses than this is a router's (or a proxy's): it names none of them.
inline constexpr size_t kRouterMacAddresses = 4;

// edges: classified against the site; sightings: what showed their applications; macs: the
// Ethernet source addresses of each address's frames.
Discovery discover(const AddressBook& book, const std::vector<ClassifiedEdge>& edges,
                   const std::vector<ApplicationSighting>& sightings, const std::vector<MacSighting>& macs = {},
                   const DiscoverOptions& options = {});

}  // namespace wardgate
