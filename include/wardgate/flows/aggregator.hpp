#pragma once
// Folds FlowRecords into edges keyed by (initiator, responder, protocol, responder port).
// Memory grows with distinct edges, not with records.
#include <unordered_map>
#include <vector>

#include "wardgate/flows/flow_record.hpp"

namespace wardgate {

class Aggregator {
public:
    void add(const FlowRecord& r);
    void merge(const Aggregator& other);
    size_t size() const { return edges_.size(); }
    uint64_t records() const { return records_; }
    // Sorted by key, so output built from it is deterministic.
    std::vector<ObservedEdge> edges() const;

private:
    std::unordered_map<EdgeKey, EdgeStats, EdgeKeyHash> edges_;
    uint64_t records_ = 0;
};

}  // namespace wardgate
