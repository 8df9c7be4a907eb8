#pragma once
// Field parsers shared by the flow readers. The hot ones are inline: the Zeek TSV
// reader calls them several times per row.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "wardgate/core/application.hpp"
#include "wardgate/core/net.hpp"

namespace wardgate::flows_internal {

// Dotted-quad IPv4 without leading zeros (what inet_pton accepts); false for anything else.
inline bool parse_ipv4_fast(std::string_view text, IpAddress& out) {
    const char* p = text.data();
    const char* end = p + text.size();
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (p == end || *p != '.') return false;
            ++p;
        }
        const char* start = p;
        unsigned value = 0;
        while (p != end && static_cast<unsigned>(*p - '0') < 10 && p - start < 3) value = value * 10 + (*p++ - '0');
        size_t digits = static_cast<size_t>(p - start);
        if (digits == 0 || value > 255 || (digits > 1 && *start == '0')) return false;
        out.bytes[octet] = static_cast<uint8_t>(value);
    }
    out.family = Family::v4;
    return p == end;
}

inline std::optional<IpAddress> parse_address(std::string_view text) {
    IpAddress a;
    if (parse_ipv4_fast(text, a)) return a;
    return IpAddress::parse(text);
}

// Whole-field unsigned decimal.
template <typename T>
inline bool parse_unsigned(std::string_view text, T& out) {
    if (text.empty()) return false;
    if (text.size() <= 9) {  // cannot overflow 32 bits; the common case, done without a call
        uint64_t value = 0;
        for (char c : text) {
            unsigned digit = static_cast<unsigned>(c - '0');
            if (digit >= 10) return false;
            value = value * 10 + digit;
        }
        if (value > std::numeric_limits<T>::max()) return false;
        out = static_cast<T>(value);
        return true;
    }
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

inline std::optional<uint16_t> parse_port_number(std::string_view text) {
    uint32_t value = 0;
    if (text.size() > 5 || !parse_unsigned(text, value) || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

// The largest time or duration a flow record may carry: 9999-12-31T23:59:59Z, the last time
// ISO 8601 writes. What prints or stores a time converts it to an integer, which must not overflow.
inline constexpr double kMaxSeconds = 253402300799.0;

inline bool valid_seconds(double value) { return value >= 0 && value <= kMaxSeconds; }

// A non-negative decimal number of seconds ("12", "0.000435"), at most kMaxSeconds.
inline std::optional<double> parse_seconds(std::string_view text) {
    // Fast path for plain decimals whose digits fit in 53 bits: m / 10^k of two exact
    // doubles is correctly rounded, so this agrees with from_chars to the last bit.
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
                                        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
    uint64_t mantissa = 0;
    int digits = 0;
    int fraction_digits = -1;  // -1: no decimal point yet
    const char* p = text.data();
    const char* end = p + text.size();
    for (; p != end && digits <= 19; ++p) {
        unsigned digit = static_cast<unsigned>(*p - '0');
        if (digit < 10) {
            mantissa = mantissa * 10 + digit;
            ++digits;
            if (fraction_digits >= 0) ++fraction_digits;
        } else if (*p == '.' && fraction_digits < 0) {
            fraction_digits = 0;
        } else {
            break;
        }
    }
    if (p == end && digits > 0 && digits <= 19 && fraction_digits != 0 && mantissa <= (uint64_t{1} << 53)) {
        double value = static_cast<double>(mantissa) / kPow10[fraction_digits < 0 ? 0 : fraction_digits];
        return value <= kMaxSeconds ? std::optional(value) : std::nullopt;
    }

    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (ec != std::errc{} || ptr != end || text.empty() || !valid_seconds(value)) return std::nullopt;
    return value;
}

// "2026-11-02T08:15:00Z", "2026-11-02 08:15:00.25+01:00"; no zone means UTC.
std::optional<double> parse_iso8601(std::string_view text);

// Epoch seconds or ISO 8601.
inline std::optional<double> parse_timestamp(std::string_view text) {
    if (auto seconds = parse_seconds(text)) return seconds;
    return parse_iso8601(text);
}

// true/false, 1/0, yes/no, t/f (any case).
std::optional<bool> parse_flag(std::string_view text);

// Zeek conn_state values meaning the responder answered.
inline bool zeek_established(std::string_view state) {
    return state == "SF" || state == "S1" || state == "S2" || state == "S3" || state == "RSTO" || state == "RSTR";
}

// Zeek writes conn_state OTH for every ICMP exchange: an answer shows as packets from both
// sides (orig_pkts and resp_pkts, which conn logs carry by default).
inline bool zeek_icmp_answered(uint64_t orig_pkts, uint64_t resp_pkts) { return orig_pkts > 0 && resp_pkts > 0; }

// Zeek's service field ("http", "ssl,http", "-"): the applications its analysers confirmed
// that wardgate recognises too ("rfb" is VNC). "smb" and "snmp" stay unnamed: Zeek does not
// say which version, and only SMBv1 and SNMPv1/v2c are the insecure ones.
ApplicationSet zeek_service_applications(std::string_view service);

// Zeek's history, where the log has it, must show the answer from both sides as well:
// TCP a SYN from the originator ('S'), a SYN+ACK back ('h') and the originator's ACK or
// data ('A', 'D'); UDP and ICMP data from both ('D', 'd'). When Zeek flipped the roles
// ('^') orig and resp are already swapped; a flipped lone packet fails these checks.
inline bool zeek_history_established(std::string_view history, Protocol protocol) {
    bool orig_syn = false, resp_syn_ack = false, orig_ack = false, orig_data = false, resp_data = false;
    for (char c : history) {
        switch (c) {
            case 'S': orig_syn = true; break;
            case 'h': resp_syn_ack = true; break;
            case 'A': orig_ack = true; break;
            case 'D': orig_data = true; break;
            case 'd': resp_data = true; break;
            default: break;
        }
    }
    if (protocol == Protocol::tcp) return orig_syn && resp_syn_ack && (orig_ack || orig_data);
    return orig_data && resp_data;
}

// The value as it appears in a message: quoted, shortened when long.
std::string quote_value(std::string_view value);

}  // namespace wardgate::flows_internal
