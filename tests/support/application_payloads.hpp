#pragma once
// Application payloads as their standards lay them out (a DICOM association, a DHCP message)
// and a TCP exchange carrying them, for tests of what the traffic carries.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture_writer.hpp"

namespace wardgate::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

inline void put_be16(Bytes& b, size_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

inline Bytes item(uint8_t type, const Bytes& body) {
    Bytes b{type, 0};
    put_be16(b, body.size());
    b.insert(b.end(), body.begin(), body.end());
    return b;
}

inline std::string padded(std::string title) {
    title.resize(16, ' ');
    return title;
}

// An A-ASSOCIATE-RQ (type 1) or -AC (type 2) as PS3.8 lays it out.
inline Bytes associate(uint8_t type, const std::string& called, const std::string& calling,
                const std::vector<std::string>& abstract_syntaxes,
                const std::string& context = "1.2.840.10008.3.1.1.1") {
    Bytes body{0x00, 0x01, 0x00, 0x00};  // protocol version, reserved
    for (char c : padded(called)) body.push_back(static_cast<uint8_t>(c));
    for (char c : padded(calling)) body.push_back(static_cast<uint8_t>(c));
    body.resize(body.size() + 32, 0);
    auto ctx = item(0x10, bytes_of(context));
    body.insert(body.end(), ctx.begin(), ctx.end());
    uint8_t id = 1;
    for (const auto& uid : abstract_syntaxes) {
        Bytes pc{id, 0, 0, 0};
        id = static_cast<uint8_t>(id + 2);
        auto as = item(0x30, bytes_of(uid));
        auto ts = item(0x40, bytes_of("1.2.840.10008.1.2"));
        pc.insert(pc.end(), as.begin(), as.end());
        pc.insert(pc.end(), ts.begin(), ts.end());
        auto p = item(0x20, pc);
        body.insert(body.end(), p.begin(), p.end());
    }
    auto user = item(0x50, item(0x51, Bytes{0, 0, 0x40, 0}));
    body.insert(body.end(), user.begin(), user.end());
    Bytes pdu{type, 0};
    const size_t n = body.size();
    pdu.push_back(static_cast<uint8_t>(n >> 24));
    pdu.push_back(static_cast<uint8_t>(n >> 16));
    pdu.push_back(static_cast<uint8_t>(n >> 8));
    pdu.push_back(static_cast<uint8_t>(n));
    pdu.insert(pdu.end(), body.begin(), body.end());
    return pdu;
}

// A DHCPv4 message: op, Ethernet hardware address, magic cookie, then options.
inline Bytes dhcp(uint8_t op, const std::vector<Bytes>& options,
                  const std::array<uint8_t, 6>& mac = {0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}) {
    Bytes b(236, 0);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    std::copy(mac.begin(), mac.end(), b.begin() + 28);
    for (uint8_t c : {99, 130, 83, 99}) b.push_back(c);
    for (const auto& o : options) b.insert(b.end(), o.begin(), o.end());
    b.push_back(255);
    return b;
}

inline Bytes option(uint8_t code, const Bytes& value) {
    Bytes b{code, static_cast<uint8_t>(value.size())};
    b.insert(b.end(), value.begin(), value.end());
    return b;
}

// A TCP connection from 10.1.0.5:40000 to 10.1.0.9:port whose client sends `request` and
// whose server sends `answer`; with `handshake` false only the client's packets exist.
inline std::vector<Frame> tcp_exchange(uint16_t port, const Bytes& request, const Bytes& answer, bool handshake, double t0 = 1000,
                                const char* client = "10.1.0.5", const char* server = "10.1.0.9") {
    auto frame = [&](double t, bool from_client, uint8_t flags, const Bytes& payload, uint32_t seq, uint32_t ack) {
        auto segment = tcp(from_client ? 40000 : port, from_client ? port : 40000, flags, 0, seq, ack);
        segment.insert(segment.end(), payload.begin(), payload.end());
        return Frame{t, ethernet(0x0800, ipv4(from_client ? client : server, from_client ? server : client, 6, segment))};
    };
    std::vector<Frame> out;
    if (handshake) {
        out.push_back(frame(t0, true, SYN, {}, 100, 0));
        out.push_back(frame(t0 + 0.001, false, SYN | ACK, {}, 500, 101));
        out.push_back(frame(t0 + 0.002, true, ACK, {}, 101, 501));
    }
    out.push_back(frame(t0 + 0.003, true, ACK | PSH, request, 101, 501));
    if (handshake) out.push_back(frame(t0 + 0.004, false, ACK | PSH, answer, 501, static_cast<uint32_t>(101 + request.size())));
    return out;
}


// One UDP datagram carrying `payload`, in an Ethernet frame.
inline Frame udp_frame(double t, const char* src, uint16_t sport, const char* dst, uint16_t dport, const Bytes& payload) {
    auto datagram = udp(sport, dport);
    datagram[4] = static_cast<uint8_t>((8 + payload.size()) >> 8);
    datagram[5] = static_cast<uint8_t>(8 + payload.size());
    datagram.insert(datagram.end(), payload.begin(), payload.end());
    return Frame{t, ethernet(0x0800, ipv4(src, dst, 17, datagram))};
}

// Gives the Ethernet frames whose IPv4 packet comes from `source` this source MAC.
inline void set_source_mac(std::vector<Frame>& frames, const char* source, const std::array<uint8_t, 6>& mac) {
    const auto from = address_bytes(source);
    for (auto& f : frames)
        if (f.data.size() >= 34 && f.data[12] == 0x08 && f.data[13] == 0x00 &&
            std::equal(from.begin(), from.end(), f.data.begin() + 26))
            std::copy(mac.begin(), mac.end(), f.data.begin() + 6);
}

}  // namespace wardgate::testing
