#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace wardgate {

// Names to their positions in a list, in one flat open-addressing table: a hundred thousand
// device names without a heap node each (a node-based map spends most of its time allocating
// and missing the cache). The first of equal names is the one found. Keeps views: the names
// must outlive the index and stay where they are.
class NameIndex {
public:
    NameIndex() = default;
    explicit NameIndex(size_t expected) { reserve(expected); }

    void reserve(size_t expected);
    // Adds the name at `position`; when it is already there, adds nothing and gives the
    // position of the first.
    std::optional<uint32_t> insert(std::string_view name, uint32_t position);
    std::optional<uint32_t> find(std::string_view name) const;
    size_t size() const { return names_.size(); }

private:
    struct Slot {
        uint32_t entry = 0;  // 1 + index into names_; 0: empty
        uint32_t hash = 0;   // the name's hash, low bits: most mismatches end here
    };
    struct Entry {
        std::string_view name;
        uint32_t position;
    };
    void grow();

    std::vector<Slot> slots_;
    std::vector<Entry> names_;
};

}  // namespace wardgate
