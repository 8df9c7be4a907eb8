#pragma once
// The table as the kernel holds it, in wire encoding: what the batch sends, what a dump
// returns, and what drift checks and incremental updates compare. The desired side is
// built from nft::Ruleset exactly as `nft -f` would encode the printed text.
#include <netinet/in.h>  // before the linux/ headers, which define the same names
#include <linux/netfilter/nf_tables.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::netlink::detail {

// Element flag bits kept per element (not the wire layout).
inline constexpr uint8_t kElemIntervalEnd = NFT_SET_ELEM_INTERVAL_END;  // 1
inline constexpr uint8_t kElemCatchall = 2;                               // NFT_SET_ELEM_CATCHALL
inline constexpr uint8_t kElemOpen = 0x80;  // userdata NFTNL_SET_ELEM_F_INTERVAL_OPEN: range reaches the top

inline constexpr size_t kMaxKeyLen = 64;  // NFT_DATA_VALUE_MAXLEN

// Elements stored flat: no allocation per element, and two lists built from the same
// ruleset compare with one memcmp.
struct ElementList {
    uint32_t key_len = 0;   // bytes of one key, concatenated fields padded to 4
    bool ranged = false;    // each element carries key and key_end (concatenated intervals)
    bool map = false;       // elements carry a verdict
    std::vector<uint8_t> keys;          // size() * stride()
    std::vector<uint8_t> flags;         // kElem*
    std::vector<int32_t> verdicts;      // maps: NF_ACCEPT, NF_DROP, NFT_JUMP, ...; 0 where none
    std::vector<std::string> chains;    // maps: jump/goto target, empty where none

    uint32_t stride() const { return ranged ? 2 * key_len : key_len; }
    size_t size() const { return flags.size(); }
    const uint8_t* key(size_t i) const { return keys.data() + i * stride(); }
    const uint8_t* key_end(size_t i) const { return key(i) + key_len; }
    bool end(size_t i) const { return flags[i] & kElemIntervalEnd; }

    void push(const uint8_t* key, const uint8_t* key_end, uint8_t flags, int32_t verdict = 0, std::string chain = {});
    void reserve(size_t n);
    ElementList slice(size_t from, size_t to) const;  // elements [from, to)
    bool same_element(size_t i, const ElementList& other, size_t j) const;
    uint64_t element_hash(size_t i) const;
    bool operator==(const ElementList& o) const;
};

struct SetDef {
    std::string name;
    uint32_t flags = 0;
    uint32_t key_type = 0, key_len = 0;
    uint32_t data_type = 0, data_len = 0;
    std::vector<uint8_t> field_lens;  // NFTA_SET_DESC_CONCAT (concatenated interval sets)
    uint32_t size = 0;                // NFTA_SET_DESC_SIZE (anonymous sets)
    std::string udata;                // NFTA_SET_USERDATA bytes (byte order, typeof, comment)
    // The kernel reports its own size of a verdict (data_len) for verdict maps.
    bool operator==(const SetDef& o) const {
        return name == o.name && flags == o.flags && key_type == o.key_type && key_len == o.key_len &&
               data_type == o.data_type && (data_type == NFT_DATA_VERDICT || data_len == o.data_len) &&
               field_lens == o.field_lens && size == o.size && udata == o.udata;
    }

    bool interval() const { return flags & NFT_SET_INTERVAL; }
    bool anonymous() const { return flags & NFT_SET_ANONYMOUS; }
};

struct SetModel {
    SetDef def;
    std::vector<nft::KeyType> types;  // decoded from key_type; empty when unknown
    ElementList elems;
};

struct ChainModel {
    std::string name;
    bool base = false;
    std::string type;                 // "filter"
    uint32_t hook = 0;
    int32_t priority = 0;
    uint32_t policy = 0;              // NF_DROP / NF_ACCEPT
    std::vector<std::string> rules;   // canonical text of each rule's expressions
    std::vector<std::string> rule_comments;
    bool same_definition(const ChainModel& o) const {
        return name == o.name && base == o.base && type == o.type && hook == o.hook && priority == o.priority &&
               policy == o.policy;
    }
};

struct TableModel {
    std::string name;
    bool exists = false;
    std::vector<SetModel> sets;      // named sets and maps (anonymous sets live in rule texts)
    std::vector<ChainModel> chains;
    const SetModel* find_set(const std::string& name) const;
    const ChainModel* find_chain(const std::string& name) const;
};

// ---- encoding (encode.cpp) and readable text (element_text.cpp)

uint32_t key_len_of(nft::KeyType k);          // unpadded bytes
uint32_t padded_len(uint32_t len);            // a field of a concatenation: rounded up to 4 bytes
uint32_t datatype_of(nft::KeyType k);         // nftables datatype id
std::vector<nft::KeyType> decode_key_type(uint32_t key_type, uint32_t key_len);
SetDef set_def_of(const nft::Set& s);
ElementList encode_elements(const nft::Set& s);
SetModel set_model_of(const nft::Set& s);

// A closed range of keys decoded from interval elements (start .. end-1), with the
// element indices that make it up.
struct KeyRange {
    uint32_t start = 0;               // element index of the start
    std::optional<uint32_t> end;      // element index of the end; none: open to the top
    std::optional<uint32_t> cut;      // no end element: the next start ends it (not nft's encoding)
};
struct DecodedIntervals {
    std::vector<KeyRange> ranges;     // sorted by start key
    std::vector<uint32_t> strays;     // end elements closing nothing (nft's leading 0 end)
};
DecodedIntervals decode_intervals(const ElementList& elems);
// The same range in both lists (same keys, same data)?
bool same_range(const ElementList& a, const KeyRange& ra, const ElementList& b, const KeyRange& rb);

// Readable element text: "10.50.0.10", "10.110.0.0/24 : jump drop_icu", "10.90.0.21 . 10.50.0.5 . udp . 123".
std::string element_text(const SetModel& s, size_t i);
std::string range_text(const SetModel& s, const KeyRange& r);
std::string hex(const void* data, size_t len);

// ---- rules (expressions.cpp, rule_text.cpp)

struct AnonSet {
    SetModel set;
    uint32_t id = 0;                  // NFTA_SET_ID inside the batch
};

struct SetIds {
    std::unordered_map<std::string, uint32_t> by_name;  // named set -> NFTA_SET_ID
    uint32_t next = 1;
    uint32_t id_of(const std::string& name) const;
};

}  // namespace wardgate::netlink::detail
