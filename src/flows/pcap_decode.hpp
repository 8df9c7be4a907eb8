#pragma once
// Decodes one captured frame down to the transport header: addresses, ports, TCP flags
// and the transport payload length. Reads only within the captured bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wardgate/core/net.hpp"

namespace wardgate::flows_internal {

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

struct DecodedPacket {
    IpAddress src, dst;
    uint8_t ip_protocol = 0;   // 6, 17, 1 or 58
    uint16_t src_port = 0, dst_port = 0;
    uint8_t tcp_flags = 0;
    uint32_t tcp_seq = 0, tcp_ack = 0;
    uint8_t icmp_type = 0;
    uint8_t icmp_code = 0;
    uint64_t payload = 0;      // transport payload bytes, from the IP length fields
    // The payload's captured bytes (TCP and UDP only), within the frame being decoded.
    const uint8_t* payload_data = nullptr;
    size_t payload_captured = 0;
    // Fragments: only the first carries the transport header. A later fragment has
    // has_ports false; its id (with addresses and protocol) ties it to the first.
    bool fragmented = false;
    bool has_ports = true;
    uint32_t fragment_id = 0;
    int tunnel_depth = 0;      // IP-in-IP headers passed to reach this one
    // The Ethernet source address of the frame carrying the packet (the innermost, for a
    // mirrored or VXLAN frame); null for other link types and IP-in-IP.
    const uint8_t* src_mac = nullptr;
};

// Returns an empty view when the packet was decoded, otherwise why it is skipped
// (a reason for ReadSummary::skipped).
std::string_view decode_packet(int link_type, const uint8_t* data, size_t caplen, DecodedPacket& out);

// Whether a link type is one decode_packet understands.
bool link_type_supported(int link_type);

}  // namespace wardgate::flows_internal
