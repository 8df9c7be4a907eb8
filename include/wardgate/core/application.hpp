#pragma once
// Applications recognised by what a flow carries, whatever port it uses: the medical
// protocols (DICOM, HL7 v2 over MLLP), DHCP, and the cleartext protocols that must never
// reach a medical device unannounced. An edge holds the set of applications seen on it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wardgate {

enum class Application : uint8_t { dicom, hl7, dhcp, telnet, ftp, tftp, http, vnc, rdp, smb1, snmp };
inline constexpr int kApplicationCount = 11;

// A set of applications, one bit per Application.
using ApplicationSet = uint16_t;

constexpr ApplicationSet application_bit(Application a) { return static_cast<ApplicationSet>(1u << static_cast<unsigned>(a)); }
constexpr bool contains(ApplicationSet set, Application a) { return (set & application_bit(a)) != 0; }

// "dicom", "hl7", "dhcp", "telnet", "ftp", "tftp", "http", "vnc", "rdp", "smb1", "snmp".
std::string_view to_string(Application a);
std::optional<Application> parse_application(std::string_view name);
// Comma-separated names in enum order; empty for the empty set.
std::string to_string(ApplicationSet set);
// The names one by one, in enum order.
std::vector<std::string> application_names(ApplicationSet set);
// Bits beyond the known applications are dropped (a store written by a newer version).
ApplicationSet known_applications(ApplicationSet set);

// The insecure protocol's name as alerts and warnings print it ("telnet", "SNMPv1/v2c"),
// for the cleartext applications; nullopt for DICOM, HL7 and DHCP.
std::optional<std::string_view> insecure_name(Application a);
// The first insecure application of a set, by enum order.
std::optional<std::string_view> insecure_name(ApplicationSet set);

}  // namespace wardgate
