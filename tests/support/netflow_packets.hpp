#pragma once
// Builds NetFlow v5, v9 and IPFIX datagrams byte by byte, for tests and benchmarks.
#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace wardgate::testing {

struct Bytes {
    std::vector<uint8_t> b;
    Bytes& u8(uint64_t v) { b.push_back(static_cast<uint8_t>(v)); return *this; }
    Bytes& u16(uint64_t v) { return u8(v >> 8).u8(v); }
    Bytes& u32(uint64_t v) { return u16(v >> 16).u16(v); }
    Bytes& u64(uint64_t v) { return u32(v >> 32).u32(v); }
    Bytes& ip4(const std::string& text) {
        in_addr a{};
        inet_pton(AF_INET, text.c_str(), &a);
        return u32(ntohl(a.s_addr));
    }
    Bytes& ip6(const std::string& text) {
        in6_addr a{};
        inet_pton(AF_INET6, text.c_str(), &a);
        b.insert(b.end(), a.s6_addr, a.s6_addr + 16);
        return *this;
    }
    Bytes& raw(const std::vector<uint8_t>& more) { b.insert(b.end(), more.begin(), more.end()); return *this; }
    Bytes& zeros(size_t n) { b.insert(b.end(), n, 0); return *this; }
    void put16(size_t at, uint16_t v) { b[at] = static_cast<uint8_t>(v >> 8); b[at + 1] = static_cast<uint8_t>(v); }
    size_t size() const { return b.size(); }
};

struct V5Record {
    std::string source, destination;
    uint16_t source_port = 0, destination_port = 0;
    uint8_t protocol = 6, tcp_flags = 0;
    uint32_t packets = 1, bytes = 100, first = 0, last = 0;  // first/last: uptime milliseconds
};

// A v5 datagram; count_field replaces the header's record count when not negative.
inline std::vector<uint8_t> v5_packet(uint32_t sequence, const std::vector<V5Record>& records, uint32_t uptime_ms = 100000,
                                      uint32_t unix_secs = 1700000000, uint16_t sampling = 0, int count_field = -1,
                                      uint8_t engine_type = 0, uint8_t engine_id = 0) {
    Bytes p;
    p.u16(5).u16(count_field >= 0 ? count_field : records.size()).u32(uptime_ms).u32(unix_secs).u32(0).u32(sequence);
    p.u8(engine_type).u8(engine_id).u16(sampling);
    for (const auto& r : records) {
        p.ip4(r.source).ip4(r.destination).ip4("0.0.0.0").u16(1).u16(2);
        p.u32(r.packets).u32(r.bytes).u32(r.first).u32(r.last).u16(r.source_port).u16(r.destination_port);
        p.u8(0).u8(r.tcp_flags).u8(r.protocol).u8(0).u16(0).u16(0).u8(24).u8(24).u16(0);
    }
    return p.b;
}

struct Field {
    uint16_t id;
    uint16_t length;
    uint32_t enterprise = 0;
};

// A v9 (version 9) or IPFIX (version 10) message built set by set.
class Message {
public:
    Message(uint16_t version, uint32_t sequence, uint32_t domain, uint32_t export_secs = 1700000000,
            uint32_t uptime_ms = 100000)
        : version_(version) {
        if (version == 9)
            p.u16(9).u16(0).u32(uptime_ms).u32(export_secs).u32(sequence).u32(domain);
        else
            p.u16(10).u16(0).u32(export_secs).u32(sequence).u32(domain);
    }
    Message& begin_set(uint16_t id) {
        set_start_ = p.size();
        p.u16(id).u16(0);
        return *this;
    }
    Message& end_set() {
        p.put16(set_start_ + 2, static_cast<uint16_t>(p.size() - set_start_));
        return *this;
    }
    // A template record (inside a template set).
    Message& template_record(uint16_t id, std::initializer_list<Field> fields) {
        p.u16(id).u16(fields.size());
        for (const auto& f : fields) field(f);
        return *this;
    }
    // An options template record: IPFIX counts scope fields, v9 gives scope and option lengths in bytes.
    Message& options_template(uint16_t id, std::initializer_list<Field> scope, std::initializer_list<Field> fields) {
        if (version_ == 10)
            p.u16(id).u16(scope.size() + fields.size()).u16(scope.size());
        else
            p.u16(id).u16(scope.size() * 4).u16(fields.size() * 4);
        for (const auto& f : scope) field(f);
        for (const auto& f : fields) field(f);
        return *this;
    }
    // The header's length (IPFIX) or record count (v9) are filled in here.
    std::vector<uint8_t> finish(int v9_count = 0) {
        if (version_ == 10)
            p.put16(2, static_cast<uint16_t>(p.size()));
        else
            p.put16(2, static_cast<uint16_t>(v9_count));
        return p.b;
    }
    Bytes p;

private:
    void field(const Field& f) {
        if (f.enterprise) {
            p.u16(f.id | 0x8000).u16(f.length).u32(f.enterprise);
        } else {
            p.u16(f.id).u16(f.length);
        }
    }
    uint16_t version_;
    size_t set_start_ = 0;
};

}  // namespace wardgate::testing
