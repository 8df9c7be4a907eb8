#include "wardgate/core/net.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace wardgate {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (text.find(':') == std::string_view::npos) {
        a.family = Family::v4;
        if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    } else {
        a.family = Family::v6;
        if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    }
    return a;
}

IpAddress IpAddress::v4(uint32_t host_order) {
    IpAddress a;
    a.bytes[0] = host_order >> 24;
    a.bytes[1] = host_order >> 16;
    a.bytes[2] = host_order >> 8;
    a.bytes[3] = host_order;
    return a;
}

uint32_t IpAddress::v4_value() const {
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
}

// By hand, as glibc's inet_ntop prints (which formats with sprintf, a hot spot in large
// rulesets): IPv4 dotted; IPv6 in lowercase hex without leading zeros, the first longest run of
// two or more zero words as "::", and IPv4-compatible and -mapped addresses with a dotted tail.
static char* append_v4(char* at, const uint8_t* b) {
    for (int i = 0; i < 4; ++i) {
        const unsigned v = b[i];
        if (i) *at++ = '.';
        if (v >= 100) *at++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *at++ = static_cast<char>('0' + v / 10 % 10);
        *at++ = static_cast<char>('0' + v % 10);
    }
    return at;
}

// The address's text at `at` (at most 45 characters); returns where it ends.
static char* write_address(const IpAddress& a, char* at) {
    const auto& bytes = a.bytes;
    if (a.family == Family::v4) return append_v4(at, bytes.data());
    std::array<unsigned, 8> words{};
    for (size_t i = 0; i < 8; ++i) words[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];
    int best = -1, best_length = 0;
    for (int i = 0; i < 8;) {
        if (words[static_cast<size_t>(i)] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && words[static_cast<size_t>(j)] == 0) ++j;
        if (j - i > best_length) {
            best = i;
            best_length = j - i;
        }
        i = j;
    }
    if (best_length < 2) best = -1;
    for (int i = 0; i < 8; ++i) {
        if (best >= 0 && i >= best && i < best + best_length) {
            if (i == best) *at++ = ':';
            continue;
        }
        if (i) *at++ = ':';
        if (i == 6 && best == 0 && (best_length == 6 || (best_length == 5 && words[5] == 0xffff)))
            return append_v4(at, bytes.data() + 12);
        const unsigned w = words[static_cast<size_t>(i)];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned digit = w >> shift & 0xf;
            if (!started && digit == 0 && shift) continue;
            started = true;
            *at++ = "0123456789abcdef"[digit];
        }
    }
    if (best >= 0 && best + best_length == 8) *at++ = ':';
    return at;
}

std::string IpAddress::to_string() const {
    char buf[48];
    return std::string(buf, write_address(*this, buf));
}

static bool host_bits_zero(const IpAddress& a, int length) {
    for (int bit = length; bit < a.bit_width(); ++bit)
        if (a.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
    return true;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    int length = addr->bit_width();
    if (slash != std::string_view::npos) {
        auto len_text = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
        if (ec != std::errc{} || end != len_text.data() + len_text.size() || len_text.empty()) return std::nullopt;
        if (length < 0 || length > addr->bit_width()) return std::nullopt;
    }
    if (!host_bits_zero(*addr, length)) return std::nullopt;
    return Prefix{*addr, static_cast<uint8_t>(length)};
}

// The top `bits` bits of a 64-bit word (0 to 64).
static uint64_t top_bits(int bits) { return bits <= 0 ? 0 : bits >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - bits); }

bool Prefix::contains(const IpAddress& a) const {
    if (a.family != address.family) return false;
    return ((a.high_word() ^ address.high_word()) & top_bits(length)) == 0 &&
           ((a.low_word() ^ address.low_word()) & top_bits(length - 64)) == 0;
}

bool Prefix::contains(const Prefix& p) const { return p.length >= length && contains(p.address); }

IpAddress Prefix::last() const {
    IpAddress a = address;
    for (int bit = length; bit < a.bit_width(); ++bit) a.bytes[bit / 8] |= (0x80 >> (bit % 8));
    return a;
}

bool is_unrouted(const IpAddress& a) {
    const auto& b = a.bytes;
    if (a.family == Family::v4) {
        if (b[0] == 169 && b[1] == 254) return true;
        if (b[0] >= 224 && b[0] <= 239) return true;
        return a == IpAddress::v4(0xffffffffu) || a == IpAddress::v4(0);
    }
    if (b[0] == 0xff) return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;
    return a == IpAddress{Family::v6, {}};
}

