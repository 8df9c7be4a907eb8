#include "pcap_evidence.hpp"

namespace wardgate::flows_internal {

namespace {

// Sequence or acknowledgement numbers further ahead than this are taken as garbage
// (a forged or corrupt header), not as bytes the capture missed.
constexpr int64_t kMaxSequenceJump = int64_t{1} << 30;

// Request and reply kinds, as bits.
constexpr uint8_t kEchoKind = 1, kTimestampKind = 2, kInformationKind = 4, kAddressMaskKind = 8;

// The kind of an ICMP request or reply; 0 for other messages.
uint8_t request_kind(uint8_t ip_protocol, uint8_t type) {
    if (ip_protocol == 58) return type == 128 ? kEchoKind : 0;
    switch (type) {
        case 8: return kEchoKind;
        case 13: return kTimestampKind;
        case 15: return kInformationKind;
        case 17: return kAddressMaskKind;
        default: return 0;
    }
}

uint8_t reply_kind(uint8_t ip_protocol, uint8_t type) {
    if (ip_protocol == 58) return type == 129 ? kEchoKind : 0;
    switch (type) {
        case 0: return kEchoKind;
        case 14: return kTimestampKind;
        case 16: return kInformationKind;
        case 18: return kAddressMaskKind;
        default: return 0;
    }
}

}  // namespace

void TcpSide::advance(uint32_t sequence) {
    const auto ahead = static_cast<int32_t>(sequence - (start + static_cast<uint32_t>(top)));
    if (ahead > 0 && ahead < kMaxSequenceJump) top += static_cast<uint64_t>(ahead);
}

// Zeek's TCP_Endpoint::Size(): the span of sequence space less the SYN and FIN octets.
uint64_t TcpSide::payload_bytes() const {
    uint64_t size = top;
    if (size > 0) --size;
    if (fin && size > 0) --size;
    return size + unsequenced;
}

void TcpEvidence::add(int sender, const DecodedPacket& p) {
    TcpSide& me = side[sender];
    if (!p.has_ports) {  // a later fragment of a segment whose header came first
        me.unsequenced += p.payload;
        return;
    }
    const uint8_t flags = p.tcp_flags;
    if (flags & kTcpRst) return;  // a refusal: neither data nor an answer
    const bool syn = flags & kTcpSyn, ack = flags & kTcpAck;
    me.spoke = true;
    if (!me.seq_known) {
        me.seq_known = true;
        // Without a SYN, start as if one came just before, so the first byte counts.
        me.start = syn ? p.tcp_seq : p.tcp_seq - 1;
    }
    me.advance(p.tcp_seq + static_cast<uint32_t>(p.payload) + (syn ? 1 : 0) + ((flags & kTcpFin) ? 1 : 0));
    if (flags & kTcpFin) me.fin = true;
    TcpSide& peer = side[1 - sender];
    if (ack && peer.seq_known) peer.advance(p.tcp_ack);

    if (syn && !ack) {
        if (opener < 0) opener = sender;
        if (sender == opener) opener_isn = p.tcp_seq;
    } else if (syn && ack) {
        if (syn_acker < 0) syn_acker = sender;
    } else if (ack && syn_acker == 1 - sender) {
        syn_ack_acked = true;
    }
}

void IcmpEvidence::add(int sender, uint8_t ip_protocol, uint8_t type, uint8_t code) {
    if (first[sender] < 0) first[sender] = type << 8 | code;
    if (uint8_t kind = request_kind(ip_protocol, type)) {
        asked[sender] |= kind;
        if (requester < 0) requester = sender;
    } else if (uint8_t kind = reply_kind(ip_protocol, type); kind & asked[1 - sender]) {
        answered[1 - sender] = true;
    }
}

bool is_icmpv6_housekeeping(uint8_t ip_protocol, uint8_t type) {
    if (ip_protocol != 58) return false;
    switch (type) {
        case 130: case 131: case 132: case 143:  // multicast listener query, report, done, v2 report
        case 133: case 134: case 135: case 136: case 137:  // router/neighbour solicitation, advertisement; redirect
            return true;
        default:
            return false;
    }
}

}  // namespace wardgate::flows_internal
