// Information elements of a data record, and the connection a record describes.
#include <algorithm>
#include <cstring>

#include "field_parse.hpp"
#include "netflow_internal.hpp"

namespace wardgate::netflow {

std::string Exporter::to_string() const {
    std::string host = address.to_string();
    if (address.family == Family::v6) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
}

namespace internal {

namespace {

constexpr double kNtpToUnix = 2208988800.0;  // seconds from 1900 to 1970

double ntp_time(const uint8_t* p) { return double(be32(p)) - kNtpToUnix + double(be32(p + 4)) / 4294967296.0; }

IpAddress ipv4(const uint8_t* p) { return IpAddress::v4(be32(p)); }

IpAddress ipv6(const uint8_t* p) {
    IpAddress a;
    a.family = Family::v6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
}

bool is_group_address(const IpAddress& a) {
    if (a.family == Family::v4) return (a.bytes[0] & 0xF0) == 0xE0 || a.v4_value() == 0xFFFFFFFFu;
    return a.bytes[0] == 0xFF;
}

bool is_icmp_reply(uint8_t ip_protocol, uint8_t type) {
    if (ip_protocol == 1) return type == 0 || type == 14 || type == 16 || type == 18;
    return type == 129 || type == 136;
}

constexpr uint8_t kSyn = 0x02, kAck = 0x10;

bool syn_only(uint8_t flags) { return (flags & kSyn) && !(flags & kAck); }

// Uptime milliseconds to epoch seconds; the difference is taken modulo 2^32 so a
// wrapped uptime counter still gives the right answer.
double from_uptime(uint32_t at, uint32_t uptime_ms, double export_time) {
    auto before = static_cast<int32_t>(uptime_ms - at);
    return export_time - double(before) / 1000.0;
}

void apply_forward(RawFlow& f, const FieldSpec& field, const uint8_t* v, size_t n) {
    switch (field.id) {
        case 1:
        case 85: f.bytes = be_uint(v, n); break;          // octetDeltaCount, octetTotalCount
        case 2:
        case 86: f.packets = be_uint(v, n); break;        // packetDeltaCount, packetTotalCount
        case 4: f.ip_protocol = static_cast<uint8_t>(be_uint(v, n)); break;
        case 6: f.tcp_flags = static_cast<uint8_t>(be_uint(v, n)); break;  // low byte: the flags
        case 7: f.source_port = static_cast<uint16_t>(be_uint(v, n)); break;
        case 11: f.destination_port = static_cast<uint16_t>(be_uint(v, n)); break;
        case 8: if (n == 4) f.source = ipv4(v); break;
        case 12: if (n == 4) f.destination = ipv4(v); break;
        case 27: if (n == 16) f.source = ipv6(v); break;
        case 28: if (n == 16) f.destination = ipv6(v); break;
        case 32:
        case 139: f.icmp_type_code = static_cast<uint16_t>(be_uint(v, n)); break;
        case 21: f.last_uptime = static_cast<uint32_t>(be_uint(v, n)); break;
        case 22: f.first_uptime = static_cast<uint32_t>(be_uint(v, n)); break;
        case 34: f.sampling_interval = static_cast<uint32_t>(be_uint(v, n)); break;
        case 305: f.sampling_packet_interval = static_cast<uint32_t>(be_uint(v, n)); break;
        case 306: f.sampling_packet_space = static_cast<uint32_t>(be_uint(v, n)); break;
        case 150: f.start = double(be_uint(v, n)); break;
        case 151: f.end = double(be_uint(v, n)); break;
        case 152: f.start = double(be_uint(v, n)) / 1000.0; break;
        case 153: f.end = double(be_uint(v, n)) / 1000.0; break;
        case 154:
        case 156: if (n == 8) f.start = ntp_time(v); break;
        case 155:
        case 157: if (n == 8) f.end = ntp_time(v); break;
        case 160: f.system_init = double(be_uint(v, n)) / 1000.0; break;
        default: break;
    }
}

void apply_reverse(RawFlow& f, const FieldSpec& field, const uint8_t* v, size_t n) {
    switch (field.id) {
        case 1:
        case 85: f.reverse_bytes = be_uint(v, n); f.biflow = true; break;
        case 2:
        case 86: f.reverse_packets = be_uint(v, n); f.biflow = true; break;
        case 6: f.reverse_tcp_flags = static_cast<uint8_t>(be_uint(v, n)); f.biflow = true; break;
        default: break;
    }
}

}  // namespace

void apply_field(RawFlow& flow, const FieldSpec& field, const uint8_t* value, size_t length, const ExportClock& clock) {
    if (field.enterprise == kReversePen) return apply_reverse(flow, field, value, length);
    if (field.enterprise != 0) return;
    apply_forward(flow, field, value, length);
    if (field.id == 158 && length >= 4)  // flowStartDeltaMicroseconds, before export
        flow.start = clock.export_time - double(be_uint(value, length)) / 1e6;
    if (field.id == 159 && length >= 4) flow.end = clock.export_time - double(be_uint(value, length)) / 1e6;
}

void decide_direction(NetflowRecord& r, std::optional<uint16_t> icmp_type_code) {
    const uint8_t proto = r.ip_protocol;
    bool flip = false;
    r.direction = DirectionSource::first_packet;
    if (proto == 1 || proto == 58) {
        flip = icmp_type_code && is_icmp_reply(proto, static_cast<uint8_t>(*icmp_type_code >> 8));
    } else {
        const bool forward_syn = proto == 6 && syn_only(r.tcp_flags);
        const bool reverse_syn = proto == 6 && r.biflow && syn_only(r.reverse_tcp_flags);
        if (forward_syn != reverse_syn) {
            flip = reverse_syn;
            r.direction = DirectionSource::handshake;
        } else {
            int responder = responder_by_ports(r.source_port, r.destination_port);
            if (responder >= 0) {
                flip = responder == 0;
                r.direction = DirectionSource::ports;
            }
        }
    }
    if (flip && is_group_address(r.destination)) {
        flip = false;
        r.direction = DirectionSource::first_packet;
    }
    r.reply_direction = flip;

    FlowRecord& f = r.flow;
    f.protocol = static_cast<Protocol>(proto == 58 ? 1 : proto);
    f.initiator = flip ? r.destination : r.source;
    f.responder = flip ? r.source : r.destination;
    f.responder_port = !has_ports(f.protocol) ? 0 : flip ? r.source_port : r.destination_port;
    // The requester's ICMP message; a reply record tells only that a request came before.
    if (f.protocol == Protocol::icmp && icmp_type_code && !flip)
        f.responder_port = icmp_port(static_cast<uint8_t>(*icmp_type_code >> 8), static_cast<uint8_t>(*icmp_type_code & 0xff));
    f.start = r.start;
    f.duration = std::max(0.0, r.end - r.start);
    f.bytes = r.bytes + r.reverse_bytes;
    if (r.biflow) {
        f.established = r.packets > 0 && r.reverse_packets > 0;
        f.connections = 1;
    } else {
        f.established = flip;
        f.connections = flip ? 0 : 1;
    }
}

Built build_record(const RawFlow& flow, const ExportClock& clock, NetflowRecord& out) {
    if (!flow.source || !flow.destination || flow.source->family != flow.destination->family)
        return Built::no_addresses;
    const uint8_t p = flow.ip_protocol;
    if (!protocol_from_number(p)) return Built::other_protocol;
    out.source = *flow.source;
    out.destination = *flow.destination;
    out.source_port = flow.source_port;
    out.destination_port = flow.destination_port;
    out.ip_protocol = p;
    out.tcp_flags = flow.tcp_flags;
    out.bytes = flow.bytes;
    out.packets = flow.packets;
    out.biflow = flow.biflow;
    out.reverse_tcp_flags = flow.reverse_tcp_flags;
    out.reverse_bytes = flow.reverse_bytes;
    out.reverse_packets = flow.reverse_packets;

    std::optional<double> start = flow.start, end = flow.end;
    if (flow.first_uptime || flow.last_uptime) {
        // NetFlow: milliseconds of router uptime. IPFIX: since the exporter's system
        // init time, which an options record (IE 160) tells.
        auto convert = [&](uint32_t at) -> std::optional<double> {
            if (clock.uptime_ms) return from_uptime(at, *clock.uptime_ms, clock.export_time);
            if (clock.system_init) return *clock.system_init + double(at) / 1000.0;
            return std::nullopt;
        };
        if (!start && flow.first_uptime) start = convert(*flow.first_uptime);
        if (!end && flow.last_uptime) end = convert(*flow.last_uptime);
    }
    // A 64-bit time element can name any year; one outside 1970-9999 is as good as absent.
    auto in_range = [](std::optional<double> t) { return t && flows_internal::valid_seconds(*t) ? t : std::nullopt; };
    start = in_range(start);
    end = in_range(end);
    out.start = start.value_or(end.value_or(clock.export_time));
    out.end = end.value_or(out.start);
    // ICMP type and code: in their own element, or where NetFlow v5 and v9 exporters
    // put them, the destination port (type << 8 | code).
    std::optional<uint16_t> type_code = flow.icmp_type_code;
    if (!type_code && out.version != 10) type_code = flow.destination_port;
    decide_direction(out, type_code);
    return Built::record;
}

}  // namespace internal

}  // namespace wardgate::netflow
