#include <algorithm>
#include <iterator>

#include "wardgate/flows/day_set.hpp"

namespace wardgate {

bool DaySet::insert(uint32_t day) {
    if (day == recent_) return false;
    recent_ = day;
    if (days_.empty() || days_.back() < day) {
        days_.push_back(day);
        return true;
    }
    auto at = std::lower_bound(days_.begin(), days_.end(), day);
    if (*at == day) return false;
    days_.insert(at, day);
    return true;
}

void DaySet::merge(const DaySet& other) {
    if (other.days_.empty()) return;
    if (days_.empty()) {
        days_ = other.days_;
        return;
    }
    decltype(days_) out;
    out.reserve(days_.size() + other.days_.size());
    std::set_union(days_.begin(), days_.end(), other.days_.begin(), other.days_.end(), std::back_inserter(out));
    days_ = std::move(out);
}

void DaySet::drop_before(uint32_t first_kept) {
    days_.erase(days_.begin(), std::lower_bound(days_.begin(), days_.end(), first_kept));
    recent_ = UINT32_MAX;
}

DaySet DaySet::of(std::vector<uint32_t> days) {
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    DaySet out;
    out.days_.assign(days.begin(), days.end());
    return out;
}

}  // namespace wardgate
