#pragma once
// RFC 4180 records: comma-separated, fields optionally in double quotes ("" is a quote;
// a quoted field may hold commas and line breaks). Unquoted fields are trimmed.
#include <string>
#include <string_view>
#include <vector>

namespace wardgate::flows_internal {

class CsvRecords {
public:
    CsvRecords(std::string file, const char* begin, const char* end);

    // Reads the next record, skipping blank lines; false at the end of the input.
    // Throws InputError for an unterminated quote or text after a closing quote.
    bool next();

    const std::vector<std::string_view>& fields() const { return fields_; }
    const std::vector<long long>& columns() const { return columns_; }  // 1-based, per field
    long long line() const { return record_line_; }                    // where the record starts
    const char* position() const { return pos_; }

private:
    struct Span {
        const char* begin;
        const char* end;
        bool quoted;
    };

    void read_quoted(Span& span, long long column);
    void new_line(const char* after_newline);

    std::string file_;
    const char* pos_;
    const char* end_;
    long long line_ = 1;              // of pos_
    const char* line_start_;          // of pos_'s line
    long long record_line_ = 0;
    std::vector<Span> spans_;
    std::vector<std::string> unescaped_;
    std::vector<std::string_view> fields_;
    std::vector<long long> columns_;
};

}  // namespace wardgate::flows_internal
