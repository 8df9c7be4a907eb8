#include "wardgate/core/application.hpp"

#include <array>

namespace wardgate {

namespace {

struct ApplicationName {
    std::string_view name;
    std::string_view insecure;  // empty: not an insecure protocol
};

constexpr std::array<ApplicationName, kApplicationCount> kNames{{
    {"dicom", ""},
    {"hl7", ""},
    {"dhcp", ""},
    {"telnet", "telnet"},
    {"ftp", "FTP"},
    {"tftp", "TFTP"},
    {"http", "HTTP"},
    {"vnc", "VNC"},
    {"rdp", "RDP"},
    {"smb1", "SMBv1"},
    {"snmp", "SNMPv1/v2c"},
}};

}  // namespace

std::string_view to_string(Application a) { return kNames[static_cast<size_t>(a)].name; }

std::optional<Application> parse_application(std::string_view name) {
    for (size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i].name == name) return static_cast<Application>(i);
    return std::nullopt;
}

std::string to_string(ApplicationSet set) {
    std::string out;
    for (int i = 0; i < kApplicationCount; ++i) {
        auto a = static_cast<Application>(i);
        if (!contains(set, a)) continue;
        if (!out.empty()) out += ',';
        out += to_string(a);
    }
    return out;
}

std::vector<std::string> application_names(ApplicationSet set) {
    std::vector<std::string> out;
    for (int i = 0; i < kApplicationCount; ++i)
        if (contains(set, static_cast<Application>(i))) out.emplace_back(to_string(static_cast<Application>(i)));
    return out;
}

ApplicationSet known_applications(ApplicationSet set) {
    return static_cast<ApplicationSet>(set & ((1u << kApplicationCount) - 1));
}

std::optional<std::string_view> insecure_name(Application a) {
    auto name = kNames[static_cast<size_t>(a)].insecure;
    if (name.empty()) return std::nullopt;
    return name;
}

std::optional<std::string_view> insecure_name(ApplicationSet set) {
    for (int i = 0; i < kApplicationCount; ++i) {
        auto a = static_cast<Application>(i);
        if (contains(set, a))
            if (auto name = insecure_name(a)) return name;
    }
    return std::nullopt;
}

}  // namespace wardgate
