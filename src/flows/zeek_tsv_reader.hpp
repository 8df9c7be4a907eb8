#pragma once
// Reads the rows of a Zeek conn.log (TSV) between two line starts into an Aggregator.
// Built for speed: rows are split with SSE2 and only the columns the aggregation
// needs are parsed. Used for a whole file or for one chunk of it (see zeek_tsv.cpp).
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reader_support.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate::flows_internal {

// Where the columns this reader uses sit, per the latest #fields line.
struct ZeekLayout {
    char separator = '\t';
    std::string unset = "-";
    std::vector<std::string> names;  // empty until a #fields line is seen
    const char* fields_at = nullptr;  // the #fields line, for messages
    int ts = -1, orig_h = -1, resp_h = -1, resp_p = -1, proto = -1;
    int duration = -1, orig_bytes = -1, resp_bytes = -1, conn_state = -1;
    size_t used = 0;  // columns [0, used) include every one this reader reads
};

class ZeekTsvReader {
public:
    // text is the whole file (for line numbers in messages); out and summary receive the rows.
    ZeekTsvReader(const std::string& file, std::string_view text, Aggregator& out, ReadSummary& summary)
        : file_(file), text_(text), out_(out), summary_(summary) {}

    void set_layout(ZeekLayout layout);
    const ZeekLayout& layout() const { return layout_; }

    // Reads [begin, end) of the text, both at line starts. after_line(position) runs after each line.
    template <typename AfterLine>
    void read(const char* begin, const char* end, AfterLine&& after_line) {
        LineCursor cursor(begin, end);
        Line line;
        while (cursor.next(line)) {
            if (line.begin != line.end) {
                if (*line.begin == '#')
                    header(line);
                else
                    row(line);
                if (pending_ == kBatch) flush();
            }
            after_line(cursor.position());
        }
        flush();
    }

private:
    static constexpr size_t kBatch = 64;

    void header(const Line& line);
    void fields(std::string_view value, const char* line_begin);
    void row(const Line& line);
    void flush();
    long long line_number(const char* at) const;
    [[noreturn]] void fail(const char* line_begin, long long column, std::string_view field, std::string message) const;

    const std::string& file_;
    std::string_view text_;
    Aggregator& out_;
    ReadSummary& summary_;
    ZeekLayout layout_;
    std::vector<std::string_view> views_;
    // Accepted rows go to the aggregator in batches (see Aggregator::add(span)).
    std::array<FlowRecord, kBatch> batch_;
    size_t pending_ = 0;
};

}  // namespace wardgate::flows_internal
