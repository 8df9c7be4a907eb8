#include "wardgate/flows/dissect.hpp"

#include "dissect_bytes.hpp"

namespace wardgate {

namespace {

// DHCPv6 has no magic number of its own: only its ports say a payload may be one.
bool dhcpv6_ports(uint16_t src_port, uint16_t dst_port) {
    return src_port == 546 || src_port == 547 || dst_port == 546 || dst_port == 547;
}

}  // namespace

std::string flows_internal::printable(std::string_view text, size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) out += c >= 0x20 && c <= 0x7e && c != '"' ? c : '?';
    if (text.size() > limit) out += "...";
    return out;
}

void inspect_payload(uint8_t ip_protocol, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload,
                     PayloadClues& side) {
    using namespace flows_internal;
    if (payload.empty()) return;
    uint32_t found = 0;
    if (ip_protocol == 6) {
        found = dissect_dicom(payload, side.detail);
        if (!found) found = dissect_hl7(payload, side.detail);
        if (!found) found = dissect_tcp_cleartext(payload, side.detail);
    } else if (ip_protocol == 17) {
        found = dissect_dhcp(payload, side.detail);
        if (!found && dhcpv6_ports(src_port, dst_port)) found = dissect_dhcpv6(payload, side.detail);
        if (!found) found = dissect_udp_cleartext(payload, side.detail);
    }
    side.seen |= found;
}

std::optional<Recognition> recognise(const PayloadClues& initiator, const PayloadClues& responder) {
    const uint32_t both = initiator.seen | responder.seen;
    // The detail of the side that showed the clue, the initiator's first.
    auto by = [&](Application a, uint32_t clues) -> std::optional<Recognition> {
        const PayloadClues& side = (initiator.seen & clues) ? initiator : responder;
        return Recognition{a, side.detail};
    };
    if (both & clue_dicom_request) return by(Application::dicom, clue_dicom_request);
    if (both & clue_dicom_accept) return by(Application::dicom, clue_dicom_accept);
    if (both & clue_hl7) return by(Application::hl7, clue_hl7);
    if (both & clue_dhcp) return by(Application::dhcp, clue_dhcp);
    if (both & clue_tftp_request) return by(Application::tftp, clue_tftp_request);
    // One side showed a, the other b, either way round.
    auto one_each = [&](uint32_t a, uint32_t b) {
        return ((initiator.seen & a) && (responder.seen & b)) || ((responder.seen & a) && (initiator.seen & b));
    };
    if (one_each(clue_tftp_data, clue_tftp_ack)) return Recognition{Application::tftp, "TFTP data transfer (block 1 sent and acknowledged)"};
    if ((both & clue_smb1) && !(both & clue_smb2)) return by(Application::smb1, clue_smb1);
    if (both & clue_rdp) return by(Application::rdp, clue_rdp);
    if (both & clue_vnc) return by(Application::vnc, clue_vnc);
    if (both & clue_telnet) return by(Application::telnet, clue_telnet);
    if (one_each(clue_ftp_command, clue_ftp_greeting)) return Recognition{Application::ftp, "FTP greeting (220) and login command"};
    if (both & clue_http_request) return by(Application::http, clue_http_request);
    if (both & clue_http_response) return by(Application::http, clue_http_response);
    if (both & clue_snmp) return by(Application::snmp, clue_snmp);
    return std::nullopt;
}

bool dhcp_ports(uint16_t src_port, uint16_t dst_port) {
    auto dhcpv4 = [](uint16_t p) { return p == 67 || p == 68; };
    return dhcpv4(src_port) || dhcpv4(dst_port) || dhcpv6_ports(src_port, dst_port);
}

std::optional<DhcpAnnouncement> dhcp_announcement(uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload) {
    using namespace flows_internal;
    DhcpAnnouncement a;
    const bool v6 = dhcpv6_ports(src_port, dst_port);
    if (!(v6 ? dissect_dhcpv6(payload, a.detail) : dissect_dhcp(payload, a.detail))) return std::nullopt;
    // "DHCPREQUEST client=00:17:88:01:02:03 ..." / "DHCPv6 SOLICIT duid=0001... ..."
    const std::string_view d = a.detail;
    const std::string_view type = d.substr(0, v6 ? d.find(' ', d.find(' ') + 1) : d.find(' '));
    const std::string_view key = v6 ? " duid=" : " client=";
    std::string_view client;
    if (auto at = d.find(key); at != std::string_view::npos) {
        client = d.substr(at + key.size());
        client = client.substr(0, client.find(' '));
    }
    a.subject = std::string(client) + " " + std::string(type);
    return a;
}

}  // namespace wardgate
