#pragma once
// What every flow source emits, and the aggregated edge baseline built from it.
#include <cstdint>
#include <string>
#include <vector>

#include "wardgate/core/net.hpp"

namespace wardgate {

// One observed connection: who initiated it, to whom, and what happened.
struct FlowRecord {
    IpAddress initiator;
    IpAddress responder;
    Protocol protocol = Protocol::tcp;
    uint16_t responder_port = 0;  // 0 for ICMP
    double start = 0;             // seconds since the Unix epoch
    double duration = 0;
    uint64_t bytes = 0;           // both directions, payload as the source reports it
    bool established = false;     // a reply was seen (Zeek conn_state other than S0, REJ, OTH, SH...)
    uint32_t connections = 1;     // a pre-aggregated source row may stand for several connections
};

// Aggregation key: (initiator, responder, protocol, responder port).
struct EdgeKey {
    IpAddress initiator;
    IpAddress responder;
    Protocol protocol = Protocol::tcp;
    uint16_t responder_port = 0;

    auto operator<=>(const EdgeKey&) const = default;
};

struct EdgeKeyHash {
    size_t operator()(const EdgeKey& k) const noexcept {
        IpAddressHash h;
        size_t x = h(k.initiator) * 31 + h(k.responder);
        return x ^ ((static_cast<size_t>(k.protocol) << 16 | k.responder_port) * 0x9E3779B97F4A7C15ULL);
    }
};

struct EdgeStats {
    double first_seen = 0;
    double last_seen = 0;  // start + duration of the latest connection
    uint64_t connections = 0;
    uint64_t bytes = 0;
    bool established = false;  // any connection on this edge was established
    uint32_t days_seen = 0;    // distinct UTC days with at least one connection on this edge
};

// The UTC day (days since 1970-01-01) of a time in seconds since the epoch.
inline uint32_t utc_day(double seconds) {
    return seconds > 0 ? static_cast<uint32_t>(seconds / 86400) : 0;
}

// The distinct UTC days behind EdgeStats::days_seen, sorted. Kept per edge so that
// merging baselines (files in any order, several sources) never counts a day twice.
class DaySet {
public:
    // Adds a day; true when it was not there yet.
    bool insert(uint32_t day);
    void merge(const DaySet& other);
    // Drops the days before `first_kept`.
    void drop_before(uint32_t first_kept);
    size_t size() const { return days_.size(); }
    bool empty() const { return days_.empty(); }
    const std::vector<uint32_t>& days() const { return days_; }
    static DaySet of(std::vector<uint32_t> days);  // sorts and removes duplicates
    bool operator==(const DaySet& other) const { return days_ == other.days_; }

private:
    std::vector<uint32_t> days_;
    // The day inserted last: records of an edge mostly come from one day, and checking
    // this first spares a look into the vector's heap block.
    uint32_t recent_ = UINT32_MAX;
};

struct ObservedEdge {
    EdgeKey key;
    EdgeStats stats;
    DaySet days;  // stats.days_seen == days.size() once the aggregator built it
};

}  // namespace wardgate
