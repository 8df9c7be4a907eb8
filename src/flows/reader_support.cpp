#include "reader_support.hpp"

#include <climits>

namespace wardgate::flows_internal {

static int clamp_int(long long v) { return v > INT_MAX ? INT_MAX : static_cast<int>(v); }

void throw_input_error(const std::string& file, long long line, long long column, std::string_view field,
                       std::string message) {
    throw InputError(Diagnostic{file, clamp_int(line), clamp_int(column), std::string(field), std::move(message)});
}

ProgressTicker::ProgressTicker(const ProgressCallback& callback, std::string file, uint64_t bytes_total)
    : callback_(callback), file_(std::move(file)), total_(bytes_total) {}

void ProgressTicker::report(uint64_t bytes_done, uint64_t rows) {
    if (!callback_) return;
    next_ = bytes_done + kInterval;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    callback_(IngestProgress{file_, bytes_done, total_, rows, elapsed.count()});
}

}  // namespace wardgate::flows_internal
