#include "wardgate/site/profile_toml.hpp"

#include <cstdio>

namespace wardgate {

std::string toml_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

static std::string comment(std::string_view text) {
    std::string out = "#";
    if (!text.empty()) out += " ";
    for (char c : text) out += c == '\n' ? ' ' : c;
    return out + "\n";
}

std::string profile_to_toml(const Profile& profile, const std::vector<std::string>& header) {
    std::string out;
    for (const auto& line : header) out += comment(line);
    if (!profile.notes.empty()) {
        if (!header.empty()) out += "#\n";
        for (const auto& note : profile.notes) out += comment(note);
    }
    if (!out.empty()) out += "\n";
    out += "vendor = " + toml_quote(profile.vendor) + "\n";
    out += "model = " + toml_quote(profile.model) + "\n";
    out += "source = " + toml_quote(profile.source) + "\n";
    for (const auto& f : profile.flows) {
        out += "\n[[flow]]\n";
        out += "direction = " + toml_quote(to_string(f.direction)) + "\n";
        out += "peer = " + toml_quote(f.peer.to_string()) + "\n";
        if (!f.dns_name.empty()) out += "dns_name = " + toml_quote(f.dns_name) + "\n";
        out += "protocol = " + toml_quote(to_string(f.service.protocol)) + "\n";
        if (f.service.protocol != Protocol::icmp) {
            out += "ports = [";
            for (size_t i = 0; i < f.service.ports.size(); ++i) {
                const PortRange& r = f.service.ports[i];
                if (i) out += ", ";
                out += r.first == r.last ? std::to_string(r.first) : toml_quote(r.to_string());
            }
            out += "]\n";
        }
        if (!f.purpose.empty()) out += "purpose = " + toml_quote(f.purpose) + "\n";
        out += std::string("required = ") + (f.required ? "true" : "false") + "\n";
    }
    return out;
}

}  // namespace wardgate
