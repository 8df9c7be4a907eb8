// The UDP socket a collector listens on: batched reads, a large buffer, kernel drop counts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "wardgate/flows/netflow_collector.hpp"

namespace wardgate::netflow {

namespace {

constexpr size_t kDatagram = 65536;

std::runtime_error socket_error(const std::string& what, const std::string& listen) {
    return std::runtime_error(what + " " + listen + ": " + std::strerror(errno));
}

// "host:port" or "[v6]:port" into a socket address.
sockaddr_storage parse_listen(const std::string& listen, socklen_t& length) {
    sockaddr_storage ss{};
    std::string host, port;
    if (!listen.empty() && listen.front() == '[') {
        auto close = listen.find(']');
        if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
            throw std::runtime_error("listen address " + listen + ": expected [v6-address]:port");
        host = listen.substr(1, close - 1);
        port = listen.substr(close + 2);
    } else {
        auto colon = listen.rfind(':');
        if (colon == std::string::npos) throw std::runtime_error("listen address " + listen + ": expected host:port");
        host = listen.substr(0, colon);
        port = listen.substr(colon + 1);
    }
    char* end = nullptr;
    unsigned long number = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end || number > 65535) throw std::runtime_error("listen address " + listen + ": bad port");
    if (host.empty()) host = "0.0.0.0";
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(number));
        length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(number));
        length = sizeof(sockaddr_in6);
    } else {
        throw std::runtime_error("listen address " + listen + ": not an IPv4 or IPv6 address");
    }
    return ss;
}

Exporter exporter_of(const sockaddr_storage& ss) {
    Exporter e;
    if (ss.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
        e.address = IpAddress::v4(ntohl(v4->sin_addr.s_addr));
        e.port = ntohs(v4->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        const uint8_t* b = v6->sin6_addr.s6_addr;
        static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        if (std::memcmp(b, kMapped, 12) == 0) {
            e.address = IpAddress::v4(uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 | uint32_t{b[14]} << 8 | b[15]);
        } else {
            e.address.family = Family::v6;
            std::memcpy(e.address.bytes.data(), b, 16);
        }
        e.port = ntohs(v6->sin6_port);
    }
    return e;
}

}  // namespace

struct UdpReceiver::Impl {
    int fd = -1;
    uint16_t port = 0;
    ReceiverStats stats;
    std::vector<uint8_t> buffers;
    std::vector<mmsghdr> messages;
    std::vector<iovec> iovecs;
    std::vector<sockaddr_storage> addresses;
    struct alignas(cmsghdr) Control {
        char bytes[CMSG_SPACE(sizeof(uint32_t))];
    };
    std::vector<Control> controls;
};

UdpReceiver::UdpReceiver(const std::string& listen, int receive_buffer, unsigned batch) : impl_(std::make_unique<Impl>()) {
    socklen_t length = 0;
    sockaddr_storage address = parse_listen(listen, length);
    int fd = ::socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw socket_error("cannot open a UDP socket for", listen);
    impl_->fd = fd;
    int on = 1, off = 0;
    if (address.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    ::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    // SO_RCVBUFFORCE passes net.core.rmem_max when privileged; otherwise the capped request stands.
    if (receive_buffer > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    socklen_t size = sizeof impl_->stats.receive_buffer;
    ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &impl_->stats.receive_buffer, &size);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        auto error = socket_error("cannot bind", listen);
        ::close(fd);
        impl_->fd = -1;
        throw error;
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
    impl_->port = exporter_of(bound).port;

    if (batch == 0) batch = 1;
    impl_->buffers.resize(size_t{batch} * kDatagram);
    impl_->messages.resize(batch);
    impl_->iovecs.resize(batch);
    impl_->addresses.resize(batch);
    impl_->controls.resize(batch);
}

UdpReceiver::~UdpReceiver() {
    if (impl_ && impl_->fd >= 0) ::close(impl_->fd);
}

uint16_t UdpReceiver::port() const { return impl_->port; }
const ReceiverStats& UdpReceiver::stats() const { return impl_->stats; }

size_t UdpReceiver::receive(int timeout_ms, const DatagramHandler& handler) {
    Impl& s = *impl_;
    pollfd p{s.fd, POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready <= 0) return 0;
    const size_t batch = s.messages.size();
    for (size_t i = 0; i < batch; ++i) {
        s.iovecs[i] = {s.buffers.data() + i * kDatagram, kDatagram};
        msghdr& h = s.messages[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &s.addresses[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &s.iovecs[i];
        h.msg_iovlen = 1;
        h.msg_control = s.controls[i].bytes;
        h.msg_controllen = sizeof s.controls[i].bytes;
        s.messages[i].msg_len = 0;
    }
    int n = ::recvmmsg(s.fd, s.messages.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    for (int i = 0; i < n; ++i) {
        msghdr& h = s.messages[i].msg_hdr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                uint32_t dropped;
                std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
                s.stats.kernel_drops = dropped;  // the kernel's running count for this socket
            }
        }
        if (h.msg_flags & MSG_TRUNC) ++s.stats.truncated;
        ++s.stats.datagrams;
        s.stats.bytes += s.messages[i].msg_len;
        handler(exporter_of(s.addresses[i]), s.buffers.data() + size_t(i) * kDatagram, s.messages[i].msg_len);
    }
    return static_cast<size_t>(n);
}

Collector::Collector(const std::string& listen, int receive_buffer, const DecoderOptions& options)
    : receiver_(listen, receive_buffer), decoder_(options) {}

size_t Collector::poll(int timeout_ms) {
    return receiver_.receive(timeout_ms, [this](const Exporter& from, const uint8_t* bytes, size_t size) {
        auto records = decoder_.decode(from, bytes, size);
        flows_.clear();
        for (const auto& r : records) flows_.push_back(r.flow);
        pending_.add(std::span<const FlowRecord>(flows_));
        if (on_records && !records.empty()) on_records(records);
    });
}

Aggregator Collector::take_edges() {
    Aggregator taken = std::move(pending_);
    pending_ = Aggregator{};
    return taken;
}

}  // namespace wardgate::netflow
