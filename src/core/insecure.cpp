#include "wardgate/core/insecure.hpp"

namespace wardgate {

namespace {

// SNMP cannot tell v1/v2c from v3 by port; v3 deployments declare or approve it.
constexpr InsecureService kInsecure[] = {
    {Protocol::tcp, 23, 23, "telnet"},     {Protocol::tcp, 20, 21, "FTP"},       {Protocol::udp, 69, 69, "TFTP"},
    {Protocol::tcp, 445, 445, "SMB"},      {Protocol::tcp, 139, 139, "NetBIOS/SMB"},
    {Protocol::udp, 137, 138, "NetBIOS"},  {Protocol::tcp, 137, 138, "NetBIOS"}, {Protocol::tcp, 80, 80, "HTTP"},
    {Protocol::tcp, 8080, 8080, "HTTP"},   {Protocol::tcp, 5900, 5999, "VNC"},   {Protocol::tcp, 3389, 3389, "RDP"},
    {Protocol::udp, 3389, 3389, "RDP"},    {Protocol::udp, 161, 162, "SNMPv1/v2c"},
};

}  // namespace

std::span<const InsecureService> insecure_services() { return kInsecure; }

std::optional<std::string_view> insecure_protocol(Protocol p, uint16_t port) {
    for (const auto& s : kInsecure)
        if (s.protocol == p && port >= s.first && port <= s.last) return s.name;
    return std::nullopt;
}

std::optional<std::string> insecure_protocol(Protocol p, uint16_t port, ApplicationSet seen) {
    if (auto name = insecure_name(seen)) return std::string(*name) + ", recognised in the traffic";
    if (auto name = insecure_protocol(p, port)) return std::string(*name);
    return std::nullopt;
}

}  // namespace wardgate
