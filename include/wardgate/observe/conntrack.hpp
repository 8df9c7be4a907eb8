#pragma once
// Connection tracking events (ctnetlink NEW, UPDATE and DESTROY) and dumps of the network
// namespace the process runs in, and the flow records they stand for.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "wardgate/flows/flow_record.hpp"

struct nl_sock;

namespace wardgate::observe {

// A netlink socket could not be set up (no CAP_NET_ADMIN, module missing...).
class ObserveError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ConntrackEvent {
    // updated: an UPDATE event (a status change: reply seen, assured, TCP state) or an
    // entry of a dump of the table.
    enum class Type { created, updated, destroyed };
    Type type = Type::created;
    uint32_t id = 0;             // the kernel's conntrack id: the same in NEW, UPDATE and DESTROY
    uint8_t l4proto = 0;         // IPPROTO_*
    IpAddress source, destination;  // original direction: initiator -> responder
    uint16_t source_port = 0, destination_port = 0;
    // ICMP and ICMPv6: the message of the original direction (the request), when the event has it.
    bool has_icmp = false;
    uint8_t icmp_type = 0, icmp_code = 0;
    // Packet/byte counters (net.netfilter.nf_conntrack_acct=1): the kernel puts them in
    // DESTROY events and dumps, not in NEW or UPDATE events.
    bool counters = false;
    uint64_t original_packets = 0, original_bytes = 0;  // initiator -> responder, IP bytes
    uint64_t reply_packets = 0, reply_bytes = 0;
    bool seen_reply = false;     // IPS_SEEN_REPLY
    bool assured = false;        // IPS_ASSURED
    double start = 0, stop = 0;  // conntrack timestamps (nf_conntrack_timestamp=1), epoch seconds; 0: absent
    double received = 0;         // when the event was read, epoch seconds
};

struct ConntrackListenerOptions {
    // SO_RCVBUFFORCE (SO_RCVBUF without CAP_NET_ADMIN): bursts of short connections
    // arrive faster than they are read.
    int receive_buffer = 16 << 20;
    bool created = true;
    bool updated = true;
    bool destroyed = true;
};

// Subscribes to NFNLGRP_CONNTRACK_NEW / _UPDATE / _DESTROY. Non-blocking: poll fd(), then read().
// An overrun of the receive buffer (ENOBUFS) drops events: it is counted, logged and
// the listener carries on.
class ConntrackListener {
public:
    explicit ConntrackListener(const ConntrackListenerOptions& options = {});  // throws ObserveError
    ~ConntrackListener();
    ConntrackListener(const ConntrackListener&) = delete;
    ConntrackListener& operator=(const ConntrackListener&) = delete;

    int fd() const;
    // Reads the events queued now and passes each to on_event; returns how many.
    size_t read(const std::function<void(const ConntrackEvent&)>& on_event);
    // Dumps the table as it is now (in the listener's namespace, with counters), each entry
    // as an `updated` event; returns how many. Blocks until the dump is complete.
    size_t dump(const std::function<void(const ConntrackEvent&)>& on_event);

    uint64_t events() const { return events_; }
    // Receive buffer overruns: each lost at least one event.
    uint64_t lost_events() const { return lost_; }
    uint64_t undecodable() const { return undecodable_; }
    int receive_buffer() const;  // what the kernel granted

private:
    nl_sock* sock_ = nullptr;
    nl_sock* dump_sock_ = nullptr;  // opened with the listener, so it dumps the same namespace
    uint64_t events_ = 0, lost_ = 0, undecodable_ = 0;
};

// Turns events into flow records: one connection per conntrack entry, counted when it is
// first seen (NEW, or an update or dump of an entry older than the listener), so a
// long-lived connection shows up at once. Later events add what is new: that it was
// answered, and bytes beyond those already reported (dumps and DESTROY carry counters).
//
// Answered: for TCP the kernel's ASSURED, set when the handshake completed (SEEN_REPLY is
// set by a RST refusing the connection as well); for UDP and ICMP SEEN_REPLY, a packet
// back from the responder (UDP is ASSURED only once it looks like a stream).
class ConntrackFlows {
public:
    explicit ConntrackFlows(size_t max_open = 1 << 20) : max_open_(max_open) {}
    // Nothing for protocols other than TCP, UDP, ICMP and ICMPv6, and nothing for an update
    // that adds nothing.
    std::optional<FlowRecord> on_event(const ConntrackEvent& e);
    size_t open() const { return open_.size(); }

private:
    struct Open {
        double start = 0;
        uint64_t bytes = 0;      // reported so far
        bool answered = false;   // reported so far
    };
    size_t max_open_;
    std::unordered_map<uint32_t, Open> open_;  // by conntrack id
};

}  // namespace wardgate::observe