std::string Prefix::to_string() const {
    std::string out;
    append_to(out);
    return out;
}

void Prefix::append_to(std::string& out) const {
    char buf[52];
    char* at = write_address(address, buf);
    if (!is_host()) {
        *at++ = '/';
        at = std::to_chars(at, buf + sizeof buf, length).ptr;
    }
    out.append(buf, at);
}

// Two prefixes of equal length that differ only in their last bit merge into one.
static std::optional<Prefix> sibling_merge(const Prefix& a, const Prefix& b) {
    if (a.family() != b.family() || a.length != b.length || a.length == 0) return std::nullopt;
    Prefix parent{a.address, static_cast<uint8_t>(a.length - 1)};
    int bit = parent.length;
    parent.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    if (parent.address != a.address) return std::nullopt;
    if (!parent.contains(b.address) || a.address == b.address) return std::nullopt;
    return parent;
}

bool is_interface_name(std::string_view name) {
    return !name.empty() && name.size() <= kMaxInterfaceName && name != "." && name != ".." &&
           std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':' || c <= ' ' || c == 0x7f; });
}

std::string not_an_interface_name(std::string_view name) {
    return "\"" + std::string(name) + "\" is no interface name (1-15 bytes, no '/', ':' or spaces)";
}

// One pass over the sorted prefixes, the result kept as a stack: sorted and disjoint, only its
// top can hold the next prefix, and only its top two can be halves of one prefix (merged, the
// parent may then pair with the one below it).
// Prefix's order, with the IPv4 ones sorted as 40-bit numbers (address, length): the groups
// of a large site hold a hundred thousand scattered hosts, and comparing numbers is several
// times cheaper than comparing Prefixes.
static void sort_prefixes(std::vector<Prefix>& prefixes) {
    auto v6 = std::stable_partition(prefixes.begin(), prefixes.end(),
                                    [](const Prefix& p) { return p.family() == Family::v4; });
    std::vector<uint64_t> keys;
    keys.reserve(static_cast<size_t>(v6 - prefixes.begin()));
    for (auto it = prefixes.begin(); it != v6; ++it) keys.push_back(uint64_t{it->address.v4_value()} << 8 | it->length);
    std::sort(keys.begin(), keys.end());
    for (size_t i = 0; i < keys.size(); ++i)
        prefixes[i] = Prefix{IpAddress::v4(static_cast<uint32_t>(keys[i] >> 8)), static_cast<uint8_t>(keys[i] & 0xff)};
    std::sort(v6, prefixes.end());
}

// Sorts 40-bit keys by their low 16, middle 16 and top 8 bits in turn (a stable counting sort
// each): a large site's groups hold tens of thousands of scattered hosts, where this is several
// times faster than comparison sorting.
static void sort_v4_keys(std::vector<uint64_t>& keys) {
    if (keys.size() < 4096) {
        std::sort(keys.begin(), keys.end());
        return;
    }
    std::vector<uint64_t> other(keys.size());
    std::vector<uint32_t> count;
    for (int shift : {0, 16, 32}) {
        const uint32_t buckets = shift == 32 ? 256 : 65536;
        count.assign(buckets + 1, 0);
        for (uint64_t k : keys) ++count[((k >> shift) & (buckets - 1)) + 1];
        for (uint32_t b = 0; b < buckets; ++b) count[b + 1] += count[b];
        for (uint64_t k : keys) other[count[(k >> shift) & (buckets - 1)]++] = k;
        keys.swap(other);
    }
}

