#pragma once
// What the decoder keeps between datagrams: templates, held data sets and sequence
// numbers per exporter and domain, counters, sampling rates, recent malformations.
#include <deque>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "netflow_internal.hpp"

namespace wardgate::netflow {

namespace internal {

struct DomainKey {
    IpAddress address;
    uint8_t version = 0;
    uint32_t domain = 0;
    auto operator<=>(const DomainKey&) const = default;
};

// A data set that came before its template.
struct HeldSet {
    uint16_t template_id = 0;
    std::vector<uint8_t> bytes;  // the set's records, without the set header
    size_t offset = 0;           // of the records in their datagram
    ExportClock clock;
};

// What an IPFIX exporter's sequence number counts: the data records before the message
// (RFC 7011), or, as softflowd 1.1 sends it, those up to and including the message.
enum class SequenceStyle { unknown, before, including };

struct DomainState {
    std::unordered_map<uint16_t, Template> templates;
    std::deque<HeldSet> held;
    std::optional<uint32_t> next_sequence;  // v5, v9
    std::optional<double> system_init;
    // IPFIX: the previous message's sequence number and data records (when all were counted).
    std::optional<uint32_t> last_sequence;
    std::optional<uint64_t> last_records;
    SequenceStyle style = SequenceStyle::unknown;
};

// The datagram being decoded.
struct Packet {
    const Exporter* exporter = nullptr;
    uint8_t version = 0;
    uint32_t domain = 0;
    DomainState* state = nullptr;
    ExportClock clock;
    bool malformed = false;
};

}  // namespace internal

struct Decoder::Impl {
    DecoderOptions options;
    DecoderCounters counters;
    std::map<internal::DomainKey, internal::DomainState> domains;
    std::map<std::tuple<std::string, uint8_t, uint32_t>, Sampling> sampling;
    std::deque<Malformation> recent;
    std::vector<NetflowRecord> out;

    void decode(const Exporter& exporter, const uint8_t* bytes, size_t size);
    void decode_v5(internal::Packet& packet, const uint8_t* bytes, size_t size);
    void decode_v9(internal::Packet& packet, const uint8_t* bytes, size_t size);
    void decode_ipfix(internal::Packet& packet, const uint8_t* bytes, size_t size);

    internal::DomainState& domain(const Exporter& exporter, uint8_t version, uint32_t domain);
    void malformed(internal::Packet& packet, const char* reason, size_t offset);
    // Adds a gap between the expected and the received sequence number to lost.
    void check_sequence(internal::Packet& packet, uint32_t sequence, uint64_t& lost);
    void check_ipfix_sequence(internal::Packet& packet, uint32_t sequence, std::optional<uint64_t> records);
    void count_gap(uint32_t gap, uint64_t& lost);
    void note_sampling(const internal::Packet& packet, uint32_t interval, const char* origin);

    // Template and options template sets.
    void template_set(internal::Packet& packet, uint16_t set_id, const uint8_t* p, size_t length, size_t offset);
    // A data set: its records are decoded, or the set is held until its template comes.
    // Returns the number of data records, or nothing when it is not known.
    std::optional<uint64_t> data_set(internal::Packet& packet, uint16_t template_id, const uint8_t* p, size_t length,
                                     size_t offset);
    uint64_t decode_records(internal::Packet& packet, const internal::Template& t, const uint8_t* p, size_t length,
                            size_t offset);
    void hold(internal::Packet& packet, uint16_t template_id, const uint8_t* p, size_t length, size_t offset);
    void release_held(internal::Packet& packet, uint16_t template_id);
    void expire_held(internal::Packet& packet);
    void add_record(internal::Packet& packet, const internal::RawFlow& raw, const internal::ExportClock& clock);
};

}  // namespace wardgate::netflow
