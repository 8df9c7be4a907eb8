#include "wardgate/core/name_index.hpp"

#include <bit>
#include <functional>

namespace wardgate {

namespace {

uint64_t hash_of(std::string_view name) { return std::hash<std::string_view>{}(name); }

}  // namespace

void NameIndex::reserve(size_t expected) {
    names_.reserve(expected);
    // At most half full: probes stay short.
    const size_t wanted = std::bit_ceil(std::max<size_t>(16, 2 * expected));
    if (wanted <= slots_.size()) return;
    std::vector<Slot> old(wanted);
    old.swap(slots_);
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
        if (!s.entry) continue;
        size_t i = hash_of(names_[s.entry - 1].name) & mask;
        while (slots_[i].entry) i = (i + 1) & mask;
        slots_[i] = s;
    }
}

void NameIndex::grow() { reserve(2 * names_.size() + 1); }

std::optional<uint32_t> NameIndex::insert(std::string_view name, uint32_t position) {
    if (2 * (names_.size() + 1) > slots_.size()) grow();
    const uint64_t h = hash_of(name);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (!s.entry) {
            names_.push_back({name, position});
            s = {static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(h)};
            return std::nullopt;
        }
        if (s.hash == static_cast<uint32_t>(h) && names_[s.entry - 1].name == name) return names_[s.entry - 1].position;
    }
}

std::optional<uint32_t> NameIndex::find(std::string_view name) const {
    if (slots_.empty()) return std::nullopt;
    const uint64_t h = hash_of(name);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (!s.entry) return std::nullopt;
        if (s.hash == static_cast<uint32_t>(h) && names_[s.entry - 1].name == name) return names_[s.entry - 1].position;
    }
}

}  // namespace wardgate
