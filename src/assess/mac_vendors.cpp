#include "wardgate/assess/mac_vendors.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <fstream>

#include "wardgate/core/csv.hpp"

namespace wardgate {

namespace {

constexpr std::array<size_t, 3> kDigits{6, 7, 9};

int width_index(size_t digits) {
    for (size_t i = 0; i < kDigits.size(); ++i)
        if (kDigits[i] == digits) return static_cast<int>(i);
    return -1;
}

std::optional<uint64_t> hex_value(std::string_view hex) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (ec != std::errc() || end != hex.data() + hex.size()) return std::nullopt;
    return v;
}

}  // namespace

void MacVendors::add(std::string_view hex, std::string organisation) {
    const int w = width_index(hex.size());
    auto v = hex_value(hex);
    if (w < 0 || !v || organisation.empty()) return;
    by_prefix_[w].emplace(*v, std::move(organisation));
}

MacVendors MacVendors::load(const std::filesystem::path& dir) {
    MacVendors out;
    for (const char* name : {"oui.csv", "mam.csv", "oui36.csv"}) {
        std::ifstream in(dir / name);
        std::string line;
        if (!in || !std::getline(in, line)) continue;  // the header: Registry,Assignment,Organization Name,...
        while (std::getline(in, line)) {
            auto fields = split_csv_line(line);
            if (!fields || fields->size() < 3) continue;
            out.add(trim((*fields)[1]), trim((*fields)[2]));
        }
    }
    return out;
}

std::string MacVendors::lookup(std::string_view mac) const {
    std::string hex;
    for (char c : mac) {
        if (c == ':' || c == '-' || c == '.') continue;
        hex += c;
    }
    if (hex.size() != 12) return {};
    auto value = hex_value(hex);
    if (!value) return {};
    const uint64_t first_octet = *value >> 40;
    if (first_octet & 0x02) return {};  // locally administered
    for (int w = 2; w >= 0; --w) {
        const uint64_t prefix = *value >> (4 * (12 - kDigits[w]));
        if (auto it = by_prefix_[w].find(prefix); it != by_prefix_[w].end()) return it->second;
    }
    return {};
}

}  // namespace wardgate
