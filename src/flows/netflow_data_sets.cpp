// Data sets: records read through their template, or held until the template comes.
#include <algorithm>

#include "netflow_decoder_state.hpp"

namespace wardgate::netflow {

using namespace internal;

std::optional<uint64_t> Decoder::Impl::data_set(Packet& packet, uint16_t template_id, const uint8_t* p, size_t length,
                                                size_t offset) {
    auto it = packet.state->templates.find(template_id);
    if (it == packet.state->templates.end()) {
        ++counters.unknown_template_sets;
        hold(packet, template_id, p, length, offset);
        return std::nullopt;
    }
    return decode_records(packet, it->second, p, length, offset);
}

uint64_t Decoder::Impl::decode_records(Packet& packet, const Template& t, const uint8_t* p, size_t length,
                                       size_t offset) {
    uint64_t n = 0;
    size_t pos = 0;
    while (length - pos >= t.min_length) {
        RawFlow f;
        size_t q = pos;
        bool overrun = false;
        for (size_t i = 0; i < t.fields.size() && !overrun; ++i) {
            const FieldSpec& field = t.fields[i];
            size_t size = field.length;
            if (size == kVariableLength) {
                if (length - q < 1) { overrun = true; break; }
                size = p[q++];
                if (size == 255) {
                    if (length - q < 2) { overrun = true; break; }
                    size = be16(p + q);
                    q += 2;
                }
            }
            if (length - q < size) { overrun = true; break; }
            // Scope fields of options records name what the options apply to; their type
            // numbers in NetFlow v9 overlap the flow fields', so they are not read as such.
            if (!t.options || i >= t.scope_count) apply_field(f, field, p + q, size, packet.clock);
            q += size;
        }
        if (overrun) {
            if (!std::all_of(p + pos, p + length, [](uint8_t b) { return b == 0; }))
                malformed(packet, kRecordOverrun, offset + pos);
            break;
        }
        pos = q;
        ++n;
        if (f.sampling_interval && *f.sampling_interval > 0)
            note_sampling(packet, *f.sampling_interval, "IE 34 samplingInterval");
        if (f.sampling_packet_interval && f.sampling_packet_space && *f.sampling_packet_interval > 0)
            note_sampling(packet,
                          (*f.sampling_packet_interval + *f.sampling_packet_space) / *f.sampling_packet_interval,
                          "IE 305/306 packet interval/space");
        if (f.system_init) {
            packet.state->system_init = f.system_init;
            packet.clock.system_init = f.system_init;
        }
        if (t.options)
            ++counters.options_records;
        else
            add_record(packet, f, packet.clock);
    }
    return n;
}

void Decoder::Impl::hold(Packet& packet, uint16_t template_id, const uint8_t* p, size_t length, size_t offset) {
    auto& held = packet.state->held;
    if (options.max_held_sets == 0) {
        ++counters.held_sets_dropped;
        return;
    }
    if (held.size() >= options.max_held_sets) {
        held.pop_front();
        ++counters.held_sets_dropped;
    }
    held.push_back(HeldSet{template_id, std::vector<uint8_t>(p, p + length), offset, packet.clock});
}

void Decoder::Impl::release_held(Packet& packet, uint16_t template_id) {
    auto& held = packet.state->held;
    if (held.empty()) return;
    const Template& t = packet.state->templates.at(template_id);
    const ExportClock now = packet.clock;
    for (auto it = held.begin(); it != held.end();) {
        if (it->template_id != template_id) {
            ++it;
            continue;
        }
        HeldSet set = std::move(*it);
        it = held.erase(it);
        packet.clock = set.clock;
        if (!packet.clock.system_init) packet.clock.system_init = packet.state->system_init;
        decode_records(packet, t, set.bytes.data(), set.bytes.size(), set.offset);
        ++counters.held_sets_decoded;
    }
    packet.clock = now;
}

void Decoder::Impl::expire_held(Packet& packet) {
    auto& held = packet.state->held;
    const uint32_t now = packet.clock.export_seconds;
    auto old = [&](const HeldSet& s) {
        return now > s.clock.export_seconds && now - s.clock.export_seconds > options.hold_seconds;
    };
    counters.held_sets_dropped += std::erase_if(held, old);
}

}  // namespace wardgate::netflow
