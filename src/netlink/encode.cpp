// nft::Set -> set definition and elements in wire encoding, exactly as nftables 1.0.x
// encodes the printed text (userdata bytes, interval start/end pairs, key padding).
#include <netinet/in.h>  // before the linux/ headers

#include <fmt/format.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "model.hpp"
#include "nftnl_ptr.hpp"

namespace wardgate::netlink::detail {

namespace {

// nftables datatype ids (src/datatype.h) and byte orders (BYTEORDER_*).
constexpr uint32_t kTypeIpAddr = 7, kTypeIp6Addr = 8, kTypeInetProto = 12, kTypeInetService = 13, kTypeIcmpType = 14,
                   kTypeIcmp6Type = 29;
constexpr uint32_t kTypeBits = 6;  // concatenated type ids are packed 6 bits each
constexpr uint32_t kByteorderInvalid = 0, kByteorderBigEndian = 2;
constexpr uint32_t kExprConcat = 13;  // nftables' EXPR_CONCAT, recorded in the set's typeof userdata

// Writes one element part (one field of the key) at out; returns its unpadded length.
void put_part(uint8_t* out, nft::KeyType type, const nft::ElementPart& p, bool high) {
    switch (type) {
        case nft::KeyType::ipv4_addr:
        case nft::KeyType::ipv6_addr: {
            if (p.kind != nft::ElementPart::Kind::prefix)
                throw std::invalid_argument("set element: an address field holds a protocol or port");
            Family want = type == nft::KeyType::ipv4_addr ? Family::v4 : Family::v6;
            if (p.prefix.family() != want)
                throw std::invalid_argument("set element " + p.prefix.to_string() + ": wrong address family");
            const IpAddress a = high ? p.prefix.last() : p.prefix.address;
            std::memcpy(out, a.bytes.data(), key_len_of(type));
            return;
        }
        case nft::KeyType::inet_proto:
        case nft::KeyType::icmp_type:
        case nft::KeyType::icmpv6_type:
            out[0] = static_cast<uint8_t>(p.value);
            return;
        case nft::KeyType::inet_service:
            out[0] = static_cast<uint8_t>(p.value >> 8);
            out[1] = static_cast<uint8_t>(p.value);
            return;
    }
}

// Key of one element, fields padded to 4 bytes when concatenated. high: the top of each
// field's range (prefix last address).
void encode_key(uint8_t* out, const nft::Set& s, const nft::Element& e, bool high) {
    if (e.parts.size() != s.key.size())
        throw std::invalid_argument(fmt::format("set {}: an element has {} fields, the key has {}", s.name,
                                                e.parts.size(), s.key.size()));
    size_t off = 0;
    for (size_t f = 0; f < s.key.size(); ++f) {
        put_part(out + off, s.key[f], e.parts[f], high);
        off += s.key.size() > 1 ? padded_len(key_len_of(s.key[f])) : key_len_of(s.key[f]);
    }
}

bool all_ones(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0xff) return false;
    return true;
}

// Big-endian byte string + 1 (no carry out of the top: callers check).
void increment(uint8_t* p, size_t n) {
    for (size_t i = n; i-- > 0;)
        if (++p[i] != 0) return;
}

}  // namespace

uint32_t padded_len(uint32_t len) { return (len + 3) & ~3u; }

uint32_t key_len_of(nft::KeyType k) {
    switch (k) {
        case nft::KeyType::ipv4_addr: return 4;
        case nft::KeyType::ipv6_addr: return 16;
        case nft::KeyType::inet_proto:
        case nft::KeyType::icmp_type:
        case nft::KeyType::icmpv6_type:
            return 1;
        case nft::KeyType::inet_service: return 2;
    }
    return 0;
}

uint32_t datatype_of(nft::KeyType k) {
    switch (k) {
        case nft::KeyType::ipv4_addr: return kTypeIpAddr;
        case nft::KeyType::ipv6_addr: return kTypeIp6Addr;
        case nft::KeyType::inet_proto: return kTypeInetProto;
        case nft::KeyType::inet_service: return kTypeInetService;
        case nft::KeyType::icmp_type: return kTypeIcmpType;
        case nft::KeyType::icmpv6_type: return kTypeIcmp6Type;
    }
    return 0;
}

std::vector<nft::KeyType> decode_key_type(uint32_t key_type, uint32_t key_len) {
    std::vector<nft::KeyType> out;
    for (uint32_t t = key_type; t; t >>= kTypeBits) {
        switch (t & ((1u << kTypeBits) - 1)) {
            case kTypeIpAddr: out.insert(out.begin(), nft::KeyType::ipv4_addr); break;
            case kTypeIp6Addr: out.insert(out.begin(), nft::KeyType::ipv6_addr); break;
            case kTypeInetProto: out.insert(out.begin(), nft::KeyType::inet_proto); break;
            case kTypeInetService: out.insert(out.begin(), nft::KeyType::inet_service); break;
            case kTypeIcmpType: out.insert(out.begin(), nft::KeyType::icmp_type); break;
            case kTypeIcmp6Type: out.insert(out.begin(), nft::KeyType::icmpv6_type); break;
            default: return {};
        }
    }
    uint32_t len = 0;
    for (auto k : out) len += out.size() > 1 ? padded_len(key_len_of(k)) : key_len_of(k);
    if (len != key_len) return {};
    return out;
}

