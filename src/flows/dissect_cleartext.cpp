// The cleartext protocols that must not reach a medical device unannounced, recognised by
// their first bytes whatever the port: telnet, FTP, HTTP, VNC, RDP and SMBv1 over TCP;
// TFTP and SNMPv1/v2c over UDP.
#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "dissect_bytes.hpp"
#include "wardgate/flows/dissect.hpp"

namespace wardgate {

namespace {

using flows_internal::Bytes;
using flows_internal::as_text;
using flows_internal::printable;

constexpr uint8_t kIac = 0xFF, kSb = 250, kWill = 251, kDont = 254;

bool telnet_command(Bytes p, size_t at) {
    return at + 1 < p.size() && p[at] == kIac && ((p[at + 1] >= kWill && p[at + 1] <= kDont) || p[at + 1] == kSb);
}

uint32_t telnet(Bytes p, std::string& detail) {
    if (p.size() < 3 || !telnet_command(p, 0) || p[1] == kSb) return 0;
    if (p.size() > 3 && p[3] == kIac && !telnet_command(p, 3)) return 0;
    if (detail.empty()) detail = "telnet option negotiation";
    return clue_telnet;
}

// The first line, without its line end; empty when the capture holds no complete line.
std::string_view first_line(Bytes p) {
    auto text = as_text(p);
    auto end = text.find("\r\n");
    if (end == std::string_view::npos) return {};
    return text.substr(0, end);
}

std::string_view header(std::string_view text, std::string_view name) {
    size_t at = 0;
    while ((at = text.find("\r\n", at)) != std::string_view::npos) {
        at += 2;
        auto line = text.substr(at, text.find("\r\n", at) - at);
        if (line.size() > name.size() && line[name.size()] == ':' &&
            std::equal(name.begin(), name.end(), line.begin(),
                       [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
            auto value = line.substr(name.size() + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return value;
        }
    }
    return {};
}

uint32_t http(Bytes p, std::string& detail) {
    auto line = first_line(p);
    if (line.size() < 12) return 0;
    if (line.starts_with("HTTP/1.0 ") || line.starts_with("HTTP/1.1 ")) {
        auto code = line.substr(9, 3);
        if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) return 0;
        if (detail.empty()) {
            detail = "HTTP " + std::string(code);
            if (auto server = header(as_text(p), "Server"); !server.empty()) detail += " server \"" + printable(server) + "\"";
        }
        return clue_http_response;
    }
    static constexpr std::array<std::string_view, 8> kMethods{"GET",    "POST",    "HEAD",  "PUT",
                                                               "DELETE", "OPTIONS", "PATCH", "CONNECT"};
    auto space = line.find(' ');
    if (space == std::string_view::npos ||
        std::find(kMethods.begin(), kMethods.end(), line.substr(0, space)) == kMethods.end())
        return 0;
    if (!line.ends_with(" HTTP/1.0") && !line.ends_with(" HTTP/1.1")) return 0;
    if (detail.empty()) {
        // The path without its query: a query string can carry patient identifiers.
        auto target = line.substr(space + 1, line.size() - space - 10);
        target = target.substr(0, target.find('?'));
        detail = fmt::format("HTTP {} {}", line.substr(0, space), printable(target, 60));
        if (auto host = header(as_text(p), "Host"); !host.empty()) detail += " host \"" + printable(host) + "\"";
        if (auto agent = header(as_text(p), "User-Agent"); !agent.empty()) detail += " agent \"" + printable(agent) + "\"";
    }
    return clue_http_request;
}

uint32_t ftp(Bytes p) {
    auto line = first_line(p);
    if (line.size() >= 3 && line.starts_with("220") && (line.size() == 3 || line[3] == ' ' || line[3] == '-'))
        return clue_ftp_greeting;
    for (std::string_view command : {"USER ", "AUTH ", "OPTS "})
        if (line.starts_with(command) && line.size() > command.size()) return clue_ftp_command;
    if (line == "FEAT" || line == "SYST") return clue_ftp_command;
    return 0;
}

uint32_t vnc(Bytes p, std::string& detail) {
    auto text = as_text(p);
    if (text.size() < 12 || !text.starts_with("RFB 003.00") || !std::isdigit(static_cast<unsigned char>(text[10])) ||
        text[11] != '\n')
        return 0;
    if (detail.empty()) detail = "VNC " + std::string(text.substr(0, 11));
    return clue_vnc;
}

uint32_t rdp(Bytes p, std::string& detail) {
    // TPKT (version 3), X.224 connection request (code 0xE0), then an RDP cookie or an
    // RDP negotiation request; an ISO-TSAP peer (S7comm on 102) sends TSAP parameters instead.
    if (p.size() < 11 || p[0] != 3 || p[1] != 0 || (p[5] & 0xF0) != 0xE0) return 0;
    const size_t length = flows_internal::be16(p, 2);
    if (length < 11 || p[4] + 5u != length) return 0;
    auto variable = p.subspan(11, std::min(p.size(), length) - 11);
    const bool cookie = as_text(variable).starts_with("Cookie: ");
    const bool negotiation = length <= p.size() && length >= 19 && p[length - 8] == 0x01 && p[length - 6] == 8 && p[length - 5] == 0;
    if (!cookie && !negotiation) return 0;
    if (detail.empty()) {
        detail = "RDP connection request";
        if (negotiation) {
            const uint32_t requested = p[length - 4];
            static constexpr std::pair<uint32_t, std::string_view> kProtocols[] = {
                {0x1, "TLS"}, {0x2, "CredSSP"}, {0x4, "RDSTLS"}, {0x8, "CredSSP with early authorisation"}};
            std::string names;
            for (auto [bit, name] : kProtocols)
                if (requested & bit) names += (names.empty() ? "" : ", ") + std::string(name);
            detail += names.empty() ? ", standard RDP security only" : ", offers " + names;
        }
    }
    return clue_rdp;
}

uint32_t smb(Bytes p, std::string& detail) {
    if (p.size() < 8 || p[0] != 0 || p[5] != 'S' || p[6] != 'M' || p[7] != 'B') return 0;
    if (p[4] == 0xFE) return clue_smb2;
    if (p[4] != 0xFF) return 0;
    if (detail.empty()) {
        static constexpr std::pair<uint8_t, std::string_view> kCommands[] = {
            {0x72, "NEGOTIATE"}, {0x73, "SESSION_SETUP_ANDX"}, {0x75, "TREE_CONNECT_ANDX"}, {0xa2, "NT_CREATE_ANDX"},
            {0x25, "TRANSACTION"}, {0x32, "TRANSACTION2"}, {0x2e, "READ_ANDX"}, {0x2f, "WRITE_ANDX"}};
        detail = "SMBv1";
        if (p.size() > 8) {
            auto it = std::find_if(std::begin(kCommands), std::end(kCommands), [&](const auto& c) { return c.first == p[8]; });
            detail += it != std::end(kCommands) ? " " + std::string(it->second) : fmt::format(" command 0x{:02x}", p[8]);
        }
    }
    return clue_smb1;
}

// An option acknowledgement (RFC 2347): NUL-terminated option names and values, each name
// one of the registered TFTP options.
uint32_t tftp_option_ack(Bytes p, std::string& detail) {
    static constexpr std::array<std::string_view, 5> kOptions{"blksize", "tsize", "timeout", "windowsize", "multicast"};
    auto text = as_text(p.subspan(2));
    if (text.empty() || text.back() != '\0') return 0;
    std::string names;
    size_t fields = 0;
    for (size_t at = 0; at < text.size(); ++fields) {
        auto end = text.find('\0', at);
        auto field = text.substr(at, end - at);
        if (fields % 2 == 0) {
            std::string lower(field);
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (std::find(kOptions.begin(), kOptions.end(), lower) == kOptions.end()) return 0;
            names += (names.empty() ? "" : ", ") + lower;
        }
        at = end + 1;
    }
    if (fields % 2 != 0) return 0;
    if (detail.empty()) detail = "TFTP option acknowledgement (" + names + ")";
    return clue_tftp_request;
}

uint32_t tftp(Bytes p, std::string& detail) {
    if (p.size() < 4 || p[0] != 0) return 0;
    const uint8_t opcode = p[1];
    if (opcode == 3 && p[2] == 0 && p[3] == 1) return clue_tftp_data;
    if (opcode == 4 && p.size() == 4 && p[2] == 0 && p[3] <= 1) return clue_tftp_ack;
    if (opcode == 6) return tftp_option_ack(p, detail);
    if (opcode != 1 && opcode != 2) return 0;
    auto text = as_text(p.subspan(2));
    auto name_end = text.find('\0');
    if (name_end == 0 || name_end == std::string_view::npos || name_end > 255) return 0;
    auto name = text.substr(0, name_end);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) return 0;
    auto rest = text.substr(name_end + 1);
    auto mode = rest.substr(0, rest.find('\0'));
    if (mode.size() == rest.size()) return 0;
    std::string lower(mode);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "netascii" && lower != "octet" && lower != "mail") return 0;
    if (detail.empty()) detail = fmt::format("TFTP {} \"{}\" {}", opcode == 1 ? "read" : "write", printable(name, 80), lower);
    return clue_tftp_request;
}

// A BER length at `at`: short form, or long form of one or two bytes. Moves `at` past it.
std::optional<size_t> ber_length(Bytes p, size_t& at) {
    if (at >= p.size()) return std::nullopt;
    const uint8_t first = p[at++];
    if (first < 0x80) return first;
    const size_t bytes = first & 0x7F;
    if (bytes == 0 || bytes > 2 || at + bytes > p.size()) return std::nullopt;
    size_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value = value << 8 | p[at++];
    return value;
}

uint32_t snmp(Bytes p, std::string& detail) {
    size_t at = 1;
    if (p.size() < 8 || p[0] != 0x30) return 0;
    auto total = ber_length(p, at);
    if (!total || at + *total != p.size()) return 0;
    if (at + 3 > p.size() || p[at] != 0x02 || p[at + 1] != 0x01 || p[at + 2] > 1) return 0;
    const uint8_t version = p[at + 2];
    at += 3;
    if (at >= p.size() || p[at] != 0x04) return 0;
    ++at;
    auto community = ber_length(p, at);
    if (!community || at + *community >= p.size()) return 0;
    at += *community;
    static constexpr std::array<std::string_view, 9> kPdus{"GetRequest",    "GetNextRequest", "Response",
                                                           "SetRequest",    "Trap",           "GetBulkRequest",
                                                           "InformRequest", "SNMPv2-Trap",    "Report"};
    const uint8_t pdu = p[at];
    if (pdu < 0xA0 || pdu > 0xA8) return 0;
    // The community string is a password: say it was there, never what it is.
    if (detail.empty()) detail = fmt::format("SNMP{} {} (community string in clear)", version == 0 ? "v1" : "v2c", kPdus[pdu - 0xA0]);
    return clue_snmp;
}

}  // namespace

uint32_t flows_internal::dissect_tcp_cleartext(Bytes p, std::string& detail) {
    if (auto c = telnet(p, detail)) return c;
    if (auto c = http(p, detail)) return c;
    if (auto c = vnc(p, detail)) return c;
    if (auto c = rdp(p, detail)) return c;
    if (auto c = smb(p, detail)) return c;
    return ftp(p);
}

uint32_t flows_internal::dissect_udp_cleartext(Bytes p, std::string& detail) {
    if (auto c = snmp(p, detail)) return c;
    return tftp(p, detail);
}

}  // namespace wardgate
