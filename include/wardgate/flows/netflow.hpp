#pragma once
// NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011, biflows per RFC 5103) export
// packets decoded into flow records. Bytes in, records and counters out: no sockets,
// no clock, no exceptions for bad input.
//
// Templates (and options templates) are kept per (exporter address, version, source id
// or observation domain) and replaced when re-sent. A data set whose template has not
// arrived is counted and held (a bounded number, for a bounded export time) and decoded
// when the template comes. Sequence numbers are tracked per exporter and domain: NetFlow
// v5 and IPFIX count records, so a gap is records lost; NetFlow v9 counts packets.
//
// Who initiated a flow: a side whose TCP flags show SYN without ACK initiated it;
// otherwise the ports decide (responder_by_ports in wardgate/flows/pcap.hpp), and when
// they do not, the exporter's source is taken as the initiator. Multicast and broadcast
// destinations never initiate; ICMP replies name the other side.
//
// A record in the reply direction (the exporter's source is the responder) counts no
// connection: it adds bytes to the edge and marks it established, so a connection
// exported as two unidirectional records is one connection.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wardgate/core/net.hpp"
#include "wardgate/flows/flow_record.hpp"
#include "wardgate/flows/pcap.hpp"

namespace wardgate::netflow {

// Where a datagram came from.
struct Exporter {
    IpAddress address;
    uint16_t port = 0;
    std::string to_string() const;  // "192.0.2.1:2055", "[2001:db8::1]:4739"
};

// A decoded flow record: the fields as exported, and the connection they describe.
struct NetflowRecord {
    uint8_t version = 0;      // 5, 9 or 10 (IPFIX)
    uint32_t domain = 0;      // v5 engine type << 8 | engine id; v9 source id; IPFIX observation domain
    IpAddress source;         // as exported
    IpAddress destination;
    uint16_t source_port = 0;
    uint16_t destination_port = 0;
    uint8_t ip_protocol = 0;
    uint8_t tcp_flags = 0;
    uint64_t bytes = 0;       // source to destination
    uint64_t packets = 0;
    bool biflow = false;      // IPFIX with reverse information elements (PEN 29305)
    uint8_t reverse_tcp_flags = 0;
    uint64_t reverse_bytes = 0;  // destination to source, biflows only
    uint64_t reverse_packets = 0;
    double start = 0;         // seconds since the epoch; 0 when the record carries no time
    double end = 0;
    DirectionSource direction = DirectionSource::first_packet;
    bool reply_direction = false;  // the exporter's source is the responder
    FlowRecord flow;          // initiator, responder, protocol, responder port, bytes both ways
};

// A packet or part of one that could not be decoded.
struct Malformation {
    std::string reason;   // one of the reasons below
    std::string exporter;
    uint8_t version = 0;  // 0 when the version itself is unknown
    size_t offset = 0;    // byte offset in the datagram where decoding stopped
};

// Malformation reasons.
inline constexpr const char* kShortHeader = "short header";
inline constexpr const char* kUnknownVersion = "unknown version";
inline constexpr const char* kV5CountOverrun = "v5 record count beyond packet";
inline constexpr const char* kMessageLength = "message length beyond packet";
inline constexpr const char* kSetLength = "set length out of range";
inline constexpr const char* kTemplateOverrun = "template beyond set";
inline constexpr const char* kTemplateId = "template id below 256";
inline constexpr const char* kZeroLengthField = "zero-length template field";
inline constexpr const char* kVariableLengthV9 = "variable-length field in v9 template";
inline constexpr const char* kEmptyTemplate = "template without fields";
inline constexpr const char* kOptionsLength = "v9 options template length not a multiple of 4";
inline constexpr const char* kScopeCount = "options template without scope";
inline constexpr const char* kRecordTooLong = "template record longer than a packet";
inline constexpr const char* kRecordOverrun = "data record beyond set";

// A sampling rate an exporter reported: 1 in `interval` packets.
struct Sampling {
    std::string exporter;
    uint8_t version = 0;
    uint32_t domain = 0;
    uint32_t interval = 0;
    std::string origin;  // "v5 header", "IE 34 samplingInterval", "IE 305/306 packet interval/space"
};

struct DecoderCounters {
    uint64_t packets = 0;                 // datagrams given to decode()
    std::map<uint8_t, uint64_t> packets_by_version;
    uint64_t records = 0;                 // flow records produced
    uint64_t options_records = 0;         // options data records read (sampling, exporter info)
    std::map<std::string, uint64_t> skipped;  // well-formed records not turned into flows, by reason
    uint64_t templates = 0;               // template and options template records read (re-sent ones included)
    uint64_t template_withdrawals = 0;
    uint64_t unknown_template_sets = 0;   // data sets that arrived before their template
    uint64_t held_sets_decoded = 0;       // of those, decoded when the template came
    uint64_t held_sets_dropped = 0;       // of those, dropped (too old, too many)
    uint64_t lost_records = 0;            // v5 and IPFIX sequence gaps
    uint64_t lost_packets = 0;            // v9 sequence gaps
    uint64_t sequence_resets = 0;         // a sequence number went backwards (restart, reordering)
    uint64_t malformed_packets = 0;       // datagrams with at least one malformation
    std::map<std::string, uint64_t> malformed;  // reason -> count
};

struct DecoderOptions {
    size_t max_held_sets = 256;       // per exporter and domain
    uint32_t hold_seconds = 30;       // of export time
    size_t kept_malformations = 64;   // most recent, with exporter and offset
};

class Decoder {
public:
    explicit Decoder(const DecoderOptions& options = {});
    ~Decoder();
    Decoder(Decoder&&) noexcept;
    Decoder& operator=(Decoder&&) noexcept;

    // Decodes one datagram. The records are valid until the next call.
    std::span<const NetflowRecord> decode(const Exporter& exporter, const uint8_t* bytes, size_t size);

    const DecoderCounters& counters() const;
    // The latest sampling rate per exporter, version and domain.
    std::vector<Sampling> sampling() const;
    // The most recent malformations, oldest first.
    std::vector<Malformation> malformations() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One datagram through a fresh decoder; returns the number of flow records. Never throws for bad input.
size_t decode(const Exporter& exporter, const uint8_t* bytes, size_t size);

}  // namespace wardgate::netflow
