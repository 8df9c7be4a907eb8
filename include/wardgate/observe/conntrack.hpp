#pragma once
// Connection tracking events (ctnetlink NEW and DESTROY) of the network namespace the
// process runs in, and the flow records they stand for.
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
    enum class Type { created, destroyed };
    Type type = Type::created;
    uint32_t id = 0;             // the kernel's conntrack id: the same in NEW and DESTROY
    uint8_t l4proto = 0;         // IPPROTO_*
    IpAddress source, destination;  // original direction: initiator -> responder
    uint16_t source_port = 0, destination_port = 0;
    bool counters = false;       // packet/byte counters present (net.netfilter.nf_conntrack_acct=1)
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
    bool destroyed = true;
};

// Subscribes to NFNLGRP_CONNTRACK_NEW / _DESTROY. Non-blocking: poll fd(), then read().
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

    uint64_t events() const { return events_; }
    // Receive buffer overruns: each lost at least one event.
    uint64_t lost_events() const { return lost_; }
    uint64_t undecodable() const { return undecodable_; }
    int receive_buffer() const;  // what the kernel granted

private:
    nl_sock* sock_ = nullptr;
    uint64_t events_ = 0, lost_ = 0, undecodable_ = 0;
};

// Turns events into flow records: one connection per conntrack entry, counted when it is
// created (so a long-lived connection shows up at once), with its bytes and whether it
// was answered added when it is destroyed.
class ConntrackFlows {
public:
    explicit ConntrackFlows(size_t max_open = 1 << 20) : max_open_(max_open) {}
    // Nothing for protocols other than TCP, UDP, ICMP and ICMPv6.
    std::optional<FlowRecord> on_event(const ConntrackEvent& e);
    size_t open() const { return open_.size(); }

private:
    size_t max_open_;
    std::unordered_map<uint32_t, double> open_;  // conntrack id -> when NEW was seen
};

}  // namespace wardgate::observe
