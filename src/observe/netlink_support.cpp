#include "netlink_support.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace wardgate::observe::netlink_support {

void set_receive_buffer(int fd, int bytes) {
    if (bytes <= 0) return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

int receive_buffer(int fd) {
    int value = 0;
    socklen_t len = sizeof value;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &len);
    return value;
}

void drain(int fd, const std::function<void(nlmsghdr*)>& on_message, const std::function<void()>& on_overrun) {
    // Large enough for a batch of messages; NFLOG copies packet bytes into each.
    thread_local std::vector<char> buffer(256 * 1024);
    // Bounded, so that a flood does not keep the caller from its other duties.
    for (int round = 0; round < 512; ++round) {
        ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == ENOBUFS) {
                on_overrun();
                continue;
            }
            throw std::runtime_error(std::string("netlink receive: ") + std::strerror(errno));
        }
        if (n == 0) return;
        int left = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
            if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_NOOP) continue;
            on_message(nlh);
        }
    }
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace wardgate::observe::netlink_support
