#include "wardgate/core/protocol.hpp"

#include "wardgate/core/csv.hpp"

#include <netdb.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace wardgate {

namespace {

struct ProtocolName {
    uint8_t number;
    std::string_view name;
    std::string_view what;
};

// Printed names are fixed here, not taken from the system, so that output is the same on
// every machine; the system's list only adds names a person may write.
constexpr std::array<ProtocolName, 19> kProtocols{{
    {1, "icmp", "ICMP and ICMPv6"},
    {2, "igmp", "IGMP"},
    {4, "ipip", "IP in IP"},
    {6, "tcp", "TCP"},
    {17, "udp", "UDP"},
    {33, "dccp", "DCCP"},
    {41, "ipv6", "IPv6 in IP"},
    {46, "rsvp", "RSVP"},
    {47, "gre", "GRE"},
    {50, "esp", "IPsec ESP"},
    {51, "ah", "IPsec AH"},
    {88, "eigrp", "EIGRP"},
    {89, "ospf", "OSPF"},
    {103, "pim", "PIM"},
    {108, "comp", "IP compression"},
    {112, "vrrp", "VRRP"},
    {115, "l2tp", "L2TPv3"},
    {132, "sctp", "SCTP"},
    {136, "udplite", "UDP-Lite"},
}};

// IPv6 extension headers: the firewall matches the protocol that follows them.
bool is_extension_header(unsigned n) { return n == 0 || n == 43 || n == 44 || n == 51 + 9 || n == 59 || n == 135 || n == 139 || n == 140; }

std::optional<unsigned> number(std::string_view text) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return v;
}

struct IcmpName {
    uint8_t type;
    std::string_view name;
};
// nftables' names (icmp_type, icmpv6_type).
constexpr std::array<IcmpName, 15> kIcmpV4{{
    {0, "echo-reply"}, {3, "destination-unreachable"}, {4, "source-quench"}, {5, "redirect"}, {8, "echo-request"},
    {9, "router-advertisement"}, {10, "router-solicitation"}, {11, "time-exceeded"}, {12, "parameter-problem"},
    {13, "timestamp-request"}, {14, "timestamp-reply"}, {15, "info-request"}, {16, "info-reply"},
    {17, "address-mask-request"}, {18, "address-mask-reply"},
}};
constexpr std::array<IcmpName, 18> kIcmpV6{{
    {1, "destination-unreachable"}, {2, "packet-too-big"}, {3, "time-exceeded"}, {4, "parameter-problem"},
    {128, "echo-request"}, {129, "echo-reply"}, {130, "mld-listener-query"}, {131, "mld-listener-report"},
    {132, "mld-listener-done"}, {133, "nd-router-solicit"}, {134, "nd-router-advert"}, {135, "nd-neighbor-solicit"},
    {136, "nd-neighbor-advert"}, {137, "nd-redirect"}, {138, "router-renumbering"}, {141, "ind-neighbor-solicit"},
    {142, "ind-neighbor-advert"}, {143, "mld2-listener-report"},
}};
// Codes of destination-unreachable (nftables' icmp_code and icmpv6_code).
constexpr std::array<IcmpName, 8> kUnreachV4{{
    {0, "net-unreachable"}, {1, "host-unreachable"}, {2, "prot-unreachable"}, {3, "port-unreachable"},
    {4, "frag-needed"}, {9, "net-prohibited"}, {10, "host-prohibited"}, {13, "admin-prohibited"},
}};
constexpr std::array<IcmpName, 6> kUnreachV6{{
    {0, "no-route"}, {1, "admin-prohibited"}, {3, "addr-unreachable"}, {4, "port-unreachable"},
    {5, "policy-fail"}, {6, "reject-route"},
}};

template <size_t N>
std::optional<uint8_t> find_name(const std::array<IcmpName, N>& table, std::string_view name) {
    for (const auto& e : table)
        if (e.name == name) return e.type;
    return std::nullopt;
}
template <size_t N>
std::string_view find_number(const std::array<IcmpName, N>& table, uint8_t type) {
    for (const auto& e : table)
        if (e.type == type) return e.name;
    return {};
}

uint8_t unreachable(Family f) { return f == Family::v4 ? 3 : 1; }

}  // namespace

