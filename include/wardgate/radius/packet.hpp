#pragma once
// RADIUS packets (RFC 2865) as far as wardgate sends and reads them: dynamic authorisation
// requests to switches (RFC 5176) and their answers.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wardgate::radius {

enum class Code : uint8_t {
    access_request = 1,
    access_accept = 2,
    access_reject = 3,
    disconnect_request = 40,
    disconnect_ack = 41,
    disconnect_nak = 42,
    coa_request = 43,
    coa_ack = 44,
    coa_nak = 45,
};
std::string to_string(Code c);  // "CoA-ACK", or "code 99"

namespace attr {
constexpr uint8_t user_name = 1;
constexpr uint8_t reply_message = 18;
constexpr uint8_t vendor_specific = 26;
constexpr uint8_t calling_station_id = 31;
constexpr uint8_t nas_identifier = 32;
constexpr uint8_t event_timestamp = 55;
constexpr uint8_t message_authenticator = 80;
constexpr uint8_t error_cause = 101;
}  // namespace attr
constexpr uint32_t cisco_vendor_id = 9;
constexpr uint8_t cisco_avpair = 1;

// RFC 5176 Error-Cause values a switch answers with; "Session-Context-Not-Found" for 503.
std::string error_cause_name(uint32_t value);

struct Attribute {
    uint8_t type = 0;
    std::string value;  // raw octets, at most 253

    static Attribute text(uint8_t type, std::string_view value);
    static Attribute integer(uint8_t type, uint32_t value);
    static Attribute vendor(uint32_t vendor_id, uint8_t vendor_type, std::string_view value);
    std::optional<uint32_t> as_integer() const;  // a 4-octet value, big-endian
};

using Authenticator = std::array<uint8_t, 16>;

struct Packet {
    Code code = Code::coa_request;
    uint8_t id = 0;
    Authenticator authenticator{};
    std::vector<Attribute> attributes;

    const Attribute* find(uint8_t type) const;
};

// The request on the wire, signed with `secret`: a Message-Authenticator (HMAC-MD5, computed
// over the packet with a zero Request Authenticator, RFC 5176 section 3.5) and the Request
// Authenticator MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret). `p.authenticator`
// is set to what was sent, which the answer's authenticator is checked against.
std::string encode_request(Packet& p, std::string_view secret);

// Parses one datagram; nothing, with the reason in `error`, when it is no well-formed packet
// (length field, attribute lengths, size limits of RFC 2865 section 3).
std::optional<Packet> decode(std::string_view datagram, std::string* error = nullptr);

// Whether an answer to `request` (already decoded from `datagram`) is signed with `secret`:
// its Response Authenticator and, when present, its Message-Authenticator.
bool verify_response(std::string_view datagram, const Packet& request, std::string_view secret);

}  // namespace wardgate::radius
