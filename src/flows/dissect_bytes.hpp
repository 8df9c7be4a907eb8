#pragma once
// Bounds-checked reading of a captured payload for the application dissectors.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wardgate::flows_internal {

using Bytes = std::span<const uint8_t>;

inline uint16_t be16(Bytes b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
inline uint32_t be32(Bytes b, size_t at) {
    return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}

inline std::string_view as_text(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

inline bool starts_with(Bytes b, std::string_view prefix) { return as_text(b).starts_with(prefix); }

// Printable ASCII only, for details a person reads: anything else becomes '?', and the
// text is cut at `limit` characters.
std::string printable(std::string_view text, size_t limit = 64);

// The DHCP options of a BOOTP message; the DICOM, HL7 and cleartext dissectors. Each
// returns the clue bits the payload shows and may fill detail.
uint32_t dissect_dicom(Bytes payload, std::string& detail);
uint32_t dissect_hl7(Bytes payload, std::string& detail);
uint32_t dissect_dhcp(Bytes payload, std::string& detail);
uint32_t dissect_dhcpv6(Bytes payload, std::string& detail);
uint32_t dissect_tcp_cleartext(Bytes payload, std::string& detail);
uint32_t dissect_udp_cleartext(Bytes payload, std::string& detail);

}  // namespace wardgate::flows_internal
