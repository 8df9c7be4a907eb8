#include "pcap_decode.hpp"

#include <algorithm>
#include <cstring>

namespace wardgate::flows_internal {

namespace {

// Link types by their DLT value as libpcap reports them (LINKTYPE_RAW 101 comes back as DLT_RAW).
constexpr int kNull = 0, kEthernet = 1, kPpp = 9, kRaw = 12, kRawOpenBsd = 14, kPppHdlc = 50, kLinktypeRaw = 101,
              kIeee80211 = 105, kLoop = 108, kLinuxSll = 113, kRadiotap = 127, kIpv4 = 228, kIpv6 = 229, kLinuxSll2 = 276;

constexpr std::string_view kNotIp = "not IPv4 or IPv6";
constexpr std::string_view kShortLink = "frame shorter than its link-layer header";
constexpr std::string_view kNotData = "802.11 management, control or protected frame";
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
std::string_view decode_ip(Cursor c, DecodedPacket& out);
std::string_view decode_ethertype(uint16_t type, Cursor c, DecodedPacket& out);

constexpr int kMaxTunnelDepth = 3;

// What a tunnel carries stands in for the outer packet: the inner connection is the one that
// counts (as in Zeek); the tunnel itself is the capture path, never a flow of its own. When
// the inner packet does not decode, the outer one stays as it was (a flow on the tunnel's
// protocol or port) and false is returned.
enum class Inner { ip, ethernet, ethertype };
bool decapsulate(Cursor c, Inner kind, uint16_t ethertype, DecodedPacket& out) {
    if (out.fragmented || out.tunnel_depth >= kMaxTunnelDepth) return false;
    DecodedPacket inner;
    inner.tunnel_depth = out.tunnel_depth + 1;
    std::string_view why;
    switch (kind) {
        case Inner::ip: why = decode_ip(c, inner); break;
        case Inner::ethertype: why = decode_ethertype(ethertype, c, inner); break;
        case Inner::ethernet:
            if (c.left < 14) return false;
            inner.src_mac = c.p + 6;
            ethertype = be16(c.p + 12);
            c.take(14);
            why = decode_ethertype(ethertype, c, inner);
            break;
    }
    if (!why.empty()) return false;
    out = inner;
    return true;
}

// GRE version 0 (RFC 2784/2890: checksum, key and sequence number optional), carrying IP,
// Ethernet (transparent bridging), MPLS, or ERSPAN mirrored frames: type I (no header),
// II (8 bytes) and III (12 bytes, 8 more with the platform subheader).
void decode_gre(Cursor c, DecodedPacket& out) {
    if (c.left < 4) return;
    uint16_t flags = be16(c.p), type = be16(c.p + 2);
    if ((flags & 0x4007) != 0) return;  // routing present, or not version 0 (PPTP's enhanced GRE)
    size_t header = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if (!c.take(header)) return;
    switch (type) {
        case 0x88BE:  // ERSPAN type II, or type I without a sequence number
            if ((flags & 0x1000) && !c.take(8)) return;
            decapsulate(c, Inner::ethernet, 0, out);
            return;
        case 0x22EB:  // ERSPAN type III
            if (c.left < 12) return;
            {
                bool platform = (c.p[11] & 0x01) != 0;
                if (!c.take(12) || (platform && !c.take(8))) return;
            }
            decapsulate(c, Inner::ethernet, 0, out);
            return;
        case 0x6558: decapsulate(c, Inner::ethernet, 0, out); return;
        default: decapsulate(c, Inner::ethertype, type, out); return;
    }
}

// UDP tunnels by their IANA ports: VXLAN (4789), Geneve (6081), GTP-U (2152), Teredo (3544).
// A datagram on such a port that is not the tunnel stays a UDP flow.
void decode_udp_tunnel(Cursor c, DecodedPacket& out) {
    auto on = [&](uint16_t port) { return out.src_port == port || out.dst_port == port; };
    if (!c.take(8)) return;
    if (out.dst_port == 4789) {  // VXLAN: flags with the I bit, 24-bit VNI, then Ethernet
        if (c.left < 8 || (c.p[0] & 0x08) == 0 || !c.take(8)) return;
        decapsulate(c, Inner::ethernet, 0, out);
    } else if (out.dst_port == 6081) {  // Geneve: version 0, options, a protocol type
        if (c.left < 8 || (c.p[0] >> 6) != 0) return;
        size_t options = size_t{c.p[0] & 0x3Fu} * 4;
        uint16_t type = be16(c.p + 2);
        if (!c.take(8 + options)) return;
        decapsulate(c, type == 0x6558 ? Inner::ethernet : Inner::ethertype, type, out);
    } else if (on(2152)) {  // GTP-U version 1 G-PDU: optional fields and extension headers, then IP
        if (c.left < 8 || (c.p[0] >> 5) != 1 || (c.p[0] & 0x10) == 0 || c.p[1] != 0xFF) return;
        bool optional = (c.p[0] & 0x07) != 0;
        if (!c.take(8)) return;
        if (optional) {
            if (c.left < 4) return;
            uint8_t next = c.p[3];
            c.take(4);
            for (int n = 0; next != 0 && n < 8; ++n) {
                if (c.left < 4 || c.p[0] == 0) return;
                size_t length = size_t{c.p[0]} * 4;
                if (c.left < length) return;
                next = c.p[length - 1];
                c.take(length);
            }
            if (next != 0) return;
        }
        decapsulate(c, Inner::ip, 0, out);
    } else if (on(5072)) {  // AYIYA: identity and signature lengths in the header, then IP
        if (c.left < 12) return;
        size_t length = 8 + (size_t{1} << (c.p[0] >> 4)) + static_cast<size_t>(c.p[1] >> 4) * 4;
        uint8_t next = c.p[3];
        if ((next != 4 && next != 41) || !c.take(length)) return;
        decapsulate(c, Inner::ip, 0, out);
    } else if (on(3544)) {  // Teredo: optional authentication and origin indicators, then IPv6
        if (c.left >= 4 && be16(c.p) == 0x0001) {
            size_t length = 4 + size_t{c.p[2]} + c.p[3] + 9;
            if (!c.take(length)) return;
        }
        if (c.left >= 8 && be16(c.p) == 0x0000 && !c.take(8)) return;
        if (c.left < 1 || (c.p[0] >> 4) != 6) return;
        decapsulate(c, Inner::ip, 0, out);
    }
}

// Where the transport payload's captured bytes are: a snapshot length may have cut them short,
// and Ethernet padding after the IP packet is not payload.
void keep_payload(Cursor c, uint64_t header, DecodedPacket& out) {
    if (c.left <= header) return;
    out.payload_data = c.p + header;
    out.payload_captured = static_cast<size_t>(std::min<uint64_t>(c.left - header, out.payload));
}

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
            keep_payload(c, header, out);
            return {};
        }
        case 17:
        case 132:    // SCTP
        case 136: {  // UDP-Lite: ports where UDP has them
            if (c.left < 4) return kShortTransport;
            out.src_port = be16(c.p);
            out.dst_port = be16(c.p + 2);
            out.payload = ip_payload > 8 ? ip_payload - 8 : 0;
            keep_payload(c, 8, out);
            if (protocol == 17) decode_udp_tunnel(c, out);
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
        case 47:  // GRE
            out.payload = ip_payload;
            decode_gre(c, out);
            return {};
        case 4:   // IPv4 in IP
        case 41:  // IPv6 in IP (6in4 tunnels): the inner connection is the one that counts, as in Zeek
            if (out.fragmented || out.tunnel_depth >= kMaxTunnelDepth) return kOtherProtocol;
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
            case 0x8926:  // VN-Tag (Cisco FEX): 4 bytes of tag, then the EtherType
                if (c.left < 6) return kShortLink;
                type = be16(c.p + 4);
                c.take(6);
                break;
            case 0x88E7:  // 802.1ah provider backbone bridging: I-tag, the customer's MACs, its EtherType
                if (c.left < 18) return kShortLink;
                type = be16(c.p + 16);
                c.take(18);
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
        case kLinuxSll: case kIpv4: case kIpv6: case kLinuxSll2: case kPpp: case kPppHdlc:
        case kIeee80211: case kRadiotap:
            return true;
        default:
            return false;
    }
}

