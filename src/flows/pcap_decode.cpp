#include "pcap_decode.hpp"

#include <algorithm>
#include <cstring>

namespace wardgate::flows_internal {

namespace {

// Link types by their DLT value as libpcap reports them (LINKTYPE_RAW 101 comes back as DLT_RAW).
constexpr int kNull = 0, kEthernet = 1, kRaw = 12, kRawOpenBsd = 14, kLinktypeRaw = 101, kLoop = 108,
              kLinuxSll = 113, kIpv4 = 228, kIpv6 = 229, kLinuxSll2 = 276;

constexpr std::string_view kNotIp = "not IPv4 or IPv6";
constexpr std::string_view kShortLink = "frame shorter than its link-layer header";
constexpr std::string_view kShortIp = "IP header cut short or invalid";
constexpr std::string_view kShortTransport = "transport header not captured (snap length)";
constexpr std::string_view kOtherProtocol = "not a transport protocol (IPv6 extension header or reserved number)";

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

struct Cursor {
    const uint8_t* p;
    size_t left;
    bool take(size_t n) {
        if (left < n) return false;
        p += n;
        left -= n;
        return true;
    }
};

std::string_view decode_ipv4(Cursor c, DecodedPacket& out);
std::string_view decode_ipv6(Cursor c, DecodedPacket& out);

std::string_view decode_transport(uint8_t protocol, Cursor c, uint64_t ip_payload, DecodedPacket& out) {
    out.ip_protocol = protocol;
    if (!out.has_ports) {  // a later fragment: no transport header here
        out.payload = ip_payload;
        return {};
    }
    switch (protocol) {
        case 6: {
            if (c.left < 14) return kShortTransport;
            out.src_port = be16(c.p);
            out.dst_port = be16(c.p + 2);
            out.tcp_flags = c.p[13];
            out.tcp_seq = be32(c.p + 4);
            out.tcp_ack = be32(c.p + 8);
            uint64_t header = static_cast<uint64_t>(c.p[12] >> 4) * 4;
            out.payload = ip_payload > header ? ip_payload - header : 0;
            return {};
        }
        case 17:
        case 132:    // SCTP
        case 136: {  // UDP-Lite: ports where UDP has them
            if (c.left < 4) return kShortTransport;
            out.src_port = be16(c.p);
            out.dst_port = be16(c.p + 2);
            out.payload = ip_payload > 8 ? ip_payload - 8 : 0;
            return {};
        }
        case 1:
        case 58: {
            if (c.left < 2) return kShortTransport;
            out.icmp_type = c.p[0];
            out.icmp_code = c.p[1];
            out.payload = ip_payload > 8 ? ip_payload - 8 : 0;
            return {};
        }
        case 4:   // IPv4 in IP
        case 41:  // IPv6 in IP (6in4 tunnels): the inner connection is the one that counts, as in Zeek
            if (out.fragmented || out.tunnel_depth >= 3) return kOtherProtocol;
            {
                int depth = out.tunnel_depth + 1;
                out = DecodedPacket{};
                out.tunnel_depth = depth;
            }
            return protocol == 4 ? decode_ipv4(c, out) : decode_ipv6(c, out);
        case 0: case 43: case 44: case 59: case 60: case 135: case 139: case 140: case 255:
            return kOtherProtocol;  // IPv6 extension headers where IPv4 has them, and reserved numbers
        default:  // ESP, GRE, OSPF, VRRP, ...: a flow between two hosts, without ports
            out.payload = ip_payload;
            return {};
    }
}

std::string_view decode_ipv4(Cursor c, DecodedPacket& out) {
    if (c.left < 20 || (c.p[0] >> 4) != 4) return kShortIp;
    size_t header = static_cast<size_t>(c.p[0] & 0x0F) * 4;
    uint16_t total = be16(c.p + 2);
    if (header < 20 || c.left < header) return kShortIp;
    // A zero total length comes from captures of segmentation offload: trust the capture.
    uint64_t length = total == 0 ? c.left : total;
    if (length < header) return kShortIp;
    out.src.family = out.dst.family = Family::v4;
    std::memcpy(out.src.bytes.data(), c.p + 12, 4);
    std::memcpy(out.dst.bytes.data(), c.p + 16, 4);
    uint16_t fragment = be16(c.p + 6);
    uint16_t offset = fragment & 0x1FFF;
    bool more = (fragment & 0x2000) != 0;
    if (offset != 0 || more) {
        out.fragmented = true;
        out.fragment_id = be16(c.p + 4);
        out.has_ports = offset == 0;
    }
    uint8_t protocol = c.p[9];
    c.take(header);
    return decode_transport(protocol, c, length - header, out);
}

std::string_view decode_ipv6(Cursor c, DecodedPacket& out) {
    if (c.left < 40 || (c.p[0] >> 4) != 6) return kShortIp;
    out.src.family = out.dst.family = Family::v6;
    std::memcpy(out.src.bytes.data(), c.p + 8, 16);
    std::memcpy(out.dst.bytes.data(), c.p + 24, 16);
    uint64_t remaining = be16(c.p + 4);  // payload length, extension headers included
    if (remaining == 0) remaining = c.left - 40;  // jumbogram or offload capture
    uint8_t next = c.p[6];
    c.take(40);
    for (int hops = 0; hops < 16; ++hops) {
        switch (next) {
            case 0:     // hop-by-hop options
            case 43:    // routing
            case 60:    // destination options
            case 135:   // mobility
            case 139:   // HIP
            case 140: { // shim6
                if (c.left < 8) return kShortIp;
                size_t length = (size_t{c.p[1]} + 1) * 8;
                next = c.p[0];
                if (!c.take(length) || remaining < length) return kShortIp;
                remaining -= length;
                break;
            }
            case 51: {  // authentication header: length in 4-byte units, minus 2
                if (c.left < 8) return kShortIp;
                size_t length = (size_t{c.p[1]} + 2) * 4;
                next = c.p[0];
                if (!c.take(length) || remaining < length) return kShortIp;
                remaining -= length;
                break;
            }
            case 44: {  // fragment
                if (c.left < 8 || remaining < 8) return kShortIp;
                next = c.p[0];
                uint16_t offset = be16(c.p + 2) >> 3;
                bool more = (c.p[3] & 1) != 0;
                out.fragmented = offset != 0 || more;
                out.fragment_id = be32(c.p + 4);
                out.has_ports = offset == 0;
                c.take(8);
                remaining -= 8;
                if (!out.has_ports) return decode_transport(next, c, remaining, out);
                break;
            }
            case 59: return kOtherProtocol;  // no next header
            default: return decode_transport(next, c, remaining, out);
        }
    }
    return kShortIp;
}

std::string_view decode_ip(Cursor c, DecodedPacket& out) {
    if (c.left < 1) return kShortIp;
    switch (c.p[0] >> 4) {
        case 4: return decode_ipv4(c, out);
        case 6: return decode_ipv6(c, out);
        default: return kNotIp;
    }
}

// An EtherType, after any VLAN tags, MPLS labels or PPPoE session header.
std::string_view decode_ethertype(uint16_t type, Cursor c, DecodedPacket& out) {
    for (int depth = 0; depth < 8; ++depth) {
        switch (type) {
            case 0x0800: return decode_ipv4(c, out);
            case 0x86DD: return decode_ipv6(c, out);
            case 0x8100:  // 802.1Q
            case 0x88A8:  // 802.1ad (QinQ outer tag)
            case 0x9100:  // pre-standard QinQ
                if (c.left < 4) return kShortLink;
                type = be16(c.p + 2);
                c.take(4);
                break;
            case 0x8847: {  // MPLS unicast: labels up to bottom of stack, then guess IP by version
                for (;;) {
                    if (c.left < 4) return kShortLink;
                    bool bottom = (c.p[2] & 1) != 0;
                    c.take(4);
                    if (bottom) break;
                }
                return decode_ip(c, out);
            }
            case 0x8864: {  // PPPoE session: 6-byte header, then the PPP protocol
                if (c.left < 8) return kShortLink;
                uint16_t ppp = be16(c.p + 6);
                c.take(8);
                if (ppp == 0x0021) return decode_ipv4(c, out);
                if (ppp == 0x0057) return decode_ipv6(c, out);
                return kNotIp;
            }
            default: return kNotIp;
        }
    }
    return kNotIp;
}

}  // namespace

bool link_type_supported(int link_type) {
    switch (link_type) {
        case kNull: case kEthernet: case kRaw: case kRawOpenBsd: case kLinktypeRaw: case kLoop:
        case kLinuxSll: case kIpv4: case kIpv6: case kLinuxSll2:
            return true;
        default:
            return false;
    }
}

std::string_view decode_packet(int link_type, const uint8_t* data, size_t caplen, DecodedPacket& out) {
    out = DecodedPacket{};
    Cursor c{data, caplen};
    switch (link_type) {
        case kEthernet:
            if (c.left < 14) return kShortLink;
            {
                uint16_t type = be16(c.p + 12);
                c.take(14);
                return decode_ethertype(type, c, out);
            }
        case kLinuxSll:
            if (c.left < 16) return kShortLink;
            {
                uint16_t type = be16(c.p + 14);
                c.take(16);
                return decode_ethertype(type, c, out);
            }
        case kLinuxSll2:
            if (c.left < 20) return kShortLink;
            {
                uint16_t type = be16(c.p);
                c.take(20);
                return decode_ethertype(type, c, out);
            }
        case kNull:
        case kLoop:
            if (c.left < 4) return kShortLink;
            c.take(4);
            return decode_ip(c, out);
        case kRaw:
        case kRawOpenBsd:
        case kLinktypeRaw:
            return decode_ip(c, out);
        case kIpv4: return decode_ipv4(c, out);
        case kIpv6: return decode_ipv6(c, out);
        default: return kNotIp;
    }
}

}  // namespace wardgate::flows_internal
