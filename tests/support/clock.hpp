#pragma once
// The clock tests measure durations and deadlines with.
#include <chrono>

namespace wardgate::testing {

using Clock = std::chrono::steady_clock;

}  // namespace wardgate::testing
