#pragma once
// Hand-built packets and a classic pcap writer (little-endian, microsecond timestamps),
// for tests of the capture reader.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "wardgate/core/net.hpp"

namespace wardgate::testing {

using PacketBytes = std::vector<uint8_t>;

inline void put16(PacketBytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void put32(PacketBytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
inline void append(PacketBytes& b, const PacketBytes& more) { b.insert(b.end(), more.begin(), more.end()); }

inline PacketBytes address_bytes(const char* text) {
    auto a = *IpAddress::parse(text);
    return PacketBytes(a.bytes.begin(), a.bytes.begin() + (a.family == Family::v4 ? 4 : 16));
}

// seq and ack as given; the other fields fixed.
inline PacketBytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, size_t payload = 0, uint32_t seq = 1,
                       uint32_t ack = 0) {
    PacketBytes b;
    put16(b, sport);
    put16(b, dport);
    put32(b, seq);
    put32(b, ack);
    b.push_back(5 << 4);
    b.push_back(flags);
    put16(b, 65535);
    put32(b, 0);
    b.resize(b.size() + payload, 'x');
    return b;
}

inline PacketBytes udp(uint16_t sport, uint16_t dport, size_t payload = 0) {
    PacketBytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, static_cast<uint16_t>(8 + payload));
    put16(b, 0);
    b.resize(b.size() + payload, 'u');
    return b;
}

// ICMP or ICMPv6: type, code, checksum (not computed), 4 bytes of rest-of-header (echo id and sequence).
inline PacketBytes icmp(uint8_t type, uint8_t code = 0, size_t payload = 0) {
    PacketBytes b{type, code, 0, 0, 0, 1, 0, 1};
    b.resize(b.size() + payload, 'i');
    return b;
}

inline PacketBytes ipv4(const char* src, const char* dst, uint8_t protocol, const PacketBytes& body, uint16_t id = 1,
           uint16_t fragment = 0) {
    PacketBytes b;
    b.push_back(0x45);
    b.push_back(0);
    put16(b, static_cast<uint16_t>(20 + body.size()));
    put16(b, id);
    put16(b, fragment);
    b.push_back(64);
    b.push_back(protocol);
    put16(b, 0);
    append(b, address_bytes(src));
    append(b, address_bytes(dst));
    append(b, body);
    return b;
}

// IPv6 with a hop-by-hop options header and, when fragment_offset >= 0, a fragment header.
inline PacketBytes ipv6(const char* src, const char* dst, uint8_t protocol, const PacketBytes& body, int fragment_offset = -1,
           bool more = false, uint32_t id = 7) {
    PacketBytes ext;
    uint8_t first_next = 0;  // hop-by-hop
    uint8_t after_hop = fragment_offset >= 0 ? 44 : protocol;
    ext.push_back(after_hop);
    ext.push_back(0);  // 8 bytes
    ext.resize(8, 0);
    if (fragment_offset >= 0) {
        ext.push_back(protocol);
        ext.push_back(0);
        put16(ext, static_cast<uint16_t>(fragment_offset << 3 | (more ? 1 : 0)));
        put32(ext, id);
    }
    PacketBytes b;
    put32(b, 0x60000000);
    put16(b, static_cast<uint16_t>(ext.size() + body.size()));
    b.push_back(first_next);
    b.push_back(64);
    append(b, address_bytes(src));
    append(b, address_bytes(dst));
    append(b, ext);
    append(b, body);
    return b;
}

inline PacketBytes ethernet(uint16_t type, const PacketBytes& payload, std::vector<std::pair<uint16_t, uint16_t>> tags = {}) {
    PacketBytes b(12, 0x02);
    for (auto [tpid, vlan] : tags) {
        put16(b, tpid);
        put16(b, vlan);
    }
    put16(b, type);
    append(b, payload);
    return b;
}

inline PacketBytes sll2(uint16_t type, const PacketBytes& payload) {
    PacketBytes b;
    put16(b, type);
    put16(b, 0);
    put32(b, 2);       // interface index
    put16(b, 1);       // ARPHRD_ETHER
    b.push_back(0);    // packet type: to us
    b.push_back(6);    // address length
    b.resize(20, 0);
    append(b, payload);
    return b;
}

inline PacketBytes sll(uint16_t type, const PacketBytes& payload) {
    PacketBytes b;
    put16(b, 0);
    put16(b, 1);
    put16(b, 6);
    b.resize(14, 0);
    put16(b, type);
    append(b, payload);
    return b;
}

struct Frame {
    double time;
    PacketBytes data;
};

// Classic pcap, little-endian, microsecond timestamps.
inline std::string write_pcap(const std::filesystem::path& file, uint32_t link_type, const std::vector<Frame>& frames) {
    auto le32 = [](std::string& s, uint32_t v) {
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
    };
    auto le16 = [](std::string& s, uint16_t v) {
        s.push_back(static_cast<char>(v));
        s.push_back(static_cast<char>(v >> 8));
    };
    std::string out;
    le32(out, 0xa1b2c3d4);
    le16(out, 2);
    le16(out, 4);
    le32(out, 0);
    le32(out, 0);
    le32(out, 262144);
    le32(out, link_type);
    for (const auto& f : frames) {
        le32(out, static_cast<uint32_t>(f.time));
        le32(out, static_cast<uint32_t>((f.time - static_cast<uint32_t>(f.time)) * 1e6 + 0.5));
        le32(out, static_cast<uint32_t>(f.data.size()));
        le32(out, static_cast<uint32_t>(f.data.size()));
        out.append(f.data.begin(), f.data.end());
    }
    std::ofstream(file, std::ios::binary) << out;
    return file.string();
}

// pcapng, little-endian: a section header, one interface description block per interface
// (link type, snapshot length) and an enhanced packet block per frame on interface `on[i]`
// (microsecond timestamps, the if_tsresol default).
struct PcapngInterface {
    uint16_t link_type;
    uint32_t snaplen;
};

inline std::string pcapng_bytes(const std::vector<PcapngInterface>& interfaces, const std::vector<Frame>& frames,
                                const std::vector<uint32_t>& on) {
    auto le32 = [](std::string& s, uint32_t v) {
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
    };
    auto le16 = [](std::string& s, uint16_t v) {
        s.push_back(static_cast<char>(v));
        s.push_back(static_cast<char>(v >> 8));
    };
    auto block = [&](std::string& out, uint32_t type, const std::string& body) {
        std::string padded = body;
        while (padded.size() % 4) padded.push_back('\0');
        const auto length = static_cast<uint32_t>(padded.size() + 12);
        le32(out, type);
        le32(out, length);
        out += padded;
        le32(out, length);
    };
    std::string out, body;
    le32(body, 0x1A2B3C4D);
    le16(body, 1);
    le16(body, 0);
    le32(body, 0xFFFFFFFF);  // section length unknown
    le32(body, 0xFFFFFFFF);
    block(out, 0x0A0D0D0A, body);
    for (const auto& i : interfaces) {
        body.clear();
        le16(body, i.link_type);
        le16(body, 0);
        le32(body, i.snaplen);
        block(out, 1, body);
    }
    for (size_t n = 0; n < frames.size(); ++n) {
        const auto& f = frames[n];
        const auto micros = static_cast<uint64_t>(f.time * 1e6 + 0.5);
        const uint32_t snaplen = interfaces[on[n]].snaplen;
        const auto captured = static_cast<uint32_t>(snaplen && snaplen < f.data.size() ? snaplen : f.data.size());
        body.clear();
        le32(body, on[n]);
        le32(body, static_cast<uint32_t>(micros >> 32));
        le32(body, static_cast<uint32_t>(micros));
        le32(body, captured);
        le32(body, static_cast<uint32_t>(f.data.size()));
        body.append(f.data.begin(), f.data.begin() + captured);
        block(out, 6, body);
    }
    return out;
}

inline constexpr uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;

}  // namespace wardgate::testing
