#pragma once
// IP protocols and ICMP messages: how policy, flows and every backend name them.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wardgate {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

// An IANA protocol number; any value 1-254 may occur. Protocol::icmp stands for ICMP in IPv4
// and ICMPv6 in IPv6 (58 is never stored), so one policy line covers both families.
enum class Protocol : uint8_t { icmp = 1, tcp = 6, udp = 17, gre = 47, esp = 50, ah = 51, sctp = 132, udplite = 136 };

// "tcp", "esp", "ipv6-icmp", a name from the system's protocol list, or a number 1-254.
// icmp, icmpv6, ipv6-icmp, 1 and 58 all give Protocol::icmp. Not: hop-by-hop and the other
// IPv6 extension headers (the firewall sees the protocol after them), 0, 255.
std::optional<Protocol> parse_protocol(std::string_view text);
// The protocol a packet's or record's number stands for: 58 is Protocol::icmp; nullopt for
// IPv6 extension headers, 0 and 255.
std::optional<Protocol> protocol_from_number(unsigned n);
// The short name for well-known protocols ("tcp", "esp", "gre", "ospf"), else the number.
std::string to_string(Protocol p);
// TCP, UDP, SCTP and UDP-Lite carry ports (at the same place in their headers).
bool has_ports(Protocol p);
// What the protocol names a person reads beside a number: "esp (IPsec ESP)".
std::string describe(Protocol p);

// One ICMP or ICMPv6 message type, optionally one code of it.
struct IcmpType {
    Family family = Family::v4;  // v4: ICMP, v6: ICMPv6
    uint8_t type = 0;
    int16_t code = -1;  // -1: every code

    // "echo-request", "destination-unreachable:port-unreachable", "3:4" in nft's names.
    std::string to_string() const;
    auto operator<=>(const IcmpType&) const = default;
};

// Parses one entry of an icmp_types list: a name ("echo-request"), a number ("8") or either
// with a code ("destination-unreachable:4", "3:frag-needed"). With v6_only false (protocol
// icmp), a name gives the message in every family that has it and a number is an ICMP (IPv4)
// type; with v6_only (protocol icmpv6) names and numbers are ICMPv6. On failure returns
// nullopt and sets *error to what is wrong.
std::optional<std::vector<IcmpType>> parse_icmp_type(std::string_view text, bool v6_only, std::string* error);
// Whether the gateway's connection tracking lets this message open a connection: echo,
// timestamp, information and address mask requests; ICMPv6 echo request and node information
// query. Every other message passes only as the reply to a request or an error of a tracked
// connection, and is dropped as invalid otherwise, whatever the rules say.
bool icmp_starts_connection(Family f, uint8_t type);
// Errors that belong to a connection: destination unreachable, source quench, redirect, time
// exceeded, parameter problem; ICMPv6 1-4.
bool icmp_is_error(Family f, uint8_t type);

// The name nft uses for an ICMP(v6) type, or "" when it has none.
std::string_view icmp_type_name(Family f, uint8_t type);

// Flows, packets and baseline edges carry an ICMP message where TCP and UDP carry the
// responder port: (type + 1) * 256 + code, so 0 keeps meaning "type not known".
constexpr uint16_t icmp_port(uint8_t type, uint8_t code) {
    return type == 255 ? 0 : static_cast<uint16_t>((type + 1) << 8 | code);
}
struct IcmpMessage {
    uint8_t type = 0;
    uint8_t code = 0;
};
constexpr std::optional<IcmpMessage> icmp_message(uint16_t port) {
    if (port < 256) return std::nullopt;
    return IcmpMessage{static_cast<uint8_t>((port >> 8) - 1), static_cast<uint8_t>(port & 0xff)};
}

}  // namespace wardgate