// PPP: an optional address and control field (0xFF 0x03), then the protocol.
std::string_view decode_ppp(Cursor c, DecodedPacket& out) {
    if (c.left >= 2 && c.p[0] == 0xFF && c.p[1] == 0x03) c.take(2);
    if (c.left < 2) return kShortLink;
    uint16_t protocol = be16(c.p);
    c.take(2);
    if (protocol == 0x0021) return decode_ipv4(c, out);
    if (protocol == 0x0057) return decode_ipv6(c, out);
    return kNotIp;
}

// An 802.11 data frame: the MAC header (a fourth address between access points, a QoS field,
// an HT control field), then LLC/SNAP with the EtherType. Encrypted frames cannot be read.
std::string_view decode_80211(Cursor c, DecodedPacket& out) {
    if (c.left < 24) return kShortLink;
    uint8_t fc0 = c.p[0], fc1 = c.p[1];
    uint8_t type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
    if (type != 2 || (subtype & 0x4) != 0 || (fc1 & 0x40) != 0) return kNotData;  // not data, no payload, protected
    size_t header = 24;
    if ((fc1 & 0x03) == 0x03) header += 6;  // to and from DS: four addresses
    bool qos = (subtype & 0x8) != 0;
    if (qos) header += 2;
    if (qos && (fc1 & 0x80) != 0) header += 4;  // order bit with QoS: HT control
    if (!c.take(header)) return kShortLink;
    if (c.left < 8 || c.p[0] != 0xAA || c.p[1] != 0xAA || c.p[2] != 0x03) return kNotIp;
    uint16_t ethertype = be16(c.p + 6);
    c.take(8);
    return decode_ethertype(ethertype, c, out);
}

std::string_view decode_packet(int link_type, const uint8_t* data, size_t caplen, DecodedPacket& out) {
    out = DecodedPacket{};
    Cursor c{data, caplen};
    switch (link_type) {
        case kEthernet:
            if (c.left < 14) return kShortLink;
            {
                out.src_mac = c.p + 6;
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
        case kPpp:
        case kPppHdlc:
            return decode_ppp(c, out);
        case kIeee80211: return decode_80211(c, out);
        case kRadiotap:  // radiotap header (its length little-endian at bytes 2-3), then 802.11
            if (c.left < 4) return kShortLink;
            if (!c.take(size_t{c.p[2]} | size_t{c.p[3]} << 8)) return kShortLink;
            return decode_80211(c, out);
        default: return kNotIp;
    }
}

}  // namespace wardgate::flows_internal
