#include "wardgate/flows/aggregator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace wardgate {

namespace {

constexpr size_t kMinSlots = 16;

uint64_t mixed_hash(const EdgeKey& key) { return EdgeKeyHash{}(key) * 0x9E3779B97F4A7C15ULL; }

// Slot counts are powers of two; the top bits of the hash pick the first slot to probe.
size_t first_slot(uint64_t hash, size_t slot_count) {
    return static_cast<size_t>(hash >> (64 - std::countr_zero(slot_count)));
}

// The hash's top half. first_slot() needs only these bits, so rehash() need not touch the edges.
uint64_t tag_of(uint64_t hash) { return hash >> 32; }

EdgeStats stats_of(const FlowRecord& r) {
    return EdgeStats{r.start, r.start + r.duration, r.connections, r.bytes, r.established, r.applications, 0};
}

// The defaulted operator== ends up calling memcmp for the address arrays; this is the hot loop's compare.
bool same_address(const IpAddress& a, const IpAddress& b) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.bytes.data(), 8);
    std::memcpy(&a1, a.bytes.data() + 8, 8);
    std::memcpy(&b0, b.bytes.data(), 8);
    std::memcpy(&b1, b.bytes.data() + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0 && a.family == b.family;
}

bool same_key(const EdgeKey& a, const EdgeKey& b) {
    return a.responder_port == b.responder_port && a.protocol == b.protocol && same_address(a.responder, b.responder) &&
           same_address(a.initiator, b.initiator);
}

void fold(EdgeStats& into, const EdgeStats& from) {
    into.first_seen = std::min(into.first_seen, from.first_seen);
    into.last_seen = std::max(into.last_seen, from.last_seen);
    into.connections += from.connections;
    into.bytes += from.bytes;
    into.established = into.established || from.established;
    into.applications |= from.applications;
}

}  // namespace

void Aggregator::reserve(size_t edges) {
    if (edges > entries_.size()) make_room(edges - entries_.size());
}

void Aggregator::rehash(size_t slot_count) {
    std::vector<uint64_t> old(slot_count, 0);
    old.swap(slots_);
    const size_t mask = slot_count - 1;
    // Walking the old index in order fills the new one in (nearly) sequential order too.
    for (uint64_t s : old) {
        if (s == 0) continue;
        size_t slot = first_slot(s & ~0xFFFFFFFFULL, slot_count);
        while (slots_[slot] != 0) slot = (slot + 1) & mask;
        slots_[slot] = s;
    }
}

// Grows the index (and the edge array) so that new_edges more edges fit without moving anything.
void Aggregator::make_room(size_t new_edges) {
    size_t needed = entries_.size() + new_edges;
    // Slots hold 32-bit edge indexes and rehash() places them by 32 hash bits.
    if (needed > (size_t{1} << 31)) throw std::length_error("Aggregator: more than 2^31 distinct edges");
    if (needed * 2 > slots_.size()) rehash(std::bit_ceil(std::max(kMinSlots, needed * 2)));  // load factor <= 1/2
    if (needed > entries_.capacity()) entries_.reserve(std::max(needed, entries_.capacity() * 2));
}

ObservedEdge& Aggregator::locate(const EdgeKey& key, uint64_t hash, bool& created) {
    const uint64_t tag = tag_of(hash);
    const size_t mask = slots_.size() - 1;
    for (size_t slot = first_slot(hash, slots_.size());; slot = (slot + 1) & mask) {
        uint64_t s = slots_[slot];
        if (s == 0) {
            entries_.push_back({key, {}, {}});
            slots_[slot] = tag << 32 | entries_.size();
            created = true;
            return entries_.back();
        }
        if (s >> 32 == tag) {
            ObservedEdge& edge = entries_[(s & 0xFFFFFFFFULL) - 1];
            if (same_key(edge.key, key)) {
                created = false;
                return edge;
            }
        }
    }
}

void Aggregator::fold_in(const EdgeKey& key, const FlowRecord& record, uint64_t hash) {
    bool created = false;
    ObservedEdge& edge = locate(key, hash, created);
    if (created)
        edge.stats = stats_of(record);
    else
        fold(edge.stats, stats_of(record));
    // A record that only adds to a connection counted earlier (connections 0) adds no day.
    if (record.connections > 0 && edge.days.insert(utc_day(record.start)))
        edge.stats.days_seen = static_cast<uint32_t>(edge.days.size());
}

