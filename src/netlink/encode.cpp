// nft::Set -> set definition and elements in wire encoding, as nftables 1.0.x encodes the
// printed text; and back from wire bytes to readable text for drift reports.
#include <arpa/inet.h>
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
constexpr uint32_t kTypeIpAddr = 7, kTypeIp6Addr = 8, kTypeInetProto = 12, kTypeInetService = 13;
constexpr uint32_t kTypeBits = 6;  // concatenated type ids are packed 6 bits each
constexpr uint32_t kByteorderInvalid = 0, kByteorderBigEndian = 2;
constexpr uint32_t kExprConcat = 13;  // nftables' EXPR_CONCAT, recorded in the set's typeof userdata

uint32_t padded(uint32_t len) { return (len + 3) & ~3u; }

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
        off += s.key.size() > 1 ? padded(key_len_of(s.key[f])) : key_len_of(s.key[f]);
    }
}

bool all_ones(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0xff) return false;
    return true;
}

// Big-endian byte string + 1 / - 1 (no carry out of the top: callers check).
void increment(uint8_t* p, size_t n) {
    for (size_t i = n; i-- > 0;)
        if (++p[i] != 0) return;
}
void decrement(uint8_t* p, size_t n) {
    for (size_t i = n; i-- > 0;)
        if (p[i]-- != 0) return;
}

// Folds one word into the hash; finish() spreads every input bit over the low bits that
// pick the table slot (keys often differ only in their last bytes).
uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL; }
uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

std::string proto_name(uint8_t p) {
    switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_ICMP: return "icmp";
        case IPPROTO_ICMPV6: return "ipv6-icmp";
    }
    return std::to_string(p);
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
        case nft::KeyType::inet_proto: return proto_name(p[0]);
        case nft::KeyType::inet_service: return std::to_string((p[0] << 8) | p[1]);
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

// ---- ElementList

void ElementList::push(const uint8_t* k, const uint8_t* k_end, uint8_t f, int32_t verdict, std::string chain) {
    keys.insert(keys.end(), k, k + key_len);
    if (ranged) keys.insert(keys.end(), k_end, k_end + key_len);
    flags.push_back(f);
    if (map) {
        verdicts.push_back(verdict);
        chains.push_back(std::move(chain));
    }
}

void ElementList::reserve(size_t n) {
    keys.reserve(n * stride());
    flags.reserve(n);
    if (map) {
        verdicts.reserve(n);
        chains.reserve(n);
    }
}

ElementList ElementList::slice(size_t from, size_t to) const {
    ElementList out;
    out.key_len = key_len;
    out.ranged = ranged;
    out.map = map;
    out.keys.assign(keys.begin() + from * stride(), keys.begin() + to * stride());
    out.flags.assign(flags.begin() + from, flags.begin() + to);
    if (map) {
        out.verdicts.assign(verdicts.begin() + from, verdicts.begin() + to);
        out.chains.assign(chains.begin() + from, chains.begin() + to);
    }
    return out;
}

bool ElementList::same_element(size_t i, const ElementList& o, size_t j) const {
    if (stride() != o.stride() || flags[i] != o.flags[j]) return false;
    if (std::memcmp(key(i), o.key(j), stride()) != 0) return false;
    if (map != o.map) return false;
    return !map || (verdicts[i] == o.verdicts[j] && chains[i] == o.chains[j]);
}

uint64_t ElementList::element_hash(size_t i) const {
    const uint8_t* p = key(i);
    uint64_t h = flags[i];
    size_t n = stride(), k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        std::memcpy(&w, p + k, 8);
        h = mix(h, w);
    }
    for (; k < n; ++k) h = mix(h, p[k]);
    if (map) h = mix(h, static_cast<uint32_t>(verdicts[i]) ^ std::hash<std::string>{}(chains[i]));
    return finish(h);
}

bool ElementList::operator==(const ElementList& o) const {
    return key_len == o.key_len && ranged == o.ranged && map == o.map && keys == o.keys && flags == o.flags &&
           verdicts == o.verdicts && chains == o.chains;
}

const SetModel* TableModel::find_set(const std::string& n) const {
    for (const auto& s : sets)
        if (s.def.name == n) return &s;
    return nullptr;
}

const ChainModel* TableModel::find_chain(const std::string& n) const {
    for (const auto& c : chains)
        if (c.name == n) return &c;
    return nullptr;
}

uint32_t SetIds::id_of(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? 0 : it->second;
}

// ---- definitions

uint32_t key_len_of(nft::KeyType k) {
    switch (k) {
        case nft::KeyType::ipv4_addr: return 4;
        case nft::KeyType::ipv6_addr: return 16;
        case nft::KeyType::inet_proto: return 1;
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
            default: return {};
        }
    }
    uint32_t len = 0;
    for (auto k : out) len += out.size() > 1 ? padded(key_len_of(k)) : key_len_of(k);
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
        d.key_len += concat ? padded(key_len_of(k)) : key_len_of(k);
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
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return std::memcmp(ranges[a].first.data(), ranges[b].first.data(), n) < 0;
    });
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

// ---- decoding

DecodedIntervals decode_intervals(const ElementList& e) {
    DecodedIntervals out;
    const uint32_t n = e.key_len;
    std::vector<uint32_t> order(e.size());
    std::iota(order.begin(), order.end(), 0u);
    // Ascending keys; at an equal key the end (of the range below) comes first.
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        int c = std::memcmp(e.key(a), e.key(b), n);
        if (c != 0) return c < 0;
        return e.end(a) && !e.end(b);
    });
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
            off += concat ? padded(key_len_of(s.types[f])) : key_len_of(s.types[f]);
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
