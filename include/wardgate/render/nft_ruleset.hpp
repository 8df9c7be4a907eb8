#pragma once
// The policy lowered to nftables objects: sets, maps, chains and rules made of a few
// match shapes. The text renderer prints it; the netlink applier turns the same objects
// into one batch, so both always install the same thing.
#include <functional>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "wardgate/core/content_memo.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate::nft {

enum class KeyType { ipv4_addr, ipv6_addr, inet_proto, inet_service, icmp_type, icmpv6_type };
std::string_view to_string(KeyType k);
// How wardgate writes a layer 4 protocol number for nft: tcp, udp, icmp, ipv6-icmp, else
// the number (nft reads other names from the system's protocol list, which may lack them).
std::string protocol_name(uint8_t protocol);
// The nft keyword of a protocol with ports (tcp, udp, sctp, udplite), for "KEYWORD dport".
std::string_view port_protocol_keyword(uint8_t protocol);

struct ElementPart {
    enum class Kind : uint8_t { prefix, protocol, port, icmp_type };
    Kind kind = Kind::prefix;
    Prefix prefix;       // Kind::prefix (a host prefix is a plain address)
    uint16_t value = 0;  // protocol number, port or ICMP(v6) type
    bool operator==(const ElementPart&) const = default;
};

// The parts of one element, held inline: a concatenation has at most four (addresses, addresses,
// protocol, port), and a set of a hundred thousand elements is then one allocation, not one per
// element (lowered, copied and compared after every edit).
class ElementParts {
public:
    static constexpr size_t kMax = 4;
    ElementParts() = default;
    ElementParts(std::initializer_list<ElementPart> parts) {
        for (const auto& p : parts) push_back(p);
    }
    void push_back(const ElementPart& p) {
        if (size_ == kMax) throw std::length_error("an nftables element has at most 4 parts");
        parts_[size_++] = p;
    }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const ElementPart& operator[](size_t i) const { return parts_[i]; }
    ElementPart& operator[](size_t i) { return parts_[i]; }
    const ElementPart* begin() const { return parts_.data(); }
    const ElementPart* end() const { return parts_.data() + size_; }
    bool operator==(const ElementParts& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }

private:
    std::array<ElementPart, kMax> parts_{};
    uint8_t size_ = 0;
};

struct Element {
    ElementParts parts;              // one per key type (concatenation)
    std::string jump;                // for verdict maps: the chain to jump to
    bool operator==(const Element&) const = default;
};

struct Set {
    std::string name;
    std::vector<KeyType> key;  // more than one: a concatenation
    bool interval = false;     // elements hold prefixes that are not single hosts
    bool verdict_map = false;  // elements map to "jump <chain>"
    std::string comment;
    std::vector<Element> elements;
    std::string note;  // text form only: a comment line above the set, not installed
    bool operator==(const Set&) const = default;
};

enum class AddrDir { saddr, daddr };

struct Match {
    enum class Kind {
        nfproto,      // meta nfproto ipv4|ipv6
        address_set,  // ip saddr @set
        l4proto,      // meta l4proto tcp|udp|icmp|ipv6-icmp
        dport,        // tcp dport 443 | tcp dport { 104, 11112 } | udp dport 1000-2000 | sctp dport 2905
        ct_state,     // ct state established,related | invalid
        icmp_type,    // icmp type echo-request | icmpv6 type packet-too-big | icmp type 3 icmp code 4
    };
    Kind kind = Kind::l4proto;
    Family family = Family::v4;
    AddrDir dir = AddrDir::saddr;
    std::string set;                  // address_set
    uint8_t l4proto = 0;              // l4proto and dport: IPPROTO_*
    std::vector<PortRange> ports;     // dport
    std::vector<std::string> states;  // ct_state: established, related, invalid
    uint8_t icmp_type = 0;            // icmp_type (of `family`)
    int16_t icmp_code = -1;           // icmp_type: -1 for every code
};

// ip saddr . ip daddr [. meta l4proto [. th dport]] @set  — the baseline lookups
struct ConcatLookup {
    // addresses . the protocol [. the destination port], or addresses . the ICMP(v6) type
    enum class Key { addresses, protocol, protocol_port, icmp_type };
    Family family = Family::v4;
    Key key = Key::protocol_port;
    std::string set;
};

// ip saddr vmap @map
struct VerdictMapLookup {
    Family family = Family::v4;
    AddrDir dir = AddrDir::saddr;
    std::string map;
};

struct Log {
    std::string prefix;
    uint16_t group = 0;  // 0: kernel log instead of NFLOG
};

struct Verdict {
    enum class Kind { none, accept, drop, jump };
    Kind kind = Kind::none;
    std::string chain;  // jump
};

struct Rule {
    std::vector<Match> matches;
    std::optional<ConcatLookup> concat;
    std::optional<VerdictMapLookup> vmap;  // the rule's verdict comes from the map
    std::optional<Log> log;
    bool counter = false;
    Verdict verdict;
    std::string comment;  // at most 127 bytes
};

struct Chain {
    std::string name;
    bool base = false;  // type filter hook forward priority filter; policy drop
    std::vector<Rule> rules;
};

struct Ruleset {
    std::string table = "wardgate";  // family inet
    std::vector<std::string> header;  // comment lines for the text form
    std::vector<Set> sets;           // address sets, baseline sets, then verdict maps
    std::vector<Chain> chains;       // accept (counting) and drop chains first (jump targets), forward last
};

Ruleset lower_policy(const Policy& policy);
// The `nft -f` text; without the header comments (which never reach the kernel) when asked.
std::string print_ruleset(const Ruleset& r, bool with_header = true);
// What identifies a ruleset: FNV-1a 64 over its `nft -f` text without the header comments, in
// which each set's text counts by its own FNV-1a 64 digest. `kept` holds the digests while the
// sets are the same (serve takes it after every edit, and most sets do not change).
using SetDigests = ContentMemo<Set, uint64_t>;
uint64_t ruleset_digest(const Ruleset& r, SetDigests* kept = nullptr);

}  // namespace wardgate::nft
