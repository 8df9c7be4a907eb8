#pragma once
// A connected UDP socket to HOST:PORT, for the datagrams wardgate sends (syslog alerts, RADIUS
// change-of-authorisation requests).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wardgate {

class UdpConnection {
public:
    // "host:port", "192.0.2.1:3799" or "[2001:db8::1]:3799"; the first address that takes a
    // connected socket. Throws std::runtime_error naming `what` and the peer.
    UdpConnection(std::string_view host_port, std::string_view what);
    ~UdpConnection();
    UdpConnection(const UdpConnection&) = delete;
    UdpConnection& operator=(const UdpConnection&) = delete;
    UdpConnection(UdpConnection&& other) noexcept;
    UdpConnection& operator=(UdpConnection&&) = delete;

    // False when the kernel refused the datagram (errno tells why).
    bool send(std::string_view datagram) const;
    // The next datagram from the peer, or nothing when none came within `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) const;
    const std::string& peer() const { return peer_; }

private:
    int fd_ = -1;
    std::string peer_;
};

// HOST and PORT of "host:port" or "[v6]:port"; nothing when either part is missing.
std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view text);

}  // namespace wardgate