// collapse_prefixes of IPv4 prefixes only, as numbers: (address << 8 | length).
static std::vector<Prefix> collapse_v4(const std::vector<Prefix>& prefixes) {
    std::vector<uint64_t> keys;
    keys.reserve(prefixes.size());
    for (const auto& p : prefixes) keys.push_back(uint64_t{p.address.v4_value()} << 8 | p.length);
    if (!std::is_sorted(keys.begin(), keys.end())) sort_v4_keys(keys);
    auto mask = [](uint32_t length) { return length == 0 ? 0u : ~uint32_t{0} << (32 - length); };
    std::vector<uint64_t> out;
    out.reserve(keys.size());
    for (uint64_t k : keys) {
        const auto address = static_cast<uint32_t>(k >> 8);
        const auto length = static_cast<uint32_t>(k & 0xff);
        if (!out.empty()) {
            const auto top = static_cast<uint32_t>(out.back() >> 8), top_length = static_cast<uint32_t>(out.back() & 0xff);
            if (top_length <= length && (address & mask(top_length)) == top) continue;  // the top holds it
        }
        out.push_back(k);
        while (out.size() >= 2) {  // the top two the halves of one prefix: that prefix instead
            const uint64_t low = out[out.size() - 2], high = out.back();
            const auto l = static_cast<uint32_t>(low & 0xff);
            if (l == 0 || l != (high & 0xff)) break;
            const auto low_address = static_cast<uint32_t>(low >> 8), high_address = static_cast<uint32_t>(high >> 8);
            if ((low_address & mask(l - 1)) != low_address || high_address != (low_address | (1u << (32 - l)))) break;
            out.pop_back();
            out.back() = uint64_t{low_address} << 8 | (l - 1);
        }
    }
    std::vector<Prefix> result;
    result.reserve(out.size());
    for (uint64_t k : out) result.push_back(Prefix{IpAddress::v4(static_cast<uint32_t>(k >> 8)), static_cast<uint8_t>(k & 0xff)});
    return result;
}

bool is_collapsed(const std::vector<Prefix>& prefixes) {
    // A list that is not minimal covers some block with two or more of its prefixes; the longest
    // of those has its sibling in the list too, right beside it. So checking neighbours suffices.
    for (size_t i = 1; i < prefixes.size(); ++i) {
        const Prefix& a = prefixes[i - 1];
        const Prefix& b = prefixes[i];
        if (a.family() != b.family()) {
            if (a.family() > b.family()) return false;
            continue;
        }
        if (!(a.last() < b.address)) return false;  // out of order, or overlapping
        if (a.length == b.length && a.length > 0) {
            const int bit = a.length - 1;
            const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
            IpAddress upper = a.address;
            upper.bytes[static_cast<size_t>(bit / 8)] |= mask;
            if (!(a.address.bytes[static_cast<size_t>(bit / 8)] & mask) && upper == b.address) return false;
        }
    }
    return true;
}

std::vector<Prefix> collapse_prefixes(std::vector<Prefix> prefixes) {
    if (std::all_of(prefixes.begin(), prefixes.end(), [](const Prefix& p) { return p.family() == Family::v4; }))
        return collapse_v4(prefixes);
    if (!std::is_sorted(prefixes.begin(), prefixes.end())) sort_prefixes(prefixes);
    std::vector<Prefix> out;
    out.reserve(prefixes.size());
    for (const auto& p : prefixes) {
        if (!out.empty() && out.back().contains(p)) continue;
        out.push_back(p);
        while (out.size() >= 2) {
            auto merged = sibling_merge(out[out.size() - 2], out.back());
            if (!merged) break;
            out.pop_back();
            out.back() = *merged;
        }
    }
    return out;
}

// Splits each prefix in halves until no half partly overlaps a removed prefix; halves a
// removed prefix covers are dropped. The removals are collapsed first, so they are disjoint
// and sorted and one binary search finds the candidates for each half.
std::vector<Prefix> subtract_prefixes(const std::vector<Prefix>& from, std::vector<Prefix> remove) {
    remove = collapse_prefixes(std::move(remove));
    std::vector<Prefix> out;
    std::vector<Prefix> work(from.rbegin(), from.rend());
    while (!work.empty()) {
        Prefix p = work.back();
        work.pop_back();
        auto it = std::lower_bound(remove.begin(), remove.end(), Prefix{p.address, 0});
        bool covered = (it != remove.begin() && std::prev(it)->contains(p)) || (it != remove.end() && it->contains(p));
        if (covered) continue;
        bool overlaps = it != remove.end() && it->address <= p.last();
        if (!overlaps) {
            out.push_back(p);
            continue;
        }
        Prefix low{p.address, static_cast<uint8_t>(p.length + 1)};
        Prefix high = low;
        high.address.bytes[p.length / 8] |= static_cast<uint8_t>(0x80 >> (p.length % 8));
        work.push_back(high);
        work.push_back(low);
    }
    return collapse_prefixes(std::move(out));
}

static std::optional<uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

