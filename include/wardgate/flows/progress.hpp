#pragma once
// Progress of a long ingest: the reader reports bytes done, the front end decides how to show it.
#include <cstdint>
#include <functional>
#include <string>

namespace wardgate {

struct IngestProgress {
    std::string file;
    uint64_t bytes_done = 0;
    uint64_t bytes_total = 0;
    uint64_t rows = 0;
    double seconds = 0;
};

// Called from time to time during an ingest (not per row). May be empty.
using ProgressCallback = std::function<void(const IngestProgress&)>;

}  // namespace wardgate
