#pragma once
#include <string>

namespace wardgate::service::detail {

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET ("READY=1",
// "STATUS=...", "STOPPING=1"). Does nothing when the variable is unset.
void notify_systemd(const std::string& state);

}  // namespace wardgate::service::detail
