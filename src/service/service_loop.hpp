#pragma once
// What both long-running loops (serve, publish --watch) share besides the signal descriptor.
#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wardgate/plan/pipeline.hpp"

namespace wardgate::service::detail {

// Each reload of a large site allocates vectors of tens of megabytes. glibc maps every block
// above 32 MiB afresh and unmaps it when freed, so each reload faulted all of it in again (a
// third of a 100,000-device reload). From the heap, and kept there, the next reload reuses them;
// the process's memory stays at its high-water mark.
inline void keep_large_blocks_on_heap() {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

// poll()'s timeout until `t`: 0 when it is past, at most a minute.
inline int ms_until(std::chrono::steady_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
}

// Milliseconds since `start`, for the logs' stage times.
inline double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// "site 52 ms, classify 6 ms, ..." for the log.
inline std::string stage_times(const std::vector<StageTime>& stages) {
    std::string out;
    for (const auto& s : stages) out += fmt::format("{}{} {:.0f} ms", out.empty() ? "" : ", ", s.stage, s.ms);
    return out;
}

}  // namespace wardgate::service::detail
