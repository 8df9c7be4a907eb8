#pragma once
// Connection tracking for the pcap reader: packets in, finished flows out.
#include <array>
#include <deque>
#include <list>
#include <unordered_map>

#include "pcap_decode.hpp"
#include "pcap_evidence.hpp"
#include "wardgate/flows/dissect.hpp"
#include "wardgate/flows/pcap.hpp"

namespace wardgate::flows_internal {

// Both directions of a connection map to one key: the lower (address, port) comes first.
struct FlowKey {
    IpAddress low, high;
    uint16_t low_port = 0, high_port = 0;
    uint8_t protocol = 0;  // 6, 17, or 1 for ICMP and ICMPv6
    bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
    size_t operator()(const FlowKey& k) const noexcept {
        IpAddressHash h;
        size_t x = h(k.low) * 31 + h(k.high);
        return x ^ ((size_t{k.protocol} << 32 | size_t{k.low_port} << 16 | k.high_port) * 0x9E3779B97F4A7C15ULL);
    }
};

class FlowTable {
public:
    FlowTable(const PcapOptions& options, const PcapFlowSink& sink, PcapSummary& summary)
        : options_(options), sink_(sink), summary_(summary) {}

    // Adds one decoded packet captured at `time`; returns a skip reason or an empty view.
    std::string_view add(const DecodedPacket& packet, double time);
    // Ends every flow still open (end of capture).
    void finish();
    size_t size() const { return index_.size(); }

private:
    // Timeout classes; each list is ordered by last activity, oldest first.
    enum Lane { tcp_open, udp, icmp, closing, lane_count };

    // Who initiated is decided when the flow ends, from all its packets.
    struct Flow {
        FlowKey key;
        int first_sender = 0;    // 0: key.low sent the first packet, 1: key.high
        bool first_is_reply = false;  // UDP: the first packet went from a service port to a client port
        double first = 0, last = 0;
        uint64_t bytes = 0, packets = 0;  // bytes: UDP and ICMP payload (TCP counts in tcp)
        std::array<bool, 2> sent{}, fin{};
        TcpEvidence tcp;
        IcmpEvidence icmp;
        std::array<PayloadClues, 2> clues;
        std::array<uint8_t, 2> inspected{};  // payload packets each side sent that were dissected
        std::array<uint64_t, 2> mac{};  // each side's Ethernet source address, 0 until seen
        std::vector<PcapFlow::DhcpMessage> dhcp;  // DHCP ports only: every client's first message of each type
        Lane lane = tcp_open;
    };
    using FlowList = std::list<Flow>;

    struct FragmentKey {
        IpAddress src, dst;
        uint32_t id = 0;
        uint8_t protocol = 0;
        bool operator==(const FragmentKey&) const = default;
    };
    struct FragmentKeyHash {
        size_t operator()(const FragmentKey& k) const noexcept {
            IpAddressHash h;
            return (h(k.src) * 31 + h(k.dst)) ^ (size_t{k.id} << 8 | k.protocol) * 0x9E3779B97F4A7C15ULL;
        }
    };
    struct FragmentEntry {
        FlowKey flow;
        int sender = 0;
        double time = 0;
    };

    double timeout(Lane lane) const;
    void expire(double now);
    PcapFlow describe(const Flow& f);
    void end(FlowList::iterator it);
    void make_room();
    FlowList::iterator start(const FlowKey& key, int sender, const DecodedPacket& packet, double time);
    void update(FlowList::iterator it, int sender, const DecodedPacket& packet, double time);
    void remember_fragment(const DecodedPacket& packet, const FlowKey& key, int sender, double time);

    const PcapOptions& options_;
    const PcapFlowSink& sink_;
    PcapSummary& summary_;
    std::array<FlowList, lane_count> lanes_;
    std::unordered_map<FlowKey, FlowList::iterator, FlowKeyHash> index_;
    std::unordered_map<FragmentKey, FragmentEntry, FragmentKeyHash> fragments_;
    std::deque<std::pair<FragmentKey, double>> fragment_order_;
    double now_ = 0;
};

}  // namespace wardgate::flows_internal
