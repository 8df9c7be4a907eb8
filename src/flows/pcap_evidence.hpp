#pragma once
// What the packets of one flow prove: who opened it, whether the other side answered,
// and how many payload bytes each side sent. Sides are 0 and 1 as in FlowKey (low, high).
//
// Evidence must take both sides: a packet an attacker can forge alone (a SYN+ACK, a
// reply from a service port, an echo reply) neither establishes a flow nor turns its
// direction around.
#include <array>
#include <cstdint>

#include "pcap_decode.hpp"

namespace wardgate::flows_internal {

// One direction of a TCP connection, counted in sequence space as Zeek counts
// orig_bytes/resp_bytes: retransmissions count once, and bytes the capture missed but
// the peer acknowledged count too.
struct TcpSide {
    bool seq_known = false;
    uint32_t start = 0;        // the SYN's sequence number, or one before the first byte seen
    uint64_t top = 0;          // offset from start reached by what was sent or acknowledged
    uint64_t unsequenced = 0;  // bytes of later IP fragments, which carry no TCP header
    bool fin = false;
    bool spoke = false;        // sent something other than a RST

    void advance(uint32_t sequence);
    uint64_t payload_bytes() const;
};

struct TcpEvidence {
    std::array<TcpSide, 2> side{};
    int opener = -1;           // the side whose SYN (without ACK) was seen first
    uint32_t opener_isn = 0;
    int syn_acker = -1;        // the side whose SYN+ACK was seen first
    bool syn_ack_acked = false;  // the other side then sent an ACK or data (not a RST)

    void add(int sender, const DecodedPacket& p);
    // SYN, SYN+ACK back, then an ACK or data from the opener.
    bool handshake_complete() const { return opener >= 0 && syn_acker == 1 - opener && syn_ack_acked; }
    // A SYN the opener sends again (same initial sequence number, not yet answered).
    bool is_retransmitted_syn(int sender, const DecodedPacket& p) const {
        return sender == opener && p.tcp_seq == opener_isn && syn_acker < 0;
    }
    uint64_t bytes() const { return side[0].payload_bytes() + side[1].payload_bytes(); }
};

// ICMP requests (echo, timestamp, information, address mask) and their replies.
struct IcmpEvidence {
    int requester = -1;               // the side that sent the first request
    std::array<uint8_t, 2> asked{};   // request kinds sent, as bits
    std::array<bool, 2> answered{};   // a side's request got the matching reply
    std::array<int32_t, 2> first{-1, -1};  // each side's first message: type << 8 | code

    void add(int sender, uint8_t ip_protocol, uint8_t type, uint8_t code);
};

// ICMPv6 neighbour discovery and multicast listener messages: link housekeeping between
// a host and a group or its neighbours, never a conversation to allow.
bool is_icmpv6_housekeeping(uint8_t ip_protocol, uint8_t type);

}  // namespace wardgate::flows_internal
