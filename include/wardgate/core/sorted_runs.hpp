#pragma once
// Sorting lists that arrive as a few runs already in order: the members of a group are built
// in inventory order, where a model's devices are usually numbered in sequence, and a group's
// prefixes are sorted one group at a time. Merging the runs pairwise costs about
// n * log2(runs) comparisons instead of a sort's n * log2(n).
#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

namespace wardgate {

// Sorts v, given the offsets where its sorted runs start (runs.front() == 0, runs.back() ==
// v.size()).
template <typename T, typename Less>
void merge_sorted_runs(std::vector<T>& v, std::vector<size_t> runs, Less less) {
    while (runs.size() > 2) {
        std::vector<size_t> merged{0};
        for (size_t r = 0; r + 1 < runs.size(); r += 2) {
            if (r + 2 == runs.size()) {  // an odd run out: merged in the next round
                merged.push_back(runs[r + 1]);
                continue;
            }
            std::inplace_merge(v.begin() + static_cast<long>(runs[r]), v.begin() + static_cast<long>(runs[r + 1]),
                               v.begin() + static_cast<long>(runs[r + 2]), less);
            merged.push_back(runs[r + 2]);
        }
        runs = std::move(merged);
    }
}

// Sorts v: by merging its sorted runs when there are few, by std::sort otherwise.
template <typename T, typename Less = std::less<T>>
void sort_by_runs(std::vector<T>& v, Less less = {}) {
    constexpr size_t kMostRuns = 64;
    std::vector<size_t> runs{0};
    for (size_t i = 1; i < v.size(); ++i) {
        if (!less(v[i], v[i - 1])) continue;
        runs.push_back(i);
        if (runs.size() > kMostRuns) {
            std::sort(v.begin(), v.end(), less);
            return;
        }
    }
    runs.push_back(v.size());
    merge_sorted_runs(v, std::move(runs), less);
}

}  // namespace wardgate
