// Set elements from wire bytes back to what a person reads: "10.50.0.10",
// "10.110.0.0/24 : jump drop_icu", "10.90.0.21 . 10.50.0.5 . udp . 123", and interval
// start/end elements back to ranges.
#include <netinet/in.h>

#include <fmt/format.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "model.hpp"

namespace wardgate::netlink::detail {

namespace {

// Big-endian byte string - 1.
void decrement(uint8_t* p, size_t n) {
    for (size_t i = n; i-- > 0;)
        if (p[i]-- != 0) return;
}

std::string field_text(nft::KeyType t, const uint8_t* p) {
    switch (t) {
        case nft::KeyType::ipv4_addr:
        case nft::KeyType::ipv6_addr: {
            IpAddress a;
            a.family = t == nft::KeyType::ipv4_addr ? Family::v4 : Family::v6;
            std::memcpy(a.bytes.data(), p, key_len_of(t));
            return a.to_string();
        }
        case nft::KeyType::inet_proto: return nft::protocol_name(p[0]);
        case nft::KeyType::inet_service: return std::to_string((p[0] << 8) | p[1]);
        case nft::KeyType::icmp_type:
        case nft::KeyType::icmpv6_type: return std::to_string(p[0]);
    }
    return "?";
}

// lo..hi of one field as "a", "a/len" (addresses that form a prefix) or "a-b".
std::string field_range_text(nft::KeyType t, const uint8_t* lo, const uint8_t* hi) {
    size_t n = key_len_of(t);
    if (std::memcmp(lo, hi, n) == 0) return field_text(t, lo);
    if (t == nft::KeyType::ipv4_addr || t == nft::KeyType::ipv6_addr) {
        // A prefix: lo and hi share the leading bits, then lo is all zeros and hi all ones.
        size_t bits = n * 8, common = 0;
        while (common < bits && ((lo[common / 8] ^ hi[common / 8]) & (0x80 >> (common % 8))) == 0) ++common;
        bool prefix = true;
        for (size_t b = common; b < bits && prefix; ++b) {
            uint8_t m = 0x80 >> (b % 8);
            prefix = (lo[b / 8] & m) == 0 && (hi[b / 8] & m) != 0;
        }
        if (prefix) return field_text(t, lo) + "/" + std::to_string(common);
    }
    return field_text(t, lo) + "-" + field_text(t, hi);
}

std::string data_text(const ElementList& e, size_t i) {
    if (!e.map || e.end(i)) return "";
    switch (e.verdicts[i]) {
        case NF_ACCEPT: return " : accept";
        case NF_DROP: return " : drop";
        case NFT_JUMP: return " : jump " + e.chains[i];
        case NFT_GOTO: return " : goto " + e.chains[i];
        case NFT_RETURN: return " : return";
        case NFT_CONTINUE: return " : continue";
    }
    return fmt::format(" : verdict {}", e.verdicts[i]);
}


}  // namespace

DecodedIntervals decode_intervals(const ElementList& e) {
    DecodedIntervals out;
    const uint32_t n = e.key_len;
    std::vector<uint32_t> order(e.size());
    std::iota(order.begin(), order.end(), 0u);
    // Ascending keys; at an equal key the end (of the range below) comes first. Elements this
    // program encoded are in that order already (a hundred thousand of them take a while to
    // sort); a kernel's dump is not.
    auto before = [&](uint32_t a, uint32_t b) {
        int c = std::memcmp(e.key(a), e.key(b), n);
        if (c != 0) return c < 0;
        return e.end(a) && !e.end(b);
    };
    if (!std::is_sorted(order.begin(), order.end(), before)) std::sort(order.begin(), order.end(), before);
    std::optional<uint32_t> open;
    for (uint32_t i : order) {
        if (e.flags[i] & kElemCatchall) continue;
        if (e.end(i)) {
            if (open) {
                out.ranges.push_back({*open, i, std::nullopt});
                open.reset();
            } else {
                out.strays.push_back(i);
            }
        } else {
            // A start while another is open: the kernel matches the lower one up to here.
            if (open) out.ranges.push_back({*open, std::nullopt, i});
            open = i;
        }
    }
    if (open) out.ranges.push_back({*open, std::nullopt, std::nullopt});
    return out;
}

bool same_range(const ElementList& a, const KeyRange& ra, const ElementList& b, const KeyRange& rb) {
    if (ra.cut || rb.cut) return false;
    if (!a.same_element(ra.start, b, rb.start)) return false;
    if (ra.end.has_value() != rb.end.has_value()) return false;
    if (!ra.end) return true;
    // An end closing the range must be an end element in both lists (not the next start).
    return a.end(*ra.end) == b.end(*rb.end) && a.same_element(*ra.end, b, *rb.end);
}

std::string hex(const void* data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * len);
    auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

std::string element_text(const SetModel& s, size_t i) {
    const auto& e = s.elems;
    std::string out;
    if (s.types.empty()) {
        out = "0x" + hex(e.key(i), e.key_len);
        if (e.ranged) out += "-0x" + hex(e.key_end(i), e.key_len);
    } else {
        size_t off = 0;
        bool concat = s.types.size() > 1;
        for (size_t f = 0; f < s.types.size(); ++f) {
            if (f) out += " . ";
            out += e.ranged ? field_range_text(s.types[f], e.key(i) + off, e.key_end(i) + off)
                            : field_text(s.types[f], e.key(i) + off);
            off += concat ? padded_len(key_len_of(s.types[f])) : key_len_of(s.types[f]);
        }
    }
    if (e.end(i)) out += " (interval end)";
    return out + data_text(e, i);
}

std::string range_text(const SetModel& s, const KeyRange& r) {
    const auto& e = s.elems;
    const uint32_t n = e.key_len;
    uint8_t hi[kMaxKeyLen];
    if (r.end || r.cut) {
        std::memcpy(hi, e.key(r.end ? *r.end : *r.cut), n);
        decrement(hi, n);
    } else {
        std::memset(hi, 0xff, n);
    }
    std::string out = s.types.size() == 1 ? field_range_text(s.types[0], e.key(r.start), hi)
                                          : "0x" + hex(e.key(r.start), n) + "-0x" + hex(hi, n);
    return out + data_text(e, r.start);
}

}  // namespace wardgate::netlink::detail
