#pragma once
// Recognises the application a flow carries from the first payload packets of each side,
// on any port: DICOM associations, HL7 v2 over MLLP, DHCP (with the device's announced
// hostname, vendor class, parameter request list and MUD URL), and the cleartext protocols
// (telnet, FTP, TFTP, HTTP, VNC, RDP, SMBv1, SNMPv1/v2c).
//
// Reads only the bytes given (a capture may cut a packet short), never follows a length
// field past them, and says nothing when unsure: a label is never a reason to allow a
// flow, only to warn about it or to keep it out of the observed baseline.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wardgate/core/application.hpp"

namespace wardgate {

// What one side's payload showed, as bits: some applications need both sides (an FTP
// greeting from one, a login command from the other).
enum PayloadClue : uint32_t {
    clue_dicom_request = 1u << 0,   // A-ASSOCIATE-RQ with the DICOM application context
    clue_dicom_accept = 1u << 1,    // A-ASSOCIATE-AC
    clue_hl7 = 1u << 2,             // an MLLP-framed message starting with an MSH segment
    clue_dhcp = 1u << 3,            // a DHCPv4 message with the magic cookie, or a DHCPv6 client message
    clue_telnet = 1u << 4,          // telnet option negotiation (IAC WILL/WONT/DO/DONT)
    clue_ftp_greeting = 1u << 5,    // "220" service ready
    clue_ftp_command = 1u << 6,     // USER, AUTH, FEAT, SYST or OPTS as the client's first line
    clue_tftp_request = 1u << 7,    // RRQ or WRQ with a known transfer mode, or an option acknowledgement
    clue_tftp_data = 1u << 8,       // DATA block 1
    clue_tftp_ack = 1u << 9,        // ACK block 0 or 1
    clue_http_request = 1u << 10,   // a request line ending in HTTP/1.0 or HTTP/1.1
    clue_http_response = 1u << 11,  // a status line HTTP/1.x NNN
    clue_vnc = 1u << 12,            // "RFB 003.00x" protocol version
    clue_rdp = 1u << 13,            // TPKT + X.224 connection request with an RDP cookie or negotiation request
    clue_smb1 = 1u << 14,           // NetBIOS session message carrying \xFFSMB
    clue_smb2 = 1u << 15,           // NetBIOS session message carrying \xFESMB
    clue_snmp = 1u << 16,           // an SNMPv1 or v2c message (community-based)
};

struct PayloadClues {
    uint32_t seen = 0;   // PayloadClue bits
    std::string detail;  // what the first telling packet said (AE titles, MSH fields, DHCP options...)
};

// Adds what one payload (TCP or UDP, ip_protocol 6 or 17) shows to one side's clues. The
// ports only decide whether DHCPv6 (546, 547) is tried: it has no magic number of its own.
void inspect_payload(uint8_t ip_protocol, uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload,
                     PayloadClues& side);

struct Recognition {
    Application application = Application::dicom;
    std::string detail;
};

// The application both sides' clues show together, if any.
std::optional<Recognition> recognise(const PayloadClues& a, const PayloadClues& b);

// What one DHCP message says about its client: every message counts (one flow from 0.0.0.0:68
// to the broadcast address carries every client's). subject: the client's MAC (DHCPv6: its
// DUID) and the message type; nullopt when the payload is not a DHCP message.
struct DhcpAnnouncement {
    std::string subject;
    std::string detail;
};
std::optional<DhcpAnnouncement> dhcp_announcement(uint16_t src_port, uint16_t dst_port, std::span<const uint8_t> payload);
bool dhcp_ports(uint16_t src_port, uint16_t dst_port);

// The DICOM SOP class a UID names ("CT Image Storage"), or the UID itself.
std::string sop_class_name(std::string_view uid);

}  // namespace wardgate
