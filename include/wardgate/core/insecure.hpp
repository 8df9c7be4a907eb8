#pragma once
// Protocols known to be insecure around medical devices (cleartext logins, unauthenticated
// file transfer and remote control). One list: alerts flag them, and the observed baseline
// never keeps them; only a declaration or an approval opens them.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wardgate/core/application.hpp"
#include "wardgate/core/net.hpp"

namespace wardgate {

struct InsecureService {
    Protocol protocol;
    uint16_t first, last;
    std::string_view name;
};

std::span<const InsecureService> insecure_services();
// The name of the insecure protocol usually served on this port, if any.
std::optional<std::string_view> insecure_protocol(Protocol p, uint16_t port);
// What the traffic carried first (telnet on tcp/2323 is telnet: "telnet, recognised in the
// traffic"), then the port.
std::optional<std::string> insecure_protocol(Protocol p, uint16_t port, ApplicationSet seen);

}  // namespace wardgate
