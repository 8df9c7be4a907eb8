#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>

#include "../flows/field_parse.hpp"
#include "wardgate/resolve/dns.hpp"

namespace wardgate {

std::string resolution_minute(SysSeconds t) {
    return fmt::format("{:%Y-%m-%dT%H:%MZ}", std::chrono::floor<std::chrono::minutes>(t));
}

std::string resolution_time(SysSeconds t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t); }

std::optional<SysSeconds> parse_resolution_time(std::string_view text) {
    // Exactly what resolution_time() writes: whole seconds, UTC.
    if (text.size() != 20 || text.back() != 'Z') return std::nullopt;
    auto seconds = flows_internal::parse_iso8601(text);
    if (!seconds) return std::nullopt;
    return SysSeconds{std::chrono::seconds{std::llround(*seconds)}};
}

std::string normalize_dns_name(std::string_view name) {
    std::string out;
    for (char c : name) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

std::string_view to_string(DnsStatus s) {
    switch (s) {
        case DnsStatus::ok: return "ok";
        case DnsStatus::nxdomain: return "NXDOMAIN";
        case DnsStatus::no_address: return "no address";
        case DnsStatus::servfail: return "SERVFAIL";
        case DnsStatus::refused: return "REFUSED";
        case DnsStatus::timeout: return "timeout";
        case DnsStatus::error: return "error";
    }
    return "error";
}

}  // namespace wardgate
