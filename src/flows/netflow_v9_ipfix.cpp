// NetFlow v9 and IPFIX messages: a header, then sets of templates or data records.
#include "netflow_decoder_state.hpp"

namespace wardgate::netflow {

using namespace internal;

namespace {

constexpr size_t kV9Header = 20;
constexpr size_t kIpfixHeader = 16;
constexpr size_t kSetHeader = 4;

}  // namespace

void Decoder::Impl::decode_v9(Packet& packet, const uint8_t* b, size_t size) {
    if (size < kV9Header) return malformed(packet, kShortHeader, size);
    packet.clock.uptime_ms = be32(b + 4);
    packet.clock.export_seconds = be32(b + 8);
    packet.clock.export_time = be32(b + 8);
    const uint32_t sequence = be32(b + 12);
    packet.domain = be32(b + 16);
    packet.state = &domain(*packet.exporter, 9, packet.domain);
    check_sequence(packet, sequence, counters.lost_packets);
    packet.state->next_sequence = sequence + 1;
    expire_held(packet);

    size_t offset = kV9Header;
    while (size - offset >= kSetHeader) {
        const uint16_t id = be16(b + offset);
        const uint16_t length = be16(b + offset + 2);
        if (length < kSetHeader || length > size - offset) return malformed(packet, kSetLength, offset + 2);
        const uint8_t* body = b + offset + kSetHeader;
        const size_t body_offset = offset + kSetHeader;
        if (id == 0 || id == 1)
            template_set(packet, id, body, length - kSetHeader, body_offset);
        else if (id >= 256)
            data_set(packet, id, body, length - kSetHeader, body_offset);
        else
            ++counters.skipped["reserved set id"];
        offset += length;
    }
}

void Decoder::Impl::decode_ipfix(Packet& packet, const uint8_t* b, size_t size) {
    if (size < kIpfixHeader) return malformed(packet, kShortHeader, size);
    const uint16_t length = be16(b + 2);
    if (length < kIpfixHeader || length > size) return malformed(packet, kMessageLength, 2);
    size = length;  // bytes after the message are not part of it
    packet.clock.export_seconds = be32(b + 4);
    packet.clock.export_time = be32(b + 4);
    const uint32_t sequence = be32(b + 8);
    packet.domain = be32(b + 12);
    packet.state = &domain(*packet.exporter, 10, packet.domain);
    packet.clock.system_init = packet.state->system_init;
    expire_held(packet);

    // The sequence number counts data records; when a set cannot be counted the
    // next message's number is taken as it comes.
    uint64_t records = 0;
    bool counted = true;
    size_t offset = kIpfixHeader;
    while (size - offset >= kSetHeader) {
        const uint16_t id = be16(b + offset);
        const uint16_t set_length = be16(b + offset + 2);
        if (set_length < kSetHeader || set_length > size - offset) {
            malformed(packet, kSetLength, offset + 2);
            counted = false;
            break;
        }
        const uint8_t* body = b + offset + kSetHeader;
        const size_t body_offset = offset + kSetHeader;
        if (id == 2 || id == 3) {
            template_set(packet, id, body, set_length - kSetHeader, body_offset);
        } else if (id >= 256) {
            auto n = data_set(packet, id, body, set_length - kSetHeader, body_offset);
            if (n)
                records += *n;
            else
                counted = false;
        } else {
            ++counters.skipped["reserved set id"];
        }
        offset += set_length;
    }
    check_ipfix_sequence(packet, sequence, counted ? std::optional<uint64_t>(records) : std::nullopt);
}

}  // namespace wardgate::netflow
