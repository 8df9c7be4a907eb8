#include "wardgate/observe/nflog.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "netlink_support.hpp"

namespace wardgate::observe {

namespace {

uint16_t be16_at(std::span<const uint8_t> p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }

bool is_ipv6_extension(uint8_t next) { return next == 0 || next == 43 || next == 44 || next == 60; }

std::string trim_prefix(std::string_view p) {
    while (!p.empty() && (p.back() == ' ' || p.back() == ':' || p.back() == '\0')) p.remove_suffix(1);
    return std::string(p);
}

}  // namespace

LogPrefix parse_log_prefix(std::string_view prefix) {
    LogPrefix out;
    std::string text = trim_prefix(prefix);
    std::string_view p = text;
    constexpr std::string_view kHead = "wardgate ";
    if (p.substr(0, kHead.size()) != kHead) {
        out.rule = text;
        return out;
    }
    out.wardgate = true;
    p.remove_prefix(kHead.size());
    for (auto [word, monitor] : {std::pair<std::string_view, bool>{"drop ", false}, {"monitor ", true}}) {
        if (p.substr(0, word.size()) == word && p.size() > word.size() && p.find(' ', word.size()) == std::string_view::npos) {
            out.segment = std::string(p.substr(word.size()));
            out.monitor = monitor;
            return out;
        }
    }
    constexpr std::string_view kTrialTail = " (trial)";
    if (p.size() > kTrialTail.size() && p.substr(p.size() - kTrialTail.size()) == kTrialTail) {
        out.trial = true;
        out.rule = std::string(p.substr(0, p.size() - kTrialTail.size()));
        return out;
    }
    constexpr std::string_view kMonitorTail = " (monitor)";
    if (p.size() > kMonitorTail.size() && p.substr(p.size() - kMonitorTail.size()) == kMonitorTail) {
        out.monitor = true;
        p.remove_suffix(kMonitorTail.size());
    }
    out.rule = std::string(p);
    return out;
}

std::string LogPrefix::describe() const {
    if (trial) return "rule " + rule + " (on trial: accepted and logged)";
    std::string what = !segment.empty() ? "default deny of segment " + segment : (wardgate ? "rule " : "") + rule;
    return monitor ? what + " (monitor: logged, not dropped)" : what;
}

namespace {

// The application a TCP or UDP payload shows on its own (one side: the other never answered).
void recognise_payload(DeniedPacket& d, uint16_t source_port, uint8_t l4, std::span<const uint8_t> p, size_t l4_at) {
    size_t payload_at = 0;
    if (l4 == IPPROTO_TCP && p.size() >= l4_at + 13) payload_at = l4_at + (p[l4_at + 12] >> 4) * 4u;
    if (l4 == IPPROTO_UDP) payload_at = l4_at + 8;
    if (payload_at == 0 || payload_at >= p.size()) return;
    const auto payload = p.subspan(payload_at);
    PayloadClues clues;
    inspect_payload(l4, source_port, d.destination_port, payload, clues);
    d.application = recognise(clues, PayloadClues{});
    if (l4 == IPPROTO_UDP && dhcp_ports(source_port, d.destination_port))
        d.dhcp = dhcp_announcement(source_port, d.destination_port, payload);
}

}  // namespace

FlowRecord DeniedPacket::record() const {
    FlowRecord r;
    r.initiator = source;
    r.responder = destination;
    r.protocol = protocol;
    r.responder_port = destination_port;
    r.start = time;
    r.bytes = length;
    r.established = false;
    r.connections = 1;
    // Never answered: only what is not insecure labels the edge (see pcap.hpp).
    if (application && !insecure_name(application->application)) r.applications = application_bit(application->application);
    return r;
}

std::optional<DeniedPacket> decode_denied_packet(std::span<const uint8_t> p) {
    if (p.empty()) return std::nullopt;
    DeniedPacket d;
    uint8_t l4 = 0;
    size_t l4_at = 0;
    const int version = p[0] >> 4;
    if (version == 4) {
        if (p.size() < 20) return std::nullopt;
        const size_t ihl = (p[0] & 0x0f) * 4u;
        if (ihl < 20 || p.size() < ihl) return std::nullopt;
        d.length = be16_at(p, 2);
        l4 = p[9];
        d.source.family = d.destination.family = Family::v4;
        std::memcpy(d.source.bytes.data(), &p[12], 4);
        std::memcpy(d.destination.bytes.data(), &p[16], 4);
        // A later fragment carries no ports: the first one was logged too.
        if ((be16_at(p, 6) & 0x1fff) != 0 && l4 != IPPROTO_ICMP) return std::nullopt;
        l4_at = ihl;
    } else if (version == 6) {
        if (p.size() < 40) return std::nullopt;
        d.length = static_cast<uint32_t>(be16_at(p, 4)) + 40;
        d.source.family = d.destination.family = Family::v6;
        std::memcpy(d.source.bytes.data(), &p[8], 16);
        std::memcpy(d.destination.bytes.data(), &p[24], 16);
        l4 = p[6];
        l4_at = 40;
        while (is_ipv6_extension(l4)) {
            if (p.size() < l4_at + 8) return std::nullopt;
            const uint8_t next = p[l4_at];
            if (l4 == 44 && (be16_at(p, l4_at + 2) & 0xfff8) != 0) return std::nullopt;  // not the first fragment
            l4_at += l4 == 44 ? 8 : (p[l4_at + 1] + 1u) * 8u;
            l4 = next;
        }
    } else {
        return std::nullopt;
    }
    auto proto = protocol_from_number(l4);
    if (!proto) return std::nullopt;
    d.protocol = *proto;
    if (has_ports(d.protocol)) {
        if (p.size() < l4_at + 4) return std::nullopt;
        const uint16_t source_port = be16_at(p, l4_at);
        d.destination_port = be16_at(p, l4_at + 2);
        recognise_payload(d, source_port, l4, p, l4_at);
    } else if (d.protocol == Protocol::icmp && p.size() >= l4_at + 2 && p[l4_at] < 255) {
        d.destination_port = icmp_port(p[l4_at], p[l4_at + 1]);
    }
    return d;
}

NflogListener::NflogListener(uint16_t group, const NflogListenerOptions& options) : group_(group) {
    sock_ = nl_socket_alloc();
    if (!sock_) throw ObserveError("NFLOG: cannot allocate a netlink socket");
    nfnl_log* config = nullptr;
    try {
        nl_socket_disable_seq_check(sock_);
        if (int err = nfnl_connect(sock_); err < 0)
            throw ObserveError(std::string("NFLOG: cannot open a netfilter netlink socket: ") + nl_geterror(err));
        netlink_support::set_receive_buffer(nl_socket_get_fd(sock_), options.receive_buffer);
        config = nfnl_log_alloc();
        if (!config) throw ObserveError("NFLOG: out of memory");
        nfnl_log_set_group(config, group);
        nfnl_log_set_copy_mode(config, NFNL_LOG_COPY_PACKET);
        nfnl_log_set_copy_range(config, options.copy_bytes);
        nfnl_log_set_flush_timeout(config, 10);  // hundredths of a second: deliver within 0.1 s
        if (int err = nfnl_log_create(sock_, config); err < 0)
            throw ObserveError("NFLOG: cannot bind group " + std::to_string(group) +
                               " (CAP_NET_ADMIN needed; only one listener per group and namespace): " + nl_geterror(err));
        nfnl_log_put(config);
        config = nullptr;
        nl_socket_set_nonblocking(sock_);
    } catch (...) {
        if (config) nfnl_log_put(config);
        nl_socket_free(sock_);
        throw;
    }
}

// Closing the socket unbinds the group (the kernel drops instances of a released port).
NflogListener::~NflogListener() { nl_socket_free(sock_); }

int NflogListener::fd() const { return nl_socket_get_fd(sock_); }

size_t NflogListener::read(const std::function<void(const DeniedPacket&)>& on_packet) {
    size_t count = 0;
    netlink_support::drain(fd(), [&](nlmsghdr* nlh) {
        if (nfnlmsg_subsys(nlh) != NFNL_SUBSYS_ULOG || nfnlmsg_subtype(nlh) != NFULNL_MSG_PACKET) return;
        nfnl_log_msg* msg = nullptr;
        if (nfnlmsg_log_msg_parse(nlh, &msg) < 0 || !msg) {
            ++undecodable_;
            return;
        }
        std::unique_ptr<nfnl_log_msg, void (*)(nfnl_log_msg*)> owned(msg, nfnl_log_msg_put);
        ++packets_;
        int len = 0;
        const auto* payload = static_cast<const uint8_t*>(nfnl_log_msg_get_payload(msg, &len));
        auto d = payload && len > 0 ? decode_denied_packet({payload, static_cast<size_t>(len)}) : std::nullopt;
        if (!d) {
            ++undecodable_;
            return;
        }
        const char* prefix = nfnl_log_msg_get_prefix(msg);
        d->prefix = prefix ? prefix : "";
        d->parsed = parse_log_prefix(d->prefix);
        const timeval* tv = nfnl_log_msg_get_timestamp(msg);
        d->time = tv && tv->tv_sec ? static_cast<double>(tv->tv_sec) + tv->tv_usec / 1e6 : netlink_support::now_seconds();
        ++count;
        on_packet(*d);
    }, [&] {
        ++lost_;
        spdlog::warn("NFLOG group {}: receive buffer overrun, logged packets lost ({} overruns so far)", group_, lost_);
    });
    return count;
}

}  // namespace wardgate::observe
