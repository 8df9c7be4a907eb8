#pragma once
// Pieces the NetFlow v5, v9 and IPFIX decoders share: big-endian reads, templates,
// the fields of one record as they are read, and turning them into a NetflowRecord.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "wardgate/flows/netflow.hpp"

namespace wardgate::netflow::internal {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
// An unsigned integer of 1 to 8 bytes (IPFIX reduced-size encoding); longer fields keep the low 8 bytes.
inline uint64_t be_uint(const uint8_t* p, size_t length) {
    uint64_t v = 0;
    size_t skip = length > 8 ? length - 8 : 0;
    for (size_t i = skip; i < length; ++i) v = v << 8 | p[i];
    return v;
}

constexpr uint16_t kVariableLength = 65535;
constexpr uint32_t kReversePen = 29305;  // RFC 5103 reverse information elements

struct FieldSpec {
    uint16_t id = 0;
    uint16_t length = 0;      // kVariableLength: IPFIX variable-length field
    uint32_t enterprise = 0;  // 0: IANA
};

struct Template {
    uint16_t id = 0;
    bool options = false;
    uint16_t scope_count = 0;  // options templates: the first fields are scope fields
    std::vector<FieldSpec> fields;
    size_t min_length = 0;     // a record is at least this long (variable fields count one byte)
    bool variable = false;
};

// Export header values the times in a record are relative to.
struct ExportClock {
    uint32_t export_seconds = 0;
    double export_time = 0;              // with sub-second part when the header has one
    std::optional<uint32_t> uptime_ms;   // v5, v9: router uptime at export
    std::optional<double> system_init;   // IPFIX: epoch seconds of IE 160, from options data
};

// The fields of one data record as they are read.
struct RawFlow {
    std::optional<IpAddress> source, destination;
    uint16_t source_port = 0, destination_port = 0;
    uint8_t ip_protocol = 0;
    uint8_t tcp_flags = 0, reverse_tcp_flags = 0;
    uint64_t bytes = 0, packets = 0, reverse_bytes = 0, reverse_packets = 0;
    bool biflow = false;
    std::optional<uint16_t> icmp_type_code;
    std::optional<double> start, end;
    std::optional<uint32_t> first_uptime, last_uptime;  // IE 22 / 21, milliseconds
    std::optional<uint32_t> sampling_interval;          // IE 34
    std::optional<uint32_t> sampling_packet_interval, sampling_packet_space;  // IE 305 / 306
    std::optional<double> system_init;                  // IE 160
};

// Reads one field of a data record into flow.
void apply_field(RawFlow& flow, const FieldSpec& field, const uint8_t* value, size_t length, const ExportClock& clock);

enum class Built { record, no_addresses, other_protocol };

// Fills out.flow and the direction from the exported fields. Returns why not when the
// record does not describe a TCP, UDP or ICMP flow between two addresses.
Built build_record(const RawFlow& flow, const ExportClock& clock, NetflowRecord& out);
// Decides initiator and responder of a record whose exported fields are set.
void decide_direction(NetflowRecord& r, std::optional<uint16_t> icmp_type_code);

}  // namespace wardgate::netflow::internal
