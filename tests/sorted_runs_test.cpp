// Sorting by merging runs gives what std::sort gives, whatever the runs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "wardgate/core/sorted_runs.hpp"

using namespace wardgate;

TEST_CASE("sorting by runs orders a list as std::sort does", "[net]") {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        // Device names as an inventory lists them: a few models, each numbered in order, with
        // the models (and now and then a stray device) in any order; sometimes no order at all.
        std::vector<std::string> names;
        const int models = static_cast<int>(rng() % (round % 50 == 0 ? 200 : 8));
        for (int m = 0; m < models; ++m) {
            const std::string model = "model" + std::to_string(rng() % 1000);
            const int n = static_cast<int>(rng() % 40);
            for (int i = 0; i < n; ++i) names.push_back(model + "-" + std::to_string(1000 + i * (1 + rng() % 3)));
            if (rng() % 4 == 0) names.push_back("stray-" + std::to_string(rng() % 100));
        }
        auto expected = names;
        std::sort(expected.begin(), expected.end());
        sort_by_runs(names);
        INFO("round " << round << ", " << names.size() << " names");
        REQUIRE(names == expected);
    }
}
