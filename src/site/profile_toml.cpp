#include "wardgate/site/profile_toml.hpp"

#include <algorithm>
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

// protocol, ports and icmp_types of one [[flow]]; the ICMP messages all of one family
// (or named alike in both), as Service::to_string groups them.
static std::string service_fields(const Service& svc) {
    std::string text = svc.to_string();
    if (svc.protocol == Protocol::icmp && !svc.icmp_types.empty()) {
        auto slash = text.find('/');
        std::string out = "protocol = " + toml_quote(text.substr(0, slash)) + "\nicmp_types = [";
        std::string list = text.substr(slash + 1);
        for (size_t start = 0; start <= list.size();) {
            auto comma = std::min(list.find(',', start), list.size());
            out += (start ? ", " : "") + toml_quote(list.substr(start, comma - start));
            start = comma + 1;
        }
        return out + "]\n";
    }
    std::string out = "protocol = " + toml_quote(to_string(svc.protocol)) + "\n";
    if (!has_ports(svc.protocol)) return out;
    out += "ports = [";
    for (size_t i = 0; i < svc.ports.size(); ++i) {
        const PortRange& r = svc.ports[i];
        if (i) out += ", ";
        out += r.first == r.last ? std::to_string(r.first) : toml_quote(r.to_string());
    }
    return out + "]\n";
}

static std::string flow_table(const DeclaredFlow& f) {
    std::string out = "\n[[flow]]\n";
    out += "direction = " + toml_quote(to_string(f.direction)) + "\n";
    out += "peer = " + toml_quote(f.peer.to_string()) + "\n";
    if (!f.dns_name.empty()) out += "dns_name = " + toml_quote(f.dns_name) + "\n";
    out += service_fields(f.service);
    if (!f.purpose.empty()) out += "purpose = " + toml_quote(f.purpose) + "\n";
    out += std::string("required = ") + (f.required ? "true" : "false") + "\n";
    return out;
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
        if (f.service.protocol == Protocol::icmp && f.service.to_string().find(' ') != std::string::npos) {
            // ICMP messages of both families that one protocol line cannot name: one flow per family.
            for (Family fam : {Family::v4, Family::v6}) {
                DeclaredFlow one = f;
                one.service.icmp_types.clear();
                for (const auto& t : f.service.icmp_types)
                    if (t.family == fam) one.service.icmp_types.push_back(t);
                out += flow_table(one);
            }
            continue;
        }
        out += flow_table(f);
    }
    return out;
}

}  // namespace wardgate