std::optional<PortRange> PortRange::parse(std::string_view text) {
    auto dash = text.find('-');
    auto first = parse_port(text.substr(0, dash));
    if (!first) return std::nullopt;
    if (dash == std::string_view::npos) return PortRange{*first, *first};
    auto last = parse_port(text.substr(dash + 1));
    if (!last || *last < *first) return std::nullopt;
    return PortRange{*first, *last};
}

std::string PortRange::to_string() const {
    if (first == last) return std::to_string(first);
    return std::to_string(first) + "-" + std::to_string(last);
}

std::vector<PortRange> normalize_ports(std::vector<PortRange> ports) {
    std::sort(ports.begin(), ports.end());
    std::vector<PortRange> out;
    for (const auto& r : ports) {
        if (!out.empty() && uint32_t{r.first} <= uint32_t{out.back().last} + 1) {
            out.back().last = std::max(out.back().last, r.last);
        } else {
            out.push_back(r);
        }
    }
    return out;
}

Service flow_service(Protocol p, uint16_t port, Family f) {
    Service s{p, {}, {}};
    if (has_ports(p)) s.ports = {{port, port}};
    // Code 0 (the only code of most messages) is left out of what a person reads.
    if (auto m = p == Protocol::icmp ? icmp_message(port) : std::nullopt)
        s.icmp_types = {{f, m->type, static_cast<int16_t>(m->code == 0 ? -1 : m->code)}};
    return s;
}

std::string flow_service_text(Protocol p, uint16_t port, Family f) {
    if (auto m = p == Protocol::icmp ? icmp_message(port) : std::nullopt) {
        IcmpType t{f, m->type, static_cast<int16_t>(m->code == 0 ? -1 : m->code)};
        return std::string(f == Family::v4 ? "icmp/" : "icmpv6/") + t.to_string();
    }
    return flow_service(p, port, f).to_string();
}

bool Service::covers_family(Family f) const {
    return icmp_types.empty() ||
           std::any_of(icmp_types.begin(), icmp_types.end(), [&](const IcmpType& t) { return t.family == f; });
}

bool Service::matches(Protocol p, uint16_t port, Family f) const {
    if (p != protocol) return false;
    if (protocol == Protocol::icmp) {
        if (icmp_types.empty()) return true;
        auto m = icmp_message(port);
        return m && std::any_of(icmp_types.begin(), icmp_types.end(), [&](const IcmpType& t) {
                   return t.family == f && t.type == m->type && (t.code < 0 || t.code == m->code);
               });
    }
    if (ports.empty()) return true;
    return std::any_of(ports.begin(), ports.end(), [&](const PortRange& r) { return r.contains(port); });
}

std::string Service::to_string() const {
    std::string out = wardgate::to_string(protocol);
    if (protocol == Protocol::icmp) {
        if (icmp_types.empty()) return out;
        // Entries present alike in both families print once, under icmp; the rest under their family.
        std::vector<std::string> v4, v6;
        for (const auto& t : icmp_types) (t.family == Family::v4 ? v4 : v6).push_back(t.to_string());
        std::vector<std::string> both, only4, only6;
        for (const auto& x : v4)
            (std::find(v6.begin(), v6.end(), x) != v6.end() ? both : only4).push_back(x);
        for (const auto& x : v6)
            if (std::find(v4.begin(), v4.end(), x) == v4.end()) only6.push_back(x);
        auto join = [](const std::vector<std::string>& xs) {
            std::string s;
            for (const auto& x : xs) s += (s.empty() ? "" : ",") + x;
            return s;
        };
        // An IPv4-only message whose name ICMPv6 has too prints as its number, so that the
        // text reads back as the same messages.
        for (auto& x : only4) {
            auto read_back = parse_icmp_type(x, false, nullptr);
            if (!read_back || read_back->size() == 1) continue;
            auto t = read_back->front();
            x = std::to_string(t.type) + (t.code < 0 ? "" : ":" + std::to_string(t.code));
        }
        both.insert(both.end(), only4.begin(), only4.end());
        std::string text = both.empty() ? "" : "icmp/" + join(both);
        if (!only6.empty()) text += (text.empty() ? "" : " ") + std::string("icmpv6/") + join(only6);
        return text;
    }
    if (!has_ports(protocol)) return out;
    out += "/";
    if (ports.empty()) return out + "*";
    for (size_t i = 0; i < ports.size(); ++i) {
        if (i) out += ",";
        out += ports[i].to_string();
    }
    return out;
}

}  // namespace wardgate
