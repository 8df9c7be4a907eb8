#include "pcap_flow_table.hpp"

#include <algorithm>

namespace wardgate::flows_internal {

namespace {

constexpr size_t kMaxFragments = 4096;      // first fragments remembered for their followers
constexpr double kFragmentTimeout = 30;     // seconds a first fragment waits for the rest
// Payload packets per side handed to the dissectors: the first says what nearly every
// protocol is; a second catches a client that opens with a short preamble.
constexpr uint8_t kInspectedPackets = 2;

constexpr std::string_view kOrphanFragment = "IP fragment whose first fragment was not captured";
constexpr std::string_view kGroupSource = "source address is multicast or broadcast";
constexpr std::string_view kHousekeeping = "ICMPv6 neighbour discovery or multicast listener message";

// Multicast and limited broadcast addresses only ever receive: they cannot have initiated.
bool is_group_address(const IpAddress& a) {
    if (a.family == Family::v4) return (a.bytes[0] & 0xF0) == 0xE0 || a.v4_value() == 0xFFFFFFFFu;
    return a.bytes[0] == 0xFF;
}

}  // namespace

double FlowTable::timeout(Lane lane) const {
    switch (lane) {
        case tcp_open: return options_.tcp_idle_timeout;
        case udp: return options_.udp_idle_timeout;
        case icmp: return options_.icmp_idle_timeout;
        default: return options_.close_linger;
    }
}

void FlowTable::expire(double now) {
    for (int lane = 0; lane < lane_count; ++lane) {
        auto& list = lanes_[lane];
        const double limit = timeout(static_cast<Lane>(lane));
        while (!list.empty() && list.front().last + limit < now) end(list.begin());
    }
    while (!fragment_order_.empty() && fragment_order_.front().second + kFragmentTimeout < now) {
        auto it = fragments_.find(fragment_order_.front().first);
        if (it != fragments_.end() && it->second.time == fragment_order_.front().second) fragments_.erase(it);
        fragment_order_.pop_front();
    }
}

PcapFlow FlowTable::describe(const Flow& f) {
    PcapFlow out;
    int initiator = f.first_sender;
    bool established = false;
    DirectionSource direction = DirectionSource::first_packet;
    const bool both_spoke = f.sent[0] && f.sent[1];
    uint64_t bytes = f.bytes;
    if (f.key.protocol == 6) {
        const TcpEvidence& t = f.tcp;
        bytes = t.bytes();
        if (t.opener >= 0) {
            initiator = t.opener;
            direction = DirectionSource::handshake;
            established = t.handshake_complete();
        } else {
            out.handshake_missing = true;
            ++summary_.tcp_without_handshake;
            if (t.syn_acker >= 0 && t.syn_ack_acked) {
                // The SYN was not captured, but its receiver acknowledged the SYN+ACK.
                initiator = 1 - t.syn_acker;
                direction = DirectionSource::handshake;
            } else if (t.side[0].spoke && t.side[1].spoke) {
                // Midstream, both sides talking (a RST does not count: any host sends one to a
                // forged packet): the ports are the best guess. Never established, as Zeek's OTH.
                int responder = responder_by_ports(f.key.low_port, f.key.high_port);
                if (responder >= 0) {
                    initiator = 1 - responder;
                    direction = DirectionSource::ports;
                }
            }
        }
    } else if (f.key.protocol == 17) {
        established = both_spoke;
        if (both_spoke && f.first_is_reply) {  // the request came before the capture did
            initiator = 1 - f.first_sender;
            direction = DirectionSource::ports;
            ++summary_.udp_flipped;
        }
    } else if (f.key.protocol == 1) {
        if (f.icmp.requester >= 0) initiator = f.icmp.requester;
        established = f.icmp.answered[initiator];
    } else {
        established = both_spoke;
    }
    const bool low_initiated = initiator == 0;
    out.record.initiator = low_initiated ? f.key.low : f.key.high;
    out.record.responder = low_initiated ? f.key.high : f.key.low;
    out.record.protocol = static_cast<Protocol>(f.key.protocol);
    out.record.responder_port = low_initiated ? f.key.high_port : f.key.low_port;
    if (f.key.protocol == 1 && f.icmp.first[initiator] >= 0)
        out.record.responder_port = icmp_port(static_cast<uint8_t>(f.icmp.first[initiator] >> 8),
                                              static_cast<uint8_t>(f.icmp.first[initiator] & 0xff));
    out.record.start = f.first;
    out.record.duration = f.last - f.first;
    out.record.bytes = bytes;
    out.record.established = established;
    out.direction = direction;
    out.packets = f.packets;
    if (auto app = recognise(f.clues[initiator], f.clues[1 - initiator])) {
        out.application = app->application;
        out.application_detail = std::move(app->detail);
        // An insecure label keeps an edge out of the observed baseline: packets one side forged
        // alone (never answered) must not take a clinical flow out of the policy that way.
        if (established || !insecure_name(app->application)) out.record.applications = application_bit(app->application);
    }
    out.dhcp_messages = f.dhcp;
    out.initiator_mac = f.mac[initiator];
    out.responder_mac = f.mac[1 - initiator];
    return out;
}

void FlowTable::end(FlowList::iterator it) {
    PcapFlow out = describe(*it);
    ++summary_.read.accepted;
    if (sink_) sink_(out);
    index_.erase(it->key);
    lanes_[it->lane].erase(it);
}

// The table is full: the least recently active flow ends early.
void FlowTable::make_room() {
    while (index_.size() >= std::max<size_t>(options_.max_flows, 1)) {
        FlowList* oldest = nullptr;
        for (auto& list : lanes_)
            if (!list.empty() && (!oldest || list.front().last < oldest->front().last)) oldest = &list;
        if (!oldest) return;
        end(oldest->begin());
        ++summary_.ended_early;
    }
}

FlowTable::FlowList::iterator FlowTable::start(const FlowKey& key, int sender, const DecodedPacket& p, double time) {
    make_room();
    Flow f;
    f.key = key;
    f.first = f.last = time;
    f.first_sender = sender;
    if (key.protocol == 6) {
        f.lane = tcp_open;
    } else if (key.protocol == 17) {
        f.lane = udp;
        f.first_is_reply = is_service_port(p.src_port) && !is_service_port(p.dst_port) && !is_group_address(p.dst);
    } else if (key.protocol == 1) {
        f.lane = icmp;
    } else {
        f.lane = udp;  // other protocols: idle like UDP
    }
    auto& list = lanes_[f.lane];
    list.push_back(f);
    auto it = std::prev(list.end());
    index_.emplace(key, it);
    summary_.peak_flows = std::max<uint64_t>(summary_.peak_flows, index_.size());
    return it;
}

void FlowTable::update(FlowList::iterator it, int sender, const DecodedPacket& p, double time) {
    Flow& f = *it;
    f.last = std::max(f.last, time);
    f.bytes += p.payload;
    ++f.packets;
    f.sent[sender] = true;
    if (p.src_mac && !f.mac[sender])
        for (int i = 0; i < 6; ++i) f.mac[sender] = f.mac[sender] << 8 | p.src_mac[i];
    if (p.payload_captured > 0 && f.inspected[sender] < kInspectedPackets && (f.key.protocol == 6 || f.key.protocol == 17)) {
        ++f.inspected[sender];
        inspect_payload(p.ip_protocol, p.src_port, p.dst_port, std::span(p.payload_data, p.payload_captured), f.clues[sender]);
    }
    if (p.payload_captured > 0 && f.key.protocol == 17 && f.dhcp.size() < kDhcpClientsPerFlow &&
        dhcp_ports(p.src_port, p.dst_port)) {
        auto a = dhcp_announcement(p.src_port, p.dst_port, std::span(p.payload_data, p.payload_captured));
        if (a && std::none_of(f.dhcp.begin(), f.dhcp.end(), [&](const auto& m) { return m.announcement.subject == a->subject; }))
            f.dhcp.push_back({time, std::move(*a)});
    }
    Lane lane = f.lane;
    if (f.key.protocol == 6) {
        f.tcp.add(sender, p);
        if (p.tcp_flags & kTcpFin) f.fin[sender] = true;
        if ((p.tcp_flags & kTcpRst) || (f.fin[0] && f.fin[1])) lane = closing;
    } else if (f.key.protocol == 1) {
        if (p.has_ports) f.icmp.add(sender, p.ip_protocol, p.icmp_type, p.icmp_code);
    }
    auto& to = lanes_[lane];
    to.splice(to.end(), lanes_[f.lane], it);
    f.lane = lane;
}

void FlowTable::remember_fragment(const DecodedPacket& p, const FlowKey& key, int sender, double time) {
    FragmentKey fk{p.src, p.dst, p.fragment_id, p.ip_protocol};
    fragments_[fk] = FragmentEntry{key, sender, time};
    fragment_order_.emplace_back(fk, time);
    if (fragment_order_.size() > kMaxFragments) {
        auto it = fragments_.find(fragment_order_.front().first);
        if (it != fragments_.end() && it->second.time == fragment_order_.front().second) fragments_.erase(it);
        fragment_order_.pop_front();
    }
}

std::string_view FlowTable::add(const DecodedPacket& p, double time) {
    now_ = std::max(now_, time);
    expire(now_);

    if (!p.has_ports) {  // a later fragment: find its flow through the first fragment
        auto fragment = fragments_.find(FragmentKey{p.src, p.dst, p.fragment_id, p.ip_protocol});
        if (fragment == fragments_.end()) return kOrphanFragment;
        auto flow = index_.find(fragment->second.flow);
        if (flow == index_.end()) return kOrphanFragment;
        update(flow->second, fragment->second.sender, p, time);
        return {};
    }

    // A group address never sends; such a source is forged or broken.
    if (is_group_address(p.src)) return kGroupSource;
    if (is_icmpv6_housekeeping(p.ip_protocol, p.icmp_type)) return kHousekeeping;
    const bool icmp_packet = p.ip_protocol == 1 || p.ip_protocol == 58;
    const uint16_t src_port = icmp_packet ? 0 : p.src_port;
    const uint16_t dst_port = icmp_packet ? 0 : p.dst_port;
    auto order = p.src <=> p.dst;
    const bool src_low = order < 0 || (order == 0 && src_port <= dst_port);
    FlowKey key;
    key.protocol = icmp_packet ? 1 : p.ip_protocol;
    key.low = src_low ? p.src : p.dst;
    key.high = src_low ? p.dst : p.src;
    key.low_port = src_low ? src_port : dst_port;
    key.high_port = src_low ? dst_port : src_port;
    const int sender = src_low ? 0 : 1;

    auto found = index_.find(key);
    FlowList::iterator it;
    if (found == index_.end()) {
        it = start(key, sender, p, time);
    } else {
        it = found->second;
        const bool new_syn = key.protocol == 6 && (p.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn &&
                             !it->tcp.is_retransmitted_syn(sender, p);
        if (it->lane == closing && new_syn) {  // the port pair is reused for a new connection
            end(it);
            it = start(key, sender, p, time);
        }
    }
    update(it, sender, p, time);
    if (p.fragmented) remember_fragment(p, key, sender, time);
    return {};
}

void FlowTable::finish() {
    for (auto& list : lanes_)
        while (!list.empty()) end(list.begin());
    fragments_.clear();
    fragment_order_.clear();
}

}  // namespace wardgate::flows_internal
