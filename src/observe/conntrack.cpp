#include "wardgate/observe/conntrack.hpp"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "netlink_support.hpp"

namespace wardgate::observe {

namespace {

std::optional<IpAddress> to_address(nl_addr* a) {
    if (!a) return std::nullopt;
    IpAddress out;
    const unsigned len = nl_addr_get_len(a);
    if (nl_addr_get_family(a) == AF_INET && len == 4) out.family = Family::v4;
    else if (nl_addr_get_family(a) == AF_INET6 && len == 16) out.family = Family::v6;
    else return std::nullopt;
    std::memcpy(out.bytes.data(), nl_addr_get_binary_addr(a), len);
    return out;
}

std::optional<ConntrackEvent> decode(nlmsghdr* nlh, double now) {
    const uint8_t subtype = nfnlmsg_subtype(nlh);
    ConntrackEvent e;
    if (subtype == IPCTNL_MSG_CT_DELETE) e.type = ConntrackEvent::Type::destroyed;
    else if (subtype == IPCTNL_MSG_CT_NEW) e.type = ConntrackEvent::Type::created;
    else return std::nullopt;
    nfnl_ct* ct = nullptr;
    if (nfnlmsg_ct_parse(nlh, &ct) < 0 || !ct) return std::nullopt;
    auto source = to_address(nfnl_ct_get_src(ct, 0));
    auto destination = to_address(nfnl_ct_get_dst(ct, 0));
    if (!source || !destination) {
        nfnl_ct_put(ct);
        return std::nullopt;
    }
    e.source = *source;
    e.destination = *destination;
    e.id = nfnl_ct_test_id(ct) ? nfnl_ct_get_id(ct) : 0;
    e.l4proto = nfnl_ct_get_proto(ct);
    if (nfnl_ct_test_src_port(ct, 0)) e.source_port = nfnl_ct_get_src_port(ct, 0);
    if (nfnl_ct_test_dst_port(ct, 0)) e.destination_port = nfnl_ct_get_dst_port(ct, 0);
    if (nfnl_ct_test_packets(ct, 0) || nfnl_ct_test_bytes(ct, 0)) {
        e.counters = true;
        e.original_packets = nfnl_ct_get_packets(ct, 0);
        e.original_bytes = nfnl_ct_get_bytes(ct, 0);
        e.reply_packets = nfnl_ct_get_packets(ct, 1);
        e.reply_bytes = nfnl_ct_get_bytes(ct, 1);
    }
    const uint32_t status = nfnl_ct_get_status(ct);
    e.seen_reply = status & IPS_SEEN_REPLY;
    e.assured = status & IPS_ASSURED;
    if (nfnl_ct_test_timestamp(ct)) {
        const auto* ts = nfnl_ct_get_timestamp(ct);
        e.start = static_cast<double>(ts->start) / 1e9;
        e.stop = static_cast<double>(ts->stop) / 1e9;
    }
    e.received = now;
    nfnl_ct_put(ct);
    return e;
}

}  // namespace

ConntrackListener::ConntrackListener(const ConntrackListenerOptions& options) {
    sock_ = nl_socket_alloc();
    if (!sock_) throw ObserveError("conntrack events: cannot allocate a netlink socket");
    try {
        nl_socket_disable_seq_check(sock_);
        if (int err = nfnl_connect(sock_); err < 0)
            throw ObserveError(std::string("conntrack events: cannot open a netfilter netlink socket: ") + nl_geterror(err));
        int groups[2], n = 0;
        if (options.created) groups[n++] = NFNLGRP_CONNTRACK_NEW;
        if (options.destroyed) groups[n++] = NFNLGRP_CONNTRACK_DESTROY;
        for (int i = 0; i < n; ++i)
            if (int err = nl_socket_add_membership(sock_, groups[i]); err < 0)
                throw ObserveError(std::string("conntrack events: cannot subscribe (CAP_NET_ADMIN and nf_conntrack_netlink needed): ") +
                                   nl_geterror(err));
        nl_socket_set_nonblocking(sock_);
        netlink_support::set_receive_buffer(nl_socket_get_fd(sock_), options.receive_buffer);
    } catch (...) {
        nl_socket_free(sock_);
        throw;
    }
}

ConntrackListener::~ConntrackListener() { nl_socket_free(sock_); }

int ConntrackListener::fd() const { return nl_socket_get_fd(sock_); }

int ConntrackListener::receive_buffer() const { return netlink_support::receive_buffer(fd()); }

size_t ConntrackListener::read(const std::function<void(const ConntrackEvent&)>& on_event) {
    size_t count = 0;
    netlink_support::drain(fd(), [&](nlmsghdr* nlh) {
        if (nfnlmsg_subsys(nlh) != NFNL_SUBSYS_CTNETLINK) return;
        auto e = decode(nlh, netlink_support::now_seconds());
        if (!e) {
            ++undecodable_;
            return;
        }
        ++events_;
        ++count;
        on_event(*e);
    }, [&] {
        ++lost_;
        spdlog::warn("conntrack events: receive buffer overrun, events lost ({} overruns so far); "
                     "raise the receive buffer or net.core.rmem_max", lost_);
    });
    return count;
}

std::optional<FlowRecord> ConntrackFlows::on_event(const ConntrackEvent& e) {
    FlowRecord r;
    switch (e.l4proto) {
        case IPPROTO_TCP: r.protocol = Protocol::tcp; break;
        case IPPROTO_UDP: r.protocol = Protocol::udp; break;
        case IPPROTO_ICMP:
        case IPPROTO_ICMPV6: r.protocol = Protocol::icmp; break;
        default: return std::nullopt;
    }
    r.initiator = e.source;
    r.responder = e.destination;
    r.responder_port = r.protocol == Protocol::icmp ? 0 : e.destination_port;
    if (e.type == ConntrackEvent::Type::created) {
        r.start = e.start > 0 ? e.start : e.received;
        r.connections = 1;
        if (open_.size() < max_open_) open_.emplace(e.id, r.start);
        r.established = e.seen_reply;
        return r;
    }
    // Destroyed: counted already when its NEW event was seen here.
    auto it = open_.find(e.id);
    double start = e.start;
    if (it != open_.end()) {
        if (start <= 0) start = it->second;
        r.connections = 0;
        open_.erase(it);
    }
    const double end = e.stop > 0 ? e.stop : e.received;
    r.start = start > 0 ? start : end;
    r.duration = std::max(0.0, end - r.start);
    r.bytes = e.original_bytes + e.reply_bytes;
    r.established = e.seen_reply || e.assured || e.reply_packets > 0;
    return r;
}

}  // namespace wardgate::observe