std::optional<Protocol> parse_protocol(std::string_view text) {
    std::string name = lower(text);
    if (name == "icmpv6" || name == "ipv6-icmp") return Protocol::icmp;
    unsigned n = 0;
    if (auto v = number(name)) {
        n = *v;
    } else if (auto it = std::find_if(kProtocols.begin(), kProtocols.end(), [&](const auto& p) { return p.name == name; });
               it != kProtocols.end()) {
        n = it->number;
    } else {
        protoent entry{};
        protoent* found = nullptr;
        std::array<char, 1024> buf{};
        std::string as_written(text);
        if ((getprotobyname_r(as_written.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || !found) &&
            (getprotobyname_r(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || !found))
            return std::nullopt;
        n = static_cast<unsigned>(found->p_proto);
    }
    return protocol_from_number(n);
}

std::optional<Protocol> protocol_from_number(unsigned n) {
    if (n == 58) n = 1;
    if (n >= 255 || is_extension_header(n)) return std::nullopt;
    return static_cast<Protocol>(n);
}

std::string to_string(Protocol p) {
    auto n = static_cast<uint8_t>(p);
    for (const auto& e : kProtocols)
        if (e.number == n) return std::string(e.name);
    return std::to_string(n);
}

std::string describe(Protocol p) {
    auto n = static_cast<uint8_t>(p);
    for (const auto& e : kProtocols)
        if (e.number == n) return std::string(e.name) + " (" + std::string(e.what) + ")";
    return "IP protocol " + std::to_string(n);
}

bool has_ports(Protocol p) {
    return p == Protocol::tcp || p == Protocol::udp || p == Protocol::sctp || p == Protocol::udplite;
}

bool icmp_starts_connection(Family f, uint8_t type) {
    // The messages nf_conntrack's ICMP and ICMPv6 trackers accept as new (valid_new[]).
    if (f == Family::v4) return type == 8 || type == 13 || type == 15 || type == 17;
    return type == 128 || type == 139;
}

bool icmp_is_error(Family f, uint8_t type) {
    if (f == Family::v4) return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    return type >= 1 && type <= 4;
}

std::string_view icmp_type_name(Family f, uint8_t type) {
    return f == Family::v4 ? find_number(kIcmpV4, type) : find_number(kIcmpV6, type);
}

std::string IcmpType::to_string() const {
    auto name = icmp_type_name(family, type);
    std::string out = name.empty() ? std::to_string(type) : std::string(name);
    if (code < 0) return out;
    std::string_view code_name;
    if (type == unreachable(family))
        code_name = family == Family::v4 ? find_number(kUnreachV4, static_cast<uint8_t>(code))
                                         : find_number(kUnreachV6, static_cast<uint8_t>(code));
    return out + ":" + (code_name.empty() ? std::to_string(code) : std::string(code_name));
}

std::optional<std::vector<IcmpType>> parse_icmp_type(std::string_view text, bool v6_only, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<std::vector<IcmpType>> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    std::string entry = lower(text);
    std::string_view type_text = entry, code_text;
    bool with_code = false;
    if (auto colon = entry.find(':'); colon != std::string::npos) {
        type_text = std::string_view(entry).substr(0, colon);
        code_text = std::string_view(entry).substr(colon + 1);
        with_code = true;
    }
    std::vector<IcmpType> out;
    if (auto n = number(type_text)) {
        if (*n > 255) return fail("an ICMP type is a number 0-255, got " + std::string(type_text));
        out.push_back({v6_only ? Family::v6 : Family::v4, static_cast<uint8_t>(*n), -1});
    } else {
        if (!v6_only)
            if (auto t = find_name(kIcmpV4, type_text)) out.push_back({Family::v4, *t, -1});
        if (auto t = find_name(kIcmpV6, type_text)) out.push_back({Family::v6, *t, -1});
        if (out.empty())
            return fail("\"" + std::string(type_text) + "\" is not an " + (v6_only ? "ICMPv6" : "ICMP or ICMPv6") +
                        " type name (echo-request, destination-unreachable, time-exceeded, packet-too-big, ...) or number");
    }
    if (!with_code) return out;
    if (auto n = number(code_text)) {
        if (*n > 255) return fail("an ICMP code is a number 0-255, got " + std::string(code_text));
        if (out.size() > 1)
            return fail("code " + std::string(code_text) + " of " + std::string(type_text) +
                        " means different things in ICMP and ICMPv6: name the code, or use protocol icmpv6 or a type number");
        out.front().code = static_cast<int16_t>(*n);
        return out;
    }
    std::vector<IcmpType> named;
    for (auto t : out) {
        if (t.type != unreachable(t.family)) continue;
        auto code = t.family == Family::v4 ? find_name(kUnreachV4, code_text) : find_name(kUnreachV6, code_text);
        if (!code) continue;
        t.code = *code;
        named.push_back(t);
    }
    if (named.empty())
        return fail("\"" + std::string(code_text) + "\" is not a code of " + std::string(type_text) +
                    " (codes are numbers 0-255; names exist for destination-unreachable: port-unreachable, "
                    "host-unreachable, admin-prohibited, frag-needed, ...)");
    return named;
}

}  // namespace wardgate
