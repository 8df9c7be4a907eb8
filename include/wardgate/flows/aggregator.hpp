#pragma once
// Folds FlowRecords into edges keyed by (initiator, responder, protocol, responder port).
// Memory grows with distinct edges (and the distinct days each was seen), not with records.
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "wardgate/flows/flow_record.hpp"

namespace wardgate {

class Aggregator {
public:
    void add(const FlowRecord& r);
    // Same as add() for each record; faster for bulk ingest because the lookups of
    // neighbouring records overlap their memory accesses.
    void add(std::span<const FlowRecord> records);
    // Folds in an edge aggregated elsewhere (a stored baseline), with its days.
    void add(const ObservedEdge& edge);
    void merge(const Aggregator& other);
    // Takes other's edges wholesale when this is empty (the common "read one file" case).
    void merge(Aggregator&& other);
    // Keeps what showed an application on an edge: the earliest sighting per edge, application and subject.
    void note(ApplicationSighting sighting);
    // Sorted by edge, then application.
    std::vector<ApplicationSighting> sightings() const;
    // Keeps which MAC an address's frames came from, first and last time.
    void note_mac(const MacSighting& sighting);
    std::vector<MacSighting> macs() const;  // sorted by address, then MAC
    // Sizes the index for about this many distinct edges, so it does not grow during an ingest.
    void reserve(size_t edges);
    size_t size() const { return entries_.size(); }
    uint64_t records() const { return records_; }
    // Sorted by key, so output built from it is deterministic.
    std::vector<ObservedEdge> edges() const;

private:
    // Adds a record to its edge, creating the edge if new. hash is mixed_hash(key).
    void fold_in(const EdgeKey& key, const FlowRecord& record, uint64_t hash);
    void fold_in(const ObservedEdge& edge, uint64_t hash);
    // The key's edge; a new one (key only, zero stats) when `created` comes back true.
    ObservedEdge& locate(const EdgeKey& key, uint64_t hash, bool& created);
    void make_room(size_t new_edges);
    void rehash(size_t slot_count);

    // An open-addressing index over a dense edge array: an ingest of millions of rows
    // into hundreds of thousands of edges spends most of its time here, and node-based
    // maps cost an allocation and a cache miss per edge.
    std::vector<ObservedEdge> entries_;  // in insertion order
    std::vector<uint64_t> slots_;        // (hash tag << 32) | (entry index + 1); 0 = empty
    uint64_t records_ = 0;
    // Few edges carry a recognised application; their evidence lives beside the dense array.
    std::map<std::tuple<EdgeKey, Application, std::string>, ApplicationSighting> sightings_;
    std::map<std::pair<IpAddress, uint64_t>, MacSighting> macs_;
};

}  // namespace wardgate
