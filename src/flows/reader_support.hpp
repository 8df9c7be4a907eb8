#pragma once
// Pieces every flow reader shares: located errors, progress reporting, line walking.
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/progress.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate::flows_internal {

inline constexpr std::string_view kSkipProtocol = "protocol not known (an IPv6 extension header or a name the system lacks)";
// Zeek logs every protocol but TCP, UDP and ICMP as unknown_transport, without its number.
inline constexpr std::string_view kSkipZeekProtocol = "protocol not named by Zeek (unknown_transport)";

[[noreturn]] void throw_input_error(const std::string& file, long long line, long long column, std::string_view field,
                                    std::string message);

// Zeek logs other than conn.log carry the same id.* and ts columns, so their rows would read
// as connections. The log a set of field names belongs to, judged by a field only it has
// ("query" -> "dns"); nullopt when nothing says it is not a conn log.
std::optional<std::string> other_zeek_log(const std::vector<std::string>& field_names);

// What a read without any conn_state tells: nothing counts as answered.
inline constexpr std::string_view kNoConnState =
    "no conn_state field: no connection counts as answered, so the observed baseline keeps none of them";

// What to do with a file that is another Zeek log than conn.log.
inline constexpr std::string_view kListConnLogs = "list conn.log files, which hold the connections";

// A last line without its newline that does not read (`why`): a live log being written. The
// line is skipped with a warning and the file marked incomplete.
void skip_unfinished_last_line(ReadSummary& summary, long long line, const InputError& why);

// Column (1-based) of `at` within the line starting at `line_start`.
inline long long column_of(const char* line_start, const char* at) { return at - line_start + 1; }

// Calls the callback when another kInterval bytes are done, and once at the end.
class ProgressTicker {
public:
    static constexpr uint64_t kInterval = uint64_t{64} << 20;

    ProgressTicker(const ProgressCallback& callback, std::string file, uint64_t bytes_total);
    bool due(uint64_t bytes_done) const { return callback_ && bytes_done >= next_; }
    void report(uint64_t bytes_done, uint64_t rows);
    void finish(uint64_t rows) { report(total_, rows); }

private:
    const ProgressCallback& callback_;
    std::string file_;
    uint64_t total_;
    uint64_t next_ = kInterval;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// One line of a text buffer, without its terminator ("\n" or "\r\n").
struct Line {
    const char* begin;
    const char* end;
    std::string_view text() const { return {begin, static_cast<size_t>(end - begin)}; }
};

// Walks a buffer line by line, counting lines from 1.
class LineCursor {
public:
    LineCursor(const char* begin, const char* end, long long first_line = 1)
        : pos_(begin), end_(end), number_(first_line - 1) {}

    bool next(Line& line) {
        if (pos_ >= end_) return false;
        const char* nl = static_cast<const char*>(std::memchr(pos_, '\n', static_cast<size_t>(end_ - pos_)));
        const char* stop = nl ? nl : end_;
        line.begin = pos_;
        line.end = (stop > pos_ && stop[-1] == '\r') ? stop - 1 : stop;
        pos_ = nl ? nl + 1 : end_;
        ++number_;
        return true;
    }
    long long number() const { return number_; }  // of the line last returned
    const char* position() const { return pos_; }

private:
    const char* pos_;
    const char* end_;
    long long number_;
};

}  // namespace wardgate::flows_internal
