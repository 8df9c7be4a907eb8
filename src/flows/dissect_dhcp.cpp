// DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415) messages: what a device announces about
// itself (hostname, vendor class, parameter request list, MUD URL per RFC 8520 section 10).
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "dissect_bytes.hpp"
#include "wardgate/flows/dissect.hpp"

namespace wardgate {

namespace {

constexpr size_t kCookieAt = 236;
constexpr std::array<uint8_t, 4> kMagicCookie{99, 130, 83, 99};

constexpr std::array<std::string_view, 9> kV4Types{"",        "DHCPDISCOVER", "DHCPOFFER",   "DHCPREQUEST", "DHCPDECLINE",
                                                   "DHCPACK", "DHCPNAK",      "DHCPRELEASE", "DHCPINFORM"};
constexpr std::array<std::string_view, 12> kV6Types{"",      "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM",  "RENEW",
                                                   "REBIND", "REPLY",   "RELEASE",   "DECLINE", "RECONFIGURE",
                                                   "INFORMATION-REQUEST"};

std::string address_at(flows_internal::Bytes p, size_t at) {
    return fmt::format("{}.{}.{}.{}", p[at], p[at + 1], p[at + 2], p[at + 3]);
}
bool zero_address(flows_internal::Bytes p, size_t at) { return !p[at] && !p[at + 1] && !p[at + 2] && !p[at + 3]; }

void add_text(std::string& out, std::string_view name, flows_internal::Bytes value) {
    out += fmt::format(" {}=\"{}\"", name, flows_internal::printable(flows_internal::as_text(value), 120));
}

}  // namespace

uint32_t flows_internal::dissect_dhcp(Bytes p, std::string& detail) {
    if (p.size() < kCookieAt + 4 || (p[0] != 1 && p[0] != 2)) return 0;
    if (!std::equal(kMagicCookie.begin(), kMagicCookie.end(), p.begin() + kCookieAt)) return 0;
    std::string type = p[0] == 1 ? "BOOTREQUEST" : "BOOTREPLY";
    std::string options;
    size_t at = kCookieAt + 4;
    while (at < p.size()) {
        const uint8_t code = p[at];
        if (code == 0) {
            ++at;
            continue;
        }
        if (code == 255 || at + 2 > p.size()) break;
        const size_t length = p[at + 1];
        if (at + 2 + length > p.size()) break;  // cut short by the capture
        auto value = p.subspan(at + 2, length);
        switch (code) {
            case 53:
                if (length == 1 && value[0] < kV4Types.size() && value[0] > 0) type = kV4Types[value[0]];
                break;
            case 12: add_text(options, "hostname", value); break;
            case 60: add_text(options, "vendor-class", value); break;
            case 161: add_text(options, "mud-url", value); break;
            case 50:
                if (length == 4) options += " requested=" + address_at(value, 0);
                break;
            case 55: {
                std::string list;
                for (uint8_t o : value) list += (list.empty() ? "" : ",") + std::to_string(o);
                options += " parameters=" + list;
                break;
            }
            default: break;
        }
        at += 2 + length;
    }
    std::string text = type;
    if (p[1] == 1 && p[2] == 6)  // Ethernet hardware address
        text += fmt::format(" client={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", p[28], p[29], p[30], p[31], p[32], p[33]);
    // The client's own address (renewing) or, in a reply, the one the server gives it.
    constexpr size_t kClientAddress = 12, kYourAddress = 16;
    if (!zero_address(p, kClientAddress)) text += " address=" + address_at(p, kClientAddress);
    else if (p[0] == 2 && !zero_address(p, kYourAddress)) text += " address=" + address_at(p, kYourAddress);
    if (detail.empty()) detail = text + options;
    return clue_dhcp;
}

uint32_t flows_internal::dissect_dhcpv6(Bytes p, std::string& detail) {
    if (p.size() < 4 || p[0] == 0 || p[0] >= kV6Types.size()) return 0;
    std::string options;
    bool client_id = false;
    size_t at = 4;
    while (at + 4 <= p.size()) {
        const uint16_t code = be16(p, at);
        const size_t length = be16(p, at + 2);
        if (at + 4 + length > p.size()) break;
        auto value = p.subspan(at + 4, length);
        if (code == 1) {
            client_id = true;
            std::string duid;
            for (uint8_t b : value.first(std::min<size_t>(value.size(), 20))) duid += fmt::format("{:02x}", b);
            options = " duid=" + duid + options;
        }
        if (code == 112) add_text(options, "mud-url", value);
        if (code == 16 && length > 6) add_text(options, "vendor-class", value.subspan(6));  // enterprise, length, data
        at += 4 + length;
    }
    if (!client_id) return 0;
    if (detail.empty()) detail = "DHCPv6 " + std::string(kV6Types[p[0]]) + options;
    return clue_dhcp;
}

}  // namespace wardgate
