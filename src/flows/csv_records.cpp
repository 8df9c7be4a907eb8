#include "csv_records.hpp"

#include <algorithm>
#include <cstring>

#include "field_parse.hpp"
#include "reader_support.hpp"

namespace wardgate::flows_internal {

static bool is_space(char c) { return c == ' ' || c == '\t'; }

CsvRecords::CsvRecords(std::string file, const char* begin, const char* end)
    : file_(std::move(file)), pos_(begin), end_(end), line_start_(begin) {
    if (end_ - pos_ >= 3 && std::memcmp(pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;  // UTF-8 byte order mark
}

void CsvRecords::new_line(const char* after_newline) {
    ++line_;
    line_start_ = after_newline;
}

bool CsvRecords::next() {
    // Skip blank lines.
    for (;;) {
        const char* p = pos_;
        while (p < end_ && (is_space(*p) || *p == '\r')) ++p;
        if (p == end_) {
            pos_ = end_;
            return false;
        }
        if (*p != '\n') break;
        pos_ = p + 1;
        new_line(pos_);
    }

    record_line_ = line_;
    spans_.clear();
    columns_.clear();
    for (;;) {
        const char* p = pos_;
        while (p < end_ && is_space(*p)) ++p;
        long long column = column_of(line_start_, p);
        Span span{p, p, false};
        if (p < end_ && *p == '"') {
            pos_ = p;
            read_quoted(span, column);
            p = pos_;
            while (p < end_ && (is_space(*p) || *p == '\r')) ++p;
            if (p < end_ && *p != ',' && *p != '\n')
                throw_input_error(file_, line_, column_of(line_start_, p), "",
                                  "expected a comma or the end of the line after a closing quote, got " +
                                      quote_value(std::string_view(p, 1)));
        } else {
            while (p < end_ && *p != ',' && *p != '\n') ++p;
            span.end = p;
            while (span.end > span.begin && (is_space(span.end[-1]) || span.end[-1] == '\r')) --span.end;
        }
        spans_.push_back(span);
        columns_.push_back(column);
        if (p < end_ && *p == ',') {
            pos_ = p + 1;
            continue;
        }
        pos_ = p < end_ ? p + 1 : end_;
        if (p < end_) new_line(pos_);
        break;
    }

    // Views are made only now: unescaped_ may have been resized while spans were read.
    unescaped_.resize(std::max(unescaped_.size(), spans_.size()));
    fields_.clear();
    for (size_t i = 0; i < spans_.size(); ++i) {
        std::string_view raw(spans_[i].begin, static_cast<size_t>(spans_[i].end - spans_[i].begin));
        if (!spans_[i].quoted || raw.find('"') == std::string_view::npos) {
            fields_.push_back(raw);
            continue;
        }
        std::string& out = unescaped_[i];
        out.clear();
        for (size_t k = 0; k < raw.size(); ++k) {
            out += raw[k];
            if (raw[k] == '"') ++k;  // "" stands for one quote
        }
        fields_.push_back(out);
    }
    return true;
}

// pos_ is at the opening quote; leaves pos_ just past the closing one.
void CsvRecords::read_quoted(Span& span, long long column) {
    const long long start_line = line_;
    const char* p = pos_ + 1;
    span.begin = p;
    span.quoted = true;
    for (;;) {
        while (p < end_ && *p != '"') {
            if (*p == '\n') new_line(p + 1);
            ++p;
        }
        if (p == end_) throw_input_error(file_, start_line, column, "", "unterminated quoted field");
        if (p + 1 < end_ && p[1] == '"') {
            p += 2;
            continue;
        }
        span.end = p;
        pos_ = p + 1;
        return;
    }
}

}  // namespace wardgate::flows_internal
