#include "wardgate/core/udp.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

namespace wardgate {

std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view text) {
    std::string_view host, port;
    if (text.starts_with("[")) {
        auto close = text.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty() || port.empty()) return std::nullopt;
    return std::pair{std::string(host), std::string(port)};
}

UdpConnection::UdpConnection(std::string_view host_port, std::string_view what) : peer_(host_port) {
    auto parts = split_host_port(host_port);
    if (!parts) throw std::runtime_error(std::string(what) + ": expected HOST:PORT or [ADDRESS]:PORT, got " + peer_);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(parts->first.c_str(), parts->second.c_str(), &hints, &found); rc != 0)
        throw std::runtime_error(std::string(what) + " " + peer_ + ": " + ::gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            fd_ = fd;
            break;
        }
        ::close(fd);
    }
    if (fd_ < 0) throw std::runtime_error(std::string(what) + " " + peer_ + ": cannot open a UDP socket to it");
}

UdpConnection::UdpConnection(UdpConnection&& other) noexcept : fd_(other.fd_), peer_(std::move(other.peer_)) {
    other.fd_ = -1;
}

UdpConnection::~UdpConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool UdpConnection::send(std::string_view datagram) const {
    ssize_t n;
    do {
        n = ::send(fd_, datagram.data(), datagram.size(), 0);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(datagram.size());
}

std::optional<std::string> UdpConnection::receive(std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) return std::nullopt;
        std::string buffer(65535, '\0');
        ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
        // ECONNREFUSED: an ICMP port unreachable from the peer; nothing listens there.
        if (n < 0 && (errno == EINTR || errno == ECONNREFUSED)) continue;
        if (n < 0) return std::nullopt;
        buffer.resize(static_cast<size_t>(n));
        return buffer;
    }
}

}  // namespace wardgate
