#pragma once
// Parses the rows of a Zeek conn.log (TSV) into FlowRecords for a RecordSink.
// Built for speed: rows are split with SSE2 and only the columns the aggregation
// needs are parsed.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reader_support.hpp"
#include "record_sink.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate::flows_internal {

// Where the columns this reader uses sit, per the latest #fields line.
struct ZeekLayout {
    char separator = '\t';
    std::string unset = "-";
    std::vector<std::string> names;  // empty until a #fields line is seen
    const char* fields_at = nullptr;  // the #fields line, for messages
    int ts = -1, orig_h = -1, resp_h = -1, resp_p = -1, proto = -1;
    int orig_p = -1;  // optional: for ICMP, the type of the originator's message
    int duration = -1, orig_bytes = -1, resp_bytes = -1, conn_state = -1, history = -1, service = -1;
    int orig_pkts = -1, resp_pkts = -1;  // optional: ICMP is answered when both sent packets
    size_t used = 0;  // columns [0, used) include every one this reader reads
};

class ZeekTsvReader {
public:
    // text is the file (line numbers in messages count from its start); the rows go to
    // sink and are counted in summary.
    ZeekTsvReader(const std::string& file, std::string_view text, RecordSink& sink, ReadSummary& summary)
        : file_(file), text_(text), sink_(sink), summary_(summary) {}

    // Reads the text. after_line(position) runs after each line.
    template <typename AfterLine>
    void read(AfterLine&& after_line) {
        buffer_ = sink_.buffer();
        LineCursor cursor(text_.data(), text_.data() + text_.size());
        Line line;
        const char* text_end = text_.data() + text_.size();
        while (cursor.next(line)) {
            if (line.begin != line.end) {
                if (*line.begin == '#')
                    header(line);
                else if (line.end == text_end && text_.back() != '\n')
                    last_row(line);
                else
                    row(line);
                if (pending_ == buffer_.size()) flush();
            }
            after_line(cursor.position());
        }
        flush();
    }

private:
    void set_layout(ZeekLayout layout);
    void header(const Line& line);
    void fields(std::string_view value, const char* line_begin);
    void row(const Line& line);
    // A last row without its newline: read if it reads, else a warning (a log being written).
    void last_row(const Line& line);
    void path(std::string_view value, const char* line_begin);
    void flush();
    long long line_number(const char* at) const;
    [[noreturn]] void fail(const char* line_begin, long long column, std::string_view field, std::string message) const;

    const std::string& file_;
    std::string_view text_;
    RecordSink& sink_;
    ReadSummary& summary_;
    ZeekLayout layout_;
    std::vector<std::string_view> views_;
    std::span<FlowRecord> buffer_;  // accepted rows are parsed straight into the sink's buffer
    size_t pending_ = 0;
};

}  // namespace wardgate::flows_internal
