#pragma once
// What both netlink listeners share: buffer sizing and the non-blocking receive loop.
#include <linux/netlink.h>

#include <functional>

namespace wardgate::observe::netlink_support {

// SO_RCVBUFFORCE when permitted (it may exceed net.core.rmem_max), else SO_RCVBUF.
void set_receive_buffer(int fd, int bytes);
int receive_buffer(int fd);

// Receives until the socket has nothing queued (or a few hundred reads); every complete message goes to on_message.
// ENOBUFS (the kernel dropped messages for want of buffer space) calls on_overrun and the
// loop goes on. Throws std::runtime_error for other receive errors.
void drain(int fd, const std::function<void(nlmsghdr*)>& on_message, const std::function<void()>& on_overrun);

double now_seconds();

}  // namespace wardgate::observe::netlink_support