SetDef set_def_of(const nft::Set& s) {
    if (s.key.empty()) throw std::invalid_argument("set " + s.name + ": no key type");
    SetDef d;
    d.name = s.name;
    bool concat = s.key.size() > 1;
    for (auto k : s.key) {
        d.key_type = concat ? (d.key_type << kTypeBits) | datatype_of(k) : datatype_of(k);
        d.key_len += concat ? padded_len(key_len_of(k)) : key_len_of(k);
    }
    if (d.key_len > kMaxKeyLen) throw std::invalid_argument("set " + s.name + ": key longer than 64 bytes");
    if (s.interval) d.flags |= NFT_SET_INTERVAL;
    if (s.interval && concat) {
        d.flags |= NFT_SET_CONCAT;
        for (auto k : s.key) d.field_lens.push_back(static_cast<uint8_t>(key_len_of(k)));
    }
    if (s.verdict_map) {
        d.flags |= NFT_SET_MAP;
        d.data_type = NFT_DATA_VERDICT;
        d.data_len = 0;
    }
    // Userdata exactly as nft writes it (mnl_nft_set_add), so the kernel holds the same bytes.
    UdataPtr ud(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    if (!ud) throw std::bad_alloc();
    nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_KEYBYTEORDER, concat ? kByteorderInvalid : kByteorderBigEndian);
    if (s.verdict_map) nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_DATABYTEORDER, kByteorderInvalid);
    if (concat) {
        auto* typeof_nest = nftnl_udata_nest_start(ud.get(), NFTNL_UDATA_SET_KEY_TYPEOF);
        nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_TYPEOF_EXPR, kExprConcat);
        auto* data_nest = nftnl_udata_nest_start(ud.get(), NFTNL_UDATA_SET_TYPEOF_DATA);
        nftnl_udata_nest_end(ud.get(), data_nest);
        nftnl_udata_nest_end(ud.get(), typeof_nest);
    }
    if (s.verdict_map) nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_DATA_INTERVAL, 0);
    if (!s.comment.empty()) {
        if (s.comment.size() >= NFTNL_UDATA_COMMENT_MAXLEN)
            throw std::invalid_argument("set " + s.name + ": comment longer than 127 bytes");
        if (!nftnl_udata_put_strz(ud.get(), NFTNL_UDATA_SET_COMMENT, s.comment.c_str()))
            throw std::invalid_argument("set " + s.name + ": userdata too long");
    }
    d.udata.assign(static_cast<const char*>(nftnl_udata_buf_data(ud.get())), nftnl_udata_buf_len(ud.get()));
    return d;
}

ElementList encode_elements(const nft::Set& s) {
    SetDef d = set_def_of(s);
    ElementList out;
    out.key_len = d.key_len;
    out.map = s.verdict_map;
    bool concat = s.key.size() > 1;
    out.ranged = s.interval && concat;
    uint8_t lo[kMaxKeyLen], hi[kMaxKeyLen];
    auto verdict_of = [&](const nft::Element& e) -> std::pair<int32_t, std::string> {
        if (!s.verdict_map) return {0, {}};
        if (e.jump.empty()) throw std::invalid_argument("map " + s.name + ": an element has no verdict");
        return {NFT_JUMP, e.jump};
    };

    if (!s.interval || concat) {
        // Hash sets keep the text's order; so do concatenated interval (pipapo) sets.
        out.reserve(s.elements.size());
        for (const auto& e : s.elements) {
            std::memset(lo, 0, d.key_len);
            encode_key(lo, s, e, false);
            if (out.ranged) {
                std::memset(hi, 0, d.key_len);
                encode_key(hi, s, e, true);
            } else if (!s.interval) {
                for (const auto& p : e.parts)
                    if (p.kind == nft::ElementPart::Kind::prefix && !p.prefix.is_host())
                        throw std::invalid_argument("set " + s.name + ": " + p.prefix.to_string() +
                                                    " is a network; the set needs flags interval");
            }
            auto [v, chain] = verdict_of(e);
            out.push(lo, hi, 0, v, std::move(chain));
        }
        return out;
    }

    // Single-field interval set: sorted [start, end+1) pairs, a leading end at zero when
    // the first range does not start there, no end after a range reaching the top.
    const uint32_t n = d.key_len;
    std::vector<std::pair<std::array<uint8_t, kMaxKeyLen>, std::array<uint8_t, kMaxKeyLen>>> ranges(s.elements.size());
    for (size_t i = 0; i < s.elements.size(); ++i) {
        ranges[i].first.fill(0);
        ranges[i].second.fill(0);
        encode_key(ranges[i].first.data(), s, s.elements[i], false);
        encode_key(ranges[i].second.data(), s, s.elements[i], true);
    }
    std::vector<uint32_t> order(ranges.size());
    std::iota(order.begin(), order.end(), 0u);
    auto starts_below = [&](uint32_t a, uint32_t b) {
        return std::memcmp(ranges[a].first.data(), ranges[b].first.data(), n) < 0;
    };
    // The lowered policy's sets are sorted already: checked in one pass, not sorted again.
    if (!std::is_sorted(order.begin(), order.end(), starts_below)) std::stable_sort(order.begin(), order.end(), starts_below);
    out.reserve(2 * ranges.size() + 1);
    static const uint8_t zero[kMaxKeyLen] = {};
    if (!order.empty() && std::memcmp(ranges[order[0]].first.data(), zero, n) != 0)
        out.push(zero, nullptr, kElemIntervalEnd);
    for (uint32_t i : order) {
        auto& [low, high] = ranges[i];
        bool open = all_ones(high.data(), n);
        auto [v, chain] = verdict_of(s.elements[i]);
        out.push(low.data(), nullptr, open ? kElemOpen : 0, v, std::move(chain));
        if (open) continue;
        increment(high.data(), n);
        out.push(high.data(), nullptr, kElemIntervalEnd);
    }
    return out;
}

SetModel set_model_of(const nft::Set& s) {
    SetModel m;
    m.def = set_def_of(s);
    m.types = s.key;
    m.elems = encode_elements(s);
    return m;
}

}  // namespace wardgate::netlink::detail
