#pragma once
// Lookups of an address among many prefixes or addresses, shared by the address book (devices
// and segments of a site) and the policy evaluator (groups and segments of a policy).
#include <cstdint>
#include <utility>
#include <vector>

#include "wardgate/core/net.hpp"

namespace wardgate {

// Where each IPv4 /16 begins in a list sorted by IPv4 address: a lookup searches one /16's
// entries, not the whole list. 65,537 offsets (256 KiB), whatever the list's size.
class V4Buckets {
public:
    V4Buckets() = default;
    // top16(i): the top 16 bits of the i-th entry's address (host order); entries in address order.
    template <typename Top16>
    V4Buckets(size_t count, Top16 top16) : start_(65537) {
        for (uint32_t k = 0, i = 0; k <= 65536; ++k) {
            while (i < count && top16(i) < k) ++i;
            start_[k] = i;
        }
    }
    // The entries [first, last) whose address shares the /16 of `address` (host order).
    std::pair<uint32_t, uint32_t> range(uint32_t address) const {
        return {start_[address >> 16], start_[(address >> 16) + 1]};
    }

private:
    std::vector<uint32_t> start_;
};

// Which of many (prefix, owner) pairs holds an address: the lowest owner among those whose
// prefix contains it (segments numbered in site order: the first wins, overlaps included).
// The prefixes are kept sorted with the highest address any of them up to each one reaches,
// so a lookup is a binary search and a walk back only over prefixes that can still reach it.
class PrefixOwners {
public:
    PrefixOwners() = default;
    explicit PrefixOwners(std::vector<std::pair<Prefix, int>> prefixes);
    int owner_of(const IpAddress& a) const;  // -1: none

private:
    struct Entry {
        Prefix prefix;
        IpAddress reach;
        int owner = -1;
    };
    std::vector<Entry> entries_;
};

}  // namespace wardgate
