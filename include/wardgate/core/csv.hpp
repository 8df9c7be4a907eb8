#pragma once
// RFC 4180 CSV: one record per line, fields optionally double-quoted ("" inside quotes is a quote).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wardgate {

// Splits one line into fields. Returns nullopt when a quoted field is not closed.
std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char separator = ',');

// Where each field of one line lies, quotes included: [begin, end) byte offsets. A trailing
// carriage return is no field's. Returns nullopt when a quoted field is not closed.
struct CsvSpan {
    size_t begin = 0, end = 0;
};
std::optional<std::vector<CsvSpan>> csv_field_spans(std::string_view line, char separator = ',');

// One field as RFC 4180 writes it: quoted when it holds a separator, quote or line break.
// Text from the network that a spreadsheet would run as a formula (starting with = + - @,
// a tab or a carriage return) gets a leading apostrophe, as OWASP advises.
std::string csv_field(std::string_view text);

// Maps header names (trimmed, lower-cased) to column indexes.
class CsvHeader {
public:
    explicit CsvHeader(const std::vector<std::string>& names);
    std::optional<size_t> find(std::string_view name) const;
    size_t size() const { return names_.size(); }

private:
    std::vector<std::string> names_;
};

std::string trim(std::string_view s);
std::string lower(std::string_view s);

}  // namespace wardgate
