#pragma once
// Who a MAC address was assigned to, from the IEEE registration authority's public
// listings (Debian's ieee-data: oui.csv for MA-L, mam.csv for MA-M, oui36.csv for MA-S).
// The longest assignment wins: a 36-bit block inside a 24-bit one names its own owner.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wardgate {

inline const std::filesystem::path kIeeeDataDir = "/usr/share/ieee-data";

class MacVendors {
public:
    // Reads the listings found in `dir`; a missing file is skipped (available() says whether any was read).
    static MacVendors load(const std::filesystem::path& dir = kIeeeDataDir);
    bool available() const { return !by_prefix_[0].empty() || !by_prefix_[1].empty() || !by_prefix_[2].empty(); }
    // "aa:bb:cc:dd:ee:ff" (or with '-' separators) -> organisation; empty when unassigned or
    // locally administered (a randomised MAC names no manufacturer).
    std::string lookup(std::string_view mac) const;
    // Adds one assignment: `hex` is 6, 7 or 9 hex digits.
    void add(std::string_view hex, std::string organisation);

private:
    // MA-L (24 bits), MA-M (28), MA-S (36): prefix value -> organisation.
    std::unordered_map<uint64_t, std::string> by_prefix_[3];
};

}  // namespace wardgate
