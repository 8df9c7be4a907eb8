#include "wardgate/observe/conntrack.hpp"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
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
    // NEW events carry NLM_F_CREATE; UPDATE events and dump entries are NEW messages without it.
    if (subtype == IPCTNL_MSG_CT_DELETE) e.type = ConntrackEvent::Type::destroyed;
    else if (subtype == IPCTNL_MSG_CT_NEW)
        e.type = (nlh->nlmsg_flags & NLM_F_CREATE) ? ConntrackEvent::Type::created : ConntrackEvent::Type::updated;
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
    if (nfnl_ct_test_icmp_type(ct, 0)) {
        e.has_icmp = true;
        e.icmp_type = nfnl_ct_get_icmp_type(ct, 0);
        e.icmp_code = nfnl_ct_test_icmp_code(ct, 0) ? nfnl_ct_get_icmp_code(ct, 0) : 0;
    }
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

bool conntrack_answered(const ConntrackEvent& e) {
    return e.l4proto == IPPROTO_TCP ? e.assured : e.seen_reply || e.assured;
}

struct DumpReader {
    const std::function<void(const ConntrackEvent&)>& on_event;
    size_t count = 0;
    uint64_t undecodable = 0;
};

int on_dump_message(nl_msg* msg, void* arg) {
    auto* reader = static_cast<DumpReader*>(arg);
    nlmsghdr* nlh = nlmsg_hdr(msg);
    if (nfnlmsg_subsys(nlh) != NFNL_SUBSYS_CTNETLINK) return NL_OK;
    auto e = decode(nlh, netlink_support::now_seconds());
    if (!e) {
        ++reader->undecodable;
        return NL_OK;
    }
    e->type = ConntrackEvent::Type::updated;
    ++reader->count;
    reader->on_event(*e);
    return NL_OK;
}

}  // namespace

ConntrackListener::ConntrackListener(const ConntrackListenerOptions& options) {
    sock_ = nl_socket_alloc();
    if (!sock_) throw ObserveError("conntrack events: cannot allocate a netlink socket");
    try {
        nl_socket_disable_seq_check(sock_);
        if (int err = nfnl_connect(sock_); err < 0)
            throw ObserveError(std::string("conntrack events: cannot open a netfilter netlink socket: ") + nl_geterror(err));
        int groups[3], n = 0;
        if (options.created) groups[n++] = NFNLGRP_CONNTRACK_NEW;
        if (options.updated) groups[n++] = NFNLGRP_CONNTRACK_UPDATE;
        if (options.destroyed) groups[n++] = NFNLGRP_CONNTRACK_DESTROY;
        for (int i = 0; i < n; ++i)
            if (int err = nl_socket_add_membership(sock_, groups[i]); err < 0)
                throw ObserveError(std::string("conntrack events: cannot subscribe (CAP_NET_ADMIN and nf_conntrack_netlink needed): ") +
                                   nl_geterror(err));
        nl_socket_set_nonblocking(sock_);
        netlink_support::set_receive_buffer(nl_socket_get_fd(sock_), options.receive_buffer);
        dump_sock_ = nl_socket_alloc();
        if (!dump_sock_) throw ObserveError("conntrack dump: cannot allocate a netlink socket");
        if (int err = nfnl_connect(dump_sock_); err < 0)
            throw ObserveError(std::string("conntrack dump: cannot open a netfilter netlink socket: ") + nl_geterror(err));
    } catch (...) {
        nl_socket_free(dump_sock_);
        nl_socket_free(sock_);
        throw;
    }
}

ConntrackListener::~ConntrackListener() {
    nl_socket_free(dump_sock_);
    nl_socket_free(sock_);
}

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

size_t ConntrackListener::dump(const std::function<void(const ConntrackEvent&)>& on_event) {
    DumpReader reader{on_event};
    if (int err = nfnl_ct_dump_request(dump_sock_); err < 0)
        throw ObserveError(std::string("conntrack dump: cannot request it: ") + nl_geterror(err));
    nl_socket_modify_cb(dump_sock_, NL_CB_VALID, NL_CB_CUSTOM, on_dump_message, &reader);
    if (int err = nl_recvmsgs_default(dump_sock_); err < 0)
        throw ObserveError(std::string("conntrack dump: ") + nl_geterror(err));
    undecodable_ += reader.undecodable;
    return reader.count;
}

std::optional<FlowRecord> ConntrackFlows::on_event(const ConntrackEvent& e) {
    FlowRecord r;
    auto proto = protocol_from_number(e.l4proto);
    if (!proto) return std::nullopt;
    r.protocol = *proto;
    r.initiator = e.source;
    r.responder = e.destination;
    r.responder_port = has_ports(r.protocol)                      ? e.destination_port
                       : r.protocol == Protocol::icmp && e.has_icmp ? icmp_port(e.icmp_type, e.icmp_code)
                                                                    : 0;
    const bool is_answered = conntrack_answered(e);
    const uint64_t total_bytes = e.original_bytes + e.reply_bytes;
    auto it = open_.find(e.id);
    if (e.type != ConntrackEvent::Type::destroyed && it == open_.end()) {
        // First seen: NEW, or an update or dump of an entry that began before the listener.
        // With the table of open entries full, an update is dropped and DESTROY counts it.
        if (e.type == ConntrackEvent::Type::updated && open_.size() >= max_open_) return std::nullopt;
        r.start = e.start > 0 ? e.start : e.received;
        r.connections = 1;
        r.established = is_answered;
        r.bytes = e.counters ? total_bytes : 0;
        if (open_.size() < max_open_) open_.emplace(e.id, Open{r.start, r.bytes, is_answered});
        if (e.type == ConntrackEvent::Type::updated) r.duration = std::max(0.0, e.received - r.start);
        return r;
    }
    if (e.type != ConntrackEvent::Type::destroyed) {
        // An update, a dump, or a NEW event read after a dump that listed the entry already.
        Open& o = it->second;
        const uint64_t bytes = e.counters && total_bytes > o.bytes ? total_bytes - o.bytes : 0;
        if (bytes == 0 && (!is_answered || o.answered)) return std::nullopt;
        r.start = o.start;
        r.duration = std::max(0.0, e.received - o.start);
        r.connections = 0;  // counted when first seen
        r.bytes = bytes;
        r.established = is_answered;
        o.bytes += bytes;
        o.answered = o.answered || is_answered;
        return r;
    }
    // Destroyed: counted already when first seen here, with part of its bytes perhaps.
    double start = e.start;
    uint64_t reported = 0;
    if (it != open_.end()) {
        if (start <= 0) start = it->second.start;
        reported = it->second.bytes;
        r.connections = 0;
        open_.erase(it);
    }
    const double end = e.stop > 0 ? e.stop : e.received;
    r.start = start > 0 ? start : end;
    r.duration = std::max(0.0, end - r.start);
    r.bytes = total_bytes > reported ? total_bytes - reported : 0;
    r.established = is_answered || (r.protocol != Protocol::tcp && e.reply_packets > 0);
    return r;
}

}  // namespace wardgate::observe
