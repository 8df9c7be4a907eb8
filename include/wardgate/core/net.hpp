#pragma once
// Addresses, prefixes, protocols and ports: the vocabulary every stage shares.
#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/core/protocol.hpp"

namespace wardgate {

struct IpAddress {
    Family family = Family::v4;
    std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes, the rest stay zero

    static std::optional<IpAddress> parse(std::string_view text);
    static IpAddress v4(uint32_t host_order);
    std::string to_string() const;
    int bit_width() const { return family == Family::v4 ? 32 : 128; }
    uint32_t v4_value() const;  // host order; only for Family::v4
    // The 16 bytes as two numbers, most significant first: comparisons and masks word by word.
    uint64_t high_word() const { return word_at(0); }
    uint64_t low_word() const { return word_at(8); }

    // Family first, then the bytes in network order (what the defaulted comparison would do,
    // without a byte-wise memcmp on every sort and map step).
    std::strong_ordering operator<=>(const IpAddress& o) const {
        if (auto c = family <=> o.family; c != 0) return c;
        if (auto c = high_word() <=> o.high_word(); c != 0) return c;
        return low_word() <=> o.low_word();
    }
    bool operator==(const IpAddress& o) const {
        return family == o.family && high_word() == o.high_word() && low_word() == o.low_word();
    }

private:
    uint64_t word_at(size_t offset) const {
        uint64_t v;
        std::memcpy(&v, bytes.data() + offset, sizeof v);
        if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
        return v;
    }
};

// Addresses a gateway never forwards between segments: link-local unicast (169.254/16,
// fe80::/10), multicast (224/4, ff00::/8), the limited broadcast and the unspecified address.
bool is_unrouted(const IpAddress& a);

struct IpAddressHash {
    size_t operator()(const IpAddress& a) const noexcept {
        uint64_t lo, hi;
        std::memcpy(&lo, a.bytes.data(), 8);
        std::memcpy(&hi, a.bytes.data() + 8, 8);
        uint64_t h = lo * 0x9E3779B97F4A7C15ULL ^ (hi + static_cast<uint64_t>(a.family)) * 0xC2B2AE3D27D4EB4FULL;
        return static_cast<size_t>(h ^ (h >> 29));
    }
};

struct Prefix {
    IpAddress address;  // network address, host bits zero
    uint8_t length = 0;

    // Accepts "a.b.c.d/len", "v6/len", or a bare address (a host prefix).
    // Rejects host bits set after the prefix length.
    static std::optional<Prefix> parse(std::string_view text);
    static Prefix host(const IpAddress& a) { return {a, static_cast<uint8_t>(a.bit_width())}; }
    Family family() const { return address.family; }
    bool is_host() const { return length == address.bit_width(); }
    bool contains(const IpAddress& a) const;
    bool contains(const Prefix& p) const;
    IpAddress last() const;  // highest address in the prefix
    std::string to_string() const;  // host prefixes print without "/len"
    void append_to(std::string& out) const;  // to_string's text, without a string of its own

    auto operator<=>(const Prefix&) const = default;
};

// Collapses a set of prefixes into the fewest covering the same addresses (sorted).
std::vector<Prefix> collapse_prefixes(std::vector<Prefix> prefixes);
// Whether collapse_prefixes would give the list back unchanged, in one pass: sorted, disjoint,
// and no two neighbours the halves of one prefix.
bool is_collapsed(const std::vector<Prefix>& prefixes);
// What the kernel takes as a link name: 1-15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace,
// not "." or "..".
inline constexpr size_t kMaxInterfaceName = 15;
bool is_interface_name(std::string_view name);
// What a person reads when `name` is not one: "\"eth0 up\" is no interface name (1-15 bytes, ...)".
std::string not_an_interface_name(std::string_view name);
// The addresses of `from` that no prefix of `remove` covers, as the fewest prefixes (sorted).
std::vector<Prefix> subtract_prefixes(const std::vector<Prefix>& from, std::vector<Prefix> remove);

struct PortRange {
    uint16_t first = 0;
    uint16_t last = 0;

    // "443" or "8000-8080"; rejects ports above 65535 and reversed ranges.
    static std::optional<PortRange> parse(std::string_view text);
    bool contains(uint16_t port) const { return port >= first && port <= last; }
    std::string to_string() const;
    auto operator<=>(const PortRange&) const = default;
};

// Sorts and merges overlapping or adjacent ranges.
std::vector<PortRange> normalize_ports(std::vector<PortRange> ports);

// A protocol with the destination ports or ICMP messages it covers.
struct Service {
    Protocol protocol = Protocol::tcp;
    std::vector<PortRange> ports;      // empty: every port (always empty for protocols without ports)
    std::vector<IcmpType> icmp_types;  // ICMP: the messages it covers, sorted; empty: every message

    // port: the responder port, or for ICMP the message (icmp_port), 0 when not known; a
    // service naming ICMP types never matches an ICMP packet of unknown type.
    bool matches(Protocol p, uint16_t port, Family f) const;
    // "tcp/443,8443-8444", "udp/*", "esp", "icmp", "icmp/echo-request", "icmp/8 icmpv6/2"
    std::string to_string() const;
    // The ICMP messages of one family; every message when `icmp_types` is empty.
    bool covers_family(Family f) const;
    auto operator<=>(const Service&) const = default;
};

// The service of one observed flow: its port, or its ICMP message when known.
Service flow_service(Protocol p, uint16_t port, Family f);
// What a person reads for one observed flow: "tcp/443", "esp", "icmp", "icmp/echo-request",
// "icmpv6/packet-too-big" (the family is the flow's, whatever the name means elsewhere).
std::string flow_service_text(Protocol p, uint16_t port, Family f);

}  // namespace wardgate
