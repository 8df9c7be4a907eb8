// Datagram dispatch by version, counters, sequence numbers and sampling.
#include "netflow_decoder_state.hpp"

namespace wardgate::netflow {

using namespace internal;

Decoder::Decoder(const DecoderOptions& options) : impl_(std::make_unique<Impl>()) { impl_->options = options; }
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

std::span<const NetflowRecord> Decoder::decode(const Exporter& exporter, const uint8_t* bytes, size_t size) {
    impl_->out.clear();
    impl_->decode(exporter, bytes, size);
    return impl_->out;
}

size_t decode(const Exporter& exporter, const uint8_t* bytes, size_t size) {
    Decoder d;
    return d.decode(exporter, bytes, size).size();
}

const DecoderCounters& Decoder::counters() const { return impl_->counters; }

std::vector<Sampling> Decoder::sampling() const {
    std::vector<Sampling> all;
    for (const auto& [key, s] : impl_->sampling) all.push_back(s);
    return all;
}

std::vector<Malformation> Decoder::malformations() const { return {impl_->recent.begin(), impl_->recent.end()}; }

void Decoder::Impl::decode(const Exporter& exporter, const uint8_t* bytes, size_t size) {
    ++counters.packets;
    Packet packet;
    packet.exporter = &exporter;
    if (size < 2 || bytes == nullptr) {
        malformed(packet, kShortHeader, 0);
    } else {
        const uint16_t version = be16(bytes);
        switch (version) {
            case 5: packet.version = 5; decode_v5(packet, bytes, size); break;
            case 9: packet.version = 9; decode_v9(packet, bytes, size); break;
            case 10: packet.version = 10; decode_ipfix(packet, bytes, size); break;
            default: malformed(packet, kUnknownVersion, 0); break;
        }
        if (packet.version) ++counters.packets_by_version[packet.version];
    }
    if (packet.malformed) ++counters.malformed_packets;
}

DomainState& Decoder::Impl::domain(const Exporter& exporter, uint8_t version, uint32_t id) {
    return domains[DomainKey{exporter.address, version, id}];
}

void Decoder::Impl::malformed(Packet& packet, const char* reason, size_t offset) {
    packet.malformed = true;
    ++counters.malformed[reason];
    if (options.kept_malformations == 0) return;
    if (recent.size() == options.kept_malformations) recent.pop_front();
    recent.push_back(Malformation{reason, packet.exporter->to_string(), packet.version, offset});
}

void Decoder::Impl::check_sequence(Packet& packet, uint32_t sequence, uint64_t& lost) {
    auto& expected = packet.state->next_sequence;
    if (!expected) return;
    count_gap(sequence - *expected, lost);  // modulo 2^32: the counters wrap
}

void Decoder::Impl::count_gap(uint32_t gap, uint64_t& lost) {
    if (gap == 0) return;
    if (gap < 0x80000000u)
        lost += gap;
    else
        ++counters.sequence_resets;
}

void Decoder::Impl::check_ipfix_sequence(Packet& packet, uint32_t sequence, std::optional<uint64_t> records) {
    DomainState& s = *packet.state;
    const auto last = s.last_sequence;
    const auto last_records = s.last_records;
    s.last_sequence = sequence;
    s.last_records = records;
    if (!last) return;
    std::optional<uint32_t> before, including;
    if (last_records) before = sequence - static_cast<uint32_t>(*last + *last_records);
    if (records) including = sequence - static_cast<uint32_t>(*last + *records);
    // The style shows when exactly one reading has no gap.
    if (s.style == SequenceStyle::unknown && before && including && (*before == 0) != (*including == 0))
        s.style = *before == 0 ? SequenceStyle::before : SequenceStyle::including;
    const auto gap = s.style == SequenceStyle::including ? including : before;
    if (gap) count_gap(*gap, counters.lost_records);
}

void Decoder::Impl::note_sampling(const Packet& packet, uint32_t interval, const char* origin) {
    std::string exporter = packet.exporter->address.to_string();
    auto& s = sampling[{exporter, packet.version, packet.domain}];
    s = Sampling{std::move(exporter), packet.version, packet.domain, interval, origin};
}

void Decoder::Impl::add_record(Packet& packet, const RawFlow& raw, const ExportClock& clock) {
    NetflowRecord r;
    r.version = packet.version;
    r.domain = packet.domain;
    switch (build_record(raw, clock, r)) {
        case Built::record:
            out.push_back(r);
            ++counters.records;
            break;
        case Built::no_addresses: ++counters.skipped["no source and destination address"]; break;
        case Built::other_protocol: ++counters.skipped["not a transport protocol (IPv6 extension header or reserved number)"]; break;
    }
}

}  // namespace wardgate::netflow
