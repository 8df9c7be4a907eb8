#include "wardgate/core/prefix_lookup.hpp"

#include <algorithm>

namespace wardgate {

PrefixOwners::PrefixOwners(std::vector<std::pair<Prefix, int>> prefixes) {
    std::sort(prefixes.begin(), prefixes.end());
    entries_.reserve(prefixes.size());
    for (const auto& [prefix, owner] : prefixes) {
        IpAddress reach = prefix.last();
        if (!entries_.empty()) reach = std::max(reach, entries_.back().reach);
        entries_.push_back({prefix, reach, owner});
    }
}

int PrefixOwners::owner_of(const IpAddress& a) const {
    auto it = std::partition_point(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.prefix.address <= a; });
    int found = -1;
    while (it != entries_.begin()) {
        --it;
        if (it->reach < a) break;
        if (it->prefix.contains(a) && (found < 0 || it->owner < found)) found = it->owner;
    }
    return found;
}

}  // namespace wardgate
