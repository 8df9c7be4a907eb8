#include "field_parse.hpp"

#include <cctype>

namespace wardgate::flows_internal {

static bool take_digits(std::string_view& text, size_t count, int& out) {
    if (text.size() < count) return false;
    out = 0;
    for (size_t i = 0; i < count; ++i) {
        char c = text[i];
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    text.remove_prefix(count);
    return true;
}

static bool take_char(std::string_view& text, char c) {
    if (text.empty() || text.front() != c) return false;
    text.remove_prefix(1);
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

static bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

std::optional<double> parse_iso8601(std::string_view text) {
    int year, month, day, hour, minute, second;
    if (!take_digits(text, 4, year) || !take_char(text, '-') || !take_digits(text, 2, month) || !take_char(text, '-') ||
        !take_digits(text, 2, day))
        return std::nullopt;
    if (text.empty() || (text.front() != 'T' && text.front() != 't' && text.front() != ' ')) return std::nullopt;
    text.remove_prefix(1);
    if (!take_digits(text, 2, hour) || !take_char(text, ':') || !take_digits(text, 2, minute) || !take_char(text, ':') ||
        !take_digits(text, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60)
        return std::nullopt;
    double fraction = 0;
    if (!text.empty() && (text.front() == '.' || text.front() == ',')) {
        text.remove_prefix(1);
        double scale = 0.1;
        size_t digits = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
            fraction += (text[digits] - '0') * scale;
            scale /= 10;
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        text.remove_prefix(digits);
    }
    long long offset = 0;
    if (!text.empty() && (text.front() == 'Z' || text.front() == 'z')) {
        text.remove_prefix(1);
    } else if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
        int sign = text.front() == '-' ? -1 : 1;
        text.remove_prefix(1);
        int oh, om = 0;
        if (!take_digits(text, 2, oh)) return std::nullopt;
        if (take_char(text, ':')) {
            if (!take_digits(text, 2, om)) return std::nullopt;
        } else if (!text.empty() && !take_digits(text, 2, om)) {
            return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600LL + om * 60LL);
    }
    if (!text.empty()) return std::nullopt;
    long long seconds = days_from_civil(year, month, day) * 86400LL + hour * 3600LL + minute * 60LL + second - offset;
    return static_cast<double>(seconds) + fraction;
}

ApplicationSet zeek_service_applications(std::string_view service) {
    static constexpr std::pair<std::string_view, Application> kServices[] = {
        {"dicom", Application::dicom}, {"hl7", Application::hl7},   {"dhcp", Application::dhcp},
        {"telnet", Application::telnet}, {"ftp", Application::ftp}, {"tftp", Application::tftp},
        {"http", Application::http},   {"rfb", Application::vnc},   {"rdp", Application::rdp},
    };
    ApplicationSet out = 0;
    while (!service.empty()) {
        auto comma = service.find(',');
        auto name = service.substr(0, comma);
        for (const auto& [zeek, application] : kServices)
            if (name == zeek) out |= application_bit(application);
        if (comma == std::string_view::npos) break;
        service.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<bool> parse_flag(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "1" || lower == "yes" || lower == "t" || lower == "y") return true;
    if (lower == "false" || lower == "0" || lower == "no" || lower == "f" || lower == "n") return false;
    return std::nullopt;
}

std::string quote_value(std::string_view value) {
    constexpr size_t limit = 60;
    std::string out = "\"";
    for (char c : value.substr(0, limit)) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[(c >> 4) & 0xF];
            out += hex[c & 0xF];
        } else {
            out += c;
        }
    }
    out += value.size() > limit ? "\"..." : "\"";
    return out;
}

}  // namespace wardgate::flows_internal
