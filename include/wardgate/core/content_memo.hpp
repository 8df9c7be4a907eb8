#pragma once
// What was made of a named input the last time, kept for as long as the input stays the same.
// serve compiles, prints and encodes a large site again after every edit, and one edit changes
// few of its groups and sets. A lookup compares the whole input, never a hash that might collide:
// what is taken from here is exactly what would have been made again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace wardgate {

template <class Input, class Made>
class ContentMemo {
public:
    // What was made of `input` under `name`, or null when that name was not kept or its input differed.
    const Made* find(const std::string& name, const Input& input) {
        auto it = entries_.find(name);
        if (it == entries_.end() || !(it->second.input == input)) {
            ++missed_;
            return nullptr;
        }
        it->second.round = round_;
        ++found_;
        return &it->second.made;
    }
    const Made& keep(const std::string& name, Input input, Made made) {
        return entries_.insert_or_assign(name, Entry{std::move(input), std::move(made), round_}).first->second.made;
    }
    // Ends one use (a compilation, a printing): what it neither found nor kept is forgotten, so
    // the memo holds what the last use had and no more.
    void end_round() {
        std::erase_if(entries_, [&](const auto& e) { return e.second.round != round_; });
        last_found_ = found_;
        last_missed_ = missed_;
        found_ = missed_ = 0;
        ++round_;
    }
    // Of the last finished use: how many lookups found what they asked for, and how many did not.
    size_t found() const { return last_found_; }
    size_t missed() const { return last_missed_; }
    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        Input input;
        Made made;
        uint64_t round = 0;
    };
    std::unordered_map<std::string, Entry> entries_;
    uint64_t round_ = 0;
    size_t found_ = 0, missed_ = 0, last_found_ = 0, last_missed_ = 0;
};

}  // namespace wardgate