void Aggregator::fold_in(const ObservedEdge& from, uint64_t hash) {
    bool created = false;
    ObservedEdge& edge = locate(from.key, hash, created);
    if (created) {
        edge.stats = from.stats;
        edge.days = from.days;
    } else {
        fold(edge.stats, from.stats);
        edge.days.merge(from.days);
    }
    edge.stats.days_seen = static_cast<uint32_t>(edge.days.size());
}

void Aggregator::add(const FlowRecord& r) {
    make_room(1);
    EdgeKey key = edge_key(r);
    fold_in(key, r, mixed_hash(key));
    ++records_;
}

void Aggregator::add(const ObservedEdge& edge) {
    make_room(1);
    fold_in(edge, mixed_hash(edge.key));
    ++records_;
}

void Aggregator::add(std::span<const FlowRecord> records) {
    constexpr size_t kBatch = 16;
    EdgeKey keys[kBatch];
    uint64_t hashes[kBatch];
    while (!records.empty()) {
        const size_t n = std::min(kBatch, records.size());
        make_room(n);  // nothing moves while the batch is in flight
        // Hash the whole batch and touch its slots and edges before folding any of it,
        // so the cache misses of the batch overlap instead of queueing one by one.
        for (size_t i = 0; i < n; ++i) {
            keys[i] = edge_key(records[i]);
            hashes[i] = mixed_hash(keys[i]);
            __builtin_prefetch(&slots_[first_slot(hashes[i], slots_.size())]);
        }
        for (size_t i = 0; i < n; ++i) {
            uint64_t s = slots_[first_slot(hashes[i], slots_.size())];
            if (s != 0 && s >> 32 == tag_of(hashes[i])) __builtin_prefetch(&entries_[(s & 0xFFFFFFFFULL) - 1]);
        }
        for (size_t i = 0; i < n; ++i) fold_in(keys[i], records[i], hashes[i]);
        records_ += n;
        records = records.subspan(n);
    }
}

void Aggregator::merge(const Aggregator& other) {
    if (&other == this) {
        // Merging into itself would walk entries_ while fold_in grows it: merge a snapshot.
        Aggregator copy = other;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the point
        merge(copy);
        return;
    }
    make_room(other.entries_.size());
    for (const auto& edge : other.entries_) fold_in(edge, mixed_hash(edge.key));
    records_ += other.records_;
    for (const auto& [key, sighting] : other.sightings_) note(sighting);
    for (const auto& [key, sighting] : other.macs_) note_mac(sighting);
}

void Aggregator::merge(Aggregator&& other) {
    if (entries_.empty() && sightings_.empty() && macs_.empty() && &other != this) {
        const uint64_t records = records_ + other.records_;
        *this = std::move(other);
        records_ = records;
        other = Aggregator{};
        return;
    }
    merge(static_cast<const Aggregator&>(other));
}

void Aggregator::note(ApplicationSighting sighting) {
    auto [it, inserted] = sightings_.try_emplace({sighting.key, sighting.application, sighting.subject}, sighting);
    if (!inserted && sighting.first_seen < it->second.first_seen) it->second = std::move(sighting);
}

std::vector<ApplicationSighting> Aggregator::sightings() const {
    std::vector<ApplicationSighting> out;
    out.reserve(sightings_.size());
    for (const auto& [key, sighting] : sightings_) out.push_back(sighting);
    return out;
}

void Aggregator::note_mac(const MacSighting& sighting) {
    auto [it, inserted] = macs_.try_emplace({sighting.address, sighting.mac}, sighting);
    if (inserted) return;
    it->second.first_seen = std::min(it->second.first_seen, sighting.first_seen);
    it->second.last_seen = std::max(it->second.last_seen, sighting.last_seen);
}

std::vector<MacSighting> Aggregator::macs() const {
    std::vector<MacSighting> out;
    out.reserve(macs_.size());
    for (const auto& [key, sighting] : macs_) out.push_back(sighting);
    return out;
}

std::string mac_text(uint64_t mac) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", (mac >> 40) & 0xff, (mac >> 32) & 0xff,
                       (mac >> 24) & 0xff, (mac >> 16) & 0xff, (mac >> 8) & 0xff, mac & 0xff);
}

std::vector<ObservedEdge> Aggregator::edges() const {
    std::vector<ObservedEdge> out = entries_;
    std::sort(out.begin(), out.end(), [](const ObservedEdge& a, const ObservedEdge& b) { return a.key < b.key; });
    return out;
}

}  // namespace wardgate
