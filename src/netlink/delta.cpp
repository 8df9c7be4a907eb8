#include "delta.hpp"

#include <cstring>
#include <unordered_map>

namespace wardgate::netlink::detail {

namespace {

// Open addressing over the elements of one list: no allocation per element.
class ElementIndex {
public:
    explicit ElementIndex(const ElementList& e) : e_(e) {
        size_t cap = 16;
        while (cap < 2 * e.size() + 1) cap *= 2;
        slots_.assign(cap, kEmpty);
        mask_ = cap - 1;
        for (uint32_t i = 0; i < e.size(); ++i) {
            size_t s = e.element_hash(i) & mask_;
            while (slots_[s] != kEmpty) s = (s + 1) & mask_;
            slots_[s] = i;
        }
    }
    bool contains(const ElementList& other, size_t j) const { return find(other, j) != kEmpty; }
    uint32_t find(const ElementList& other, size_t j) const {
        for (size_t s = other.element_hash(j) & mask_; slots_[s] != kEmpty; s = (s + 1) & mask_)
            if (e_.same_element(slots_[s], other, j)) return slots_[s];
        return kEmpty;
    }
    static constexpr uint32_t kEmpty = UINT32_MAX;

private:
    const ElementList& e_;
    std::vector<uint32_t> slots_;
    size_t mask_ = 0;
};

bool single_field_interval(const SetModel& s) { return s.def.interval() && !s.elems.ranged; }

// Walks the ranges of both sets in key order.
template <typename Same, typename OnlyDesired, typename OnlyLive>
void walk_ranges(const SetModel& desired, const DecodedIntervals& d, const SetModel& live, const DecodedIntervals& l,
                 Same same, OnlyDesired only_desired, OnlyLive only_live) {
    const uint32_t n = desired.elems.key_len;
    size_t i = 0, j = 0;
    while (i < d.ranges.size() || j < l.ranges.size()) {
        int c = i == d.ranges.size()   ? 1
                : j == l.ranges.size() ? -1
                                       : std::memcmp(desired.elems.key(d.ranges[i].start), live.elems.key(l.ranges[j].start), n);
        if (c == 0 && same_range(desired.elems, d.ranges[i], live.elems, l.ranges[j])) {
            same(d.ranges[i], l.ranges[j]);
            ++i, ++j;
        } else if (c == 0) {
            only_live(l.ranges[j++]);
            only_desired(d.ranges[i++]);
        } else if (c < 0) {
            only_desired(d.ranges[i++]);
        } else {
            only_live(l.ranges[j++]);
        }
    }
}

SetDelta interval_delta(const SetModel& desired, const SetModel& live) {
    SetDelta out{&desired, &live, {}, {}, 0, 0};
    DecodedIntervals d = decode_intervals(desired.elems), l = decode_intervals(live.elems);
    std::vector<uint32_t> add_ranges;
    walk_ranges(
        desired, d, live, l, [](const KeyRange&, const KeyRange&) {},
        [&](const KeyRange& r) {
            add_ranges.push_back(r.start);
            if (r.end) add_ranges.push_back(*r.end);
            ++out.ranges_added;
        },
        [&](const KeyRange& r) {
            out.remove.push_back(r.start);
            if (r.end) out.remove.push_back(*r.end);
            ++out.ranges_removed;
        });
    // Loose ends (nft's leading end element at key 0): keep, drop or add as the encodings differ.
    auto has = [](const ElementList& e, const std::vector<uint32_t>& list, const ElementList& o, uint32_t k) {
        for (uint32_t x : list)
            if (e.same_element(x, o, k)) return true;
        return false;
    };
    for (uint32_t k : l.strays)
        if (!has(desired.elems, d.strays, live.elems, k)) out.remove.push_back(k);
    for (uint32_t k : d.strays)
        if (!has(live.elems, l.strays, desired.elems, k)) out.add.push_back(k);
    // Ascending key order, start before end: no transient overlap in the kernel's tree.
    out.add.insert(out.add.end(), add_ranges.begin(), add_ranges.end());
    return out;
}

// Elements are unique within a set, so what both lists hold at the same place at their
// start and end is kept, and only the middle needs the hash comparison. The desired list
// keeps the lowering's stable order, so one device more or less leaves a tiny middle.
SetDelta element_set_delta(const SetModel& desired, const SetModel& live) {
    SetDelta out{&desired, &live, {}, {}, 0, 0};
    const ElementList &d = desired.elems, &l = live.elems;
    size_t n = d.size(), m = l.size(), pre = 0, suf = 0;
    while (pre < n && pre < m && d.same_element(pre, l, pre)) ++pre;
    while (suf < n - pre && suf < m - pre && d.same_element(n - 1 - suf, l, m - 1 - suf)) ++suf;
    ElementList dm = d.slice(pre, n - suf), lm = l.slice(pre, m - suf);
    ElementIndex in_live(lm), in_desired(dm);
    for (uint32_t i = 0; i < dm.size(); ++i)
        if (!in_live.contains(dm, i)) out.add.push_back(static_cast<uint32_t>(pre + i));
    for (uint32_t j = 0; j < lm.size(); ++j)
        if (!in_desired.contains(lm, j)) out.remove.push_back(static_cast<uint32_t>(pre + j));
    out.ranges_added = out.add.size();
    out.ranges_removed = out.remove.size();
    return out;
}

}  // namespace

bool same_definitions(const TableModel& desired, const TableModel& live) {
    if (!live.exists || !desired.exists) return false;
    if (desired.sets.size() != live.sets.size() || desired.chains.size() != live.chains.size()) return false;
    std::unordered_map<std::string_view, const SetModel*> live_sets;
    for (const auto& s : live.sets) live_sets.emplace(s.def.name, &s);
    for (const auto& s : desired.sets) {
        auto it = live_sets.find(s.def.name);
        if (it == live_sets.end() || !(it->second->def == s.def)) return false;
    }
    for (const auto& c : desired.chains) {
        const ChainModel* l = live.find_chain(c.name);
        if (!l || !l->same_definition(c) || l->rules != c.rules) return false;
    }
    return true;
}

std::vector<SetDelta> element_delta(const TableModel& desired, const TableModel& live) {
    std::unordered_map<std::string_view, const SetModel*> live_sets;
    for (const auto& s : live.sets) live_sets.emplace(s.def.name, &s);
    std::vector<SetDelta> out;
    for (const auto& d : desired.sets) {
        auto it = live_sets.find(d.def.name);
        if (it == live_sets.end()) continue;
        const SetModel& l = *it->second;
        if (d.elems == l.elems) continue;  // the common case: an unchanged set, one memcmp
        SetDelta delta = single_field_interval(d) ? interval_delta(d, l) : element_set_delta(d, l);
        if (!delta.add.empty() || !delta.remove.empty()) out.push_back(std::move(delta));
    }
    return out;
}

ElementDiff element_diff(const SetModel& desired, const SetModel& live) {
    ElementDiff out;
    if (desired.elems.key_len != live.elems.key_len || desired.elems.ranged != live.elems.ranged) return out;
    if (single_field_interval(desired) && single_field_interval(live)) {
        DecodedIntervals d = decode_intervals(desired.elems), l = decode_intervals(live.elems);
        walk_ranges(
            desired, d, live, l, [](const KeyRange&, const KeyRange&) {},
            [&](const KeyRange& r) { out.missing.push_back(range_text(desired, r)); },
            [&](const KeyRange& r) { out.extra.push_back(range_text(live, r)); });
        return out;
    }
    ElementIndex in_live(live.elems), in_desired(desired.elems);
    for (uint32_t i = 0; i < desired.elems.size(); ++i)
        if (!in_live.contains(desired.elems, i)) out.missing.push_back(element_text(desired, i));
    for (uint32_t j = 0; j < live.elems.size(); ++j)
        if (!in_desired.contains(live.elems, j)) out.extra.push_back(element_text(live, j));
    return out;
}

}  // namespace wardgate::netlink::detail
