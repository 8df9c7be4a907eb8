// ElementList and TableModel: flat element storage, comparison and hashing.
#include <cstring>
#include <functional>

#include "model.hpp"

namespace wardgate::netlink::detail {

namespace {

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

}  // namespace

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

}  // namespace wardgate::netlink::detail
