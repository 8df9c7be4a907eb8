// NetFlow v5: a 24-byte header and up to 30 fixed 48-byte IPv4 records.
#include "netflow_decoder_state.hpp"

namespace wardgate::netflow {

using namespace internal;

namespace {

constexpr size_t kHeader = 24;
constexpr size_t kRecord = 48;

}  // namespace

void Decoder::Impl::decode_v5(Packet& packet, const uint8_t* b, size_t size) {
    if (size < kHeader) return malformed(packet, kShortHeader, size);
    const uint16_t count = be16(b + 2);
    packet.clock.uptime_ms = be32(b + 4);
    packet.clock.export_seconds = be32(b + 8);
    packet.clock.export_time = double(be32(b + 8)) + double(be32(b + 12)) / 1e9;
    const uint32_t sequence = be32(b + 16);
    packet.domain = uint32_t{b[20]} << 8 | b[21];
    packet.state = &domain(*packet.exporter, 5, packet.domain);

    // Two bits of sampling mode, fourteen of interval; 0 and 1 mean every packet.
    const uint16_t interval = be16(b + 22) & 0x3FFF;
    if (interval > 1) note_sampling(packet, interval, "v5 header");

    check_sequence(packet, sequence, counters.lost_records);
    packet.state->next_sequence = sequence + count;

    size_t complete = (size - kHeader) / kRecord;
    if (count > complete) malformed(packet, kV5CountOverrun, kHeader + complete * kRecord);
    const size_t n = std::min<size_t>(count, complete);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* r = b + kHeader + i * kRecord;
        RawFlow f;
        f.source = IpAddress::v4(be32(r));
        f.destination = IpAddress::v4(be32(r + 4));
        f.packets = be32(r + 16);
        f.bytes = be32(r + 20);
        f.first_uptime = be32(r + 24);
        f.last_uptime = be32(r + 28);
        f.source_port = be16(r + 32);
        f.destination_port = be16(r + 34);
        f.tcp_flags = r[37];
        f.ip_protocol = r[38];
        add_record(packet, f, packet.clock);
    }
}

}  // namespace wardgate::netflow
