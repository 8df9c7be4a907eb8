#pragma once
// What every flow source emits, and the aggregated edge baseline built from it.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "wardgate/core/application.hpp"
#include "wardgate/core/net.hpp"
#include "wardgate/flows/day_set.hpp"

namespace wardgate {

// One observed connection: who initiated it, to whom, and what happened.
struct FlowRecord {
    IpAddress initiator;
    IpAddress responder;
    Protocol protocol = Protocol::tcp;
    uint16_t responder_port = 0;  // 0 for ICMP
    double start = 0;             // seconds since the Unix epoch
    double duration = 0;
    uint64_t bytes = 0;           // both directions, payload as the source reports it
    bool established = false;     // a reply was seen (Zeek conn_state other than S0, REJ, OTH, SH...)
    ApplicationSet applications = 0;  // recognised by content (pcap) or named by the source (Zeek's service)
    uint32_t connections = 1;     // a pre-aggregated source row may stand for several connections
};

// Aggregation key: (initiator, responder, protocol, responder port).
struct EdgeKey {
    IpAddress initiator;
    IpAddress responder;
    Protocol protocol = Protocol::tcp;
    uint16_t responder_port = 0;

    auto operator<=>(const EdgeKey&) const = default;
};

// The edge a record belongs to.
inline EdgeKey edge_key(const FlowRecord& r) { return EdgeKey{r.initiator, r.responder, r.protocol, r.responder_port}; }

struct EdgeKeyHash {
    size_t operator()(const EdgeKey& k) const noexcept {
        IpAddressHash h;
        size_t x = h(k.initiator) * 31 + h(k.responder);
        return x ^ ((static_cast<size_t>(k.protocol) << 16 | k.responder_port) * 0x9E3779B97F4A7C15ULL);
    }
};

struct EdgeStats {
    double first_seen = 0;
    double last_seen = 0;  // start + duration of the latest connection
    uint64_t connections = 0;
    uint64_t bytes = 0;
    bool established = false;  // any connection on this edge was established
    ApplicationSet applications = 0;  // every application recognised on this edge
    uint32_t days_seen = 0;    // distinct UTC days with at least one connection on this edge
};

// What showed an application on an edge: the first flow it was recognised in.
struct ApplicationSighting {
    EdgeKey key;
    Application application = Application::dicom;
    double first_seen = 0;
    std::string detail;  // "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\": CT Image Storage"
    // Empty for what showed the edge's application; for a DHCP message, its client and type
    // ("00:17:88:01:02:03 DHCPREQUEST"): every client broadcasting from 0.0.0.0 shares one edge.
    std::string subject;

    auto identity() const { return std::tie(key, application, subject); }
};

// An address's Ethernet source address, from the frames a capture holds (the last hop's
// MAC: a router's for every host behind it).
struct MacSighting {
    IpAddress address;
    uint64_t mac = 0;  // 48 bits, first octet highest
    double first_seen = 0;
    double last_seen = 0;

    auto identity() const { return std::tie(address, mac); }
};
std::string mac_text(uint64_t mac);  // "00:1b:21:aa:bb:cc"

struct ObservedEdge {
    EdgeKey key;
    EdgeStats stats;
    DaySet days;  // stats.days_seen == days.size() once the aggregator built it
};

}  // namespace wardgate
