#pragma once
// The distinct UTC days an edge was seen on (EdgeStats::days_seen counts them).
#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace wardgate {

// The UTC day (days since 1970-01-01) of a time in seconds since the epoch; times before
// the epoch (or not a number) count as day 0, absurdly late ones as the last day.
inline uint32_t utc_day(double seconds) {
    if (!(seconds > 0)) return 0;
    const double day = seconds / 86400;
    return day < 4294967294.0 ? static_cast<uint32_t>(day) : UINT32_MAX - 1;  // UINT32_MAX: DaySet's "none"
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
    std::span<const uint32_t> days() const { return {days_.data(), days_.size()}; }
    static DaySet of(std::vector<uint32_t> days);  // sorts and removes duplicates
    bool operator==(const DaySet& other) const { return days_ == other.days_; }

private:
    // Most edges are seen on a day or two: those days sit in the edge itself, so copying or
    // freeing a few hundred thousand edges (every reload) does not touch the heap for them.
    boost::container::small_vector<uint32_t, 2> days_;
    // The day inserted last: records of an edge mostly come from one day, and checking
    // this first spares a look into the vector's heap block.
    uint32_t recent_ = UINT32_MAX;
};

}  // namespace wardgate
