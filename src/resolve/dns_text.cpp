#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>

#include "wardgate/resolve/dns.hpp"

namespace wardgate {

std::string resolution_minute(SysSeconds t) {
    return fmt::format("{:%Y-%m-%dT%H:%MZ}", std::chrono::floor<std::chrono::minutes>(t));
}

std::string resolution_time(SysSeconds t) { return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t); }

std::optional<SysSeconds> parse_resolution_time(std::string_view text) {
    int y, mo, d, h, mi, s;
    char z = 0;
    std::string copy(text);
    if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 || z != 'Z' ||
        copy.size() != 20)
        return std::nullopt;
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                    std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0) return std::nullopt;
    return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
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
