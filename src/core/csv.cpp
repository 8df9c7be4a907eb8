#include "wardgate/core/csv.hpp"

#include <algorithm>
#include <cctype>

namespace wardgate {

std::optional<std::vector<CsvSpan>> csv_field_spans(std::string_view line, char separator) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<CsvSpan> spans;
    size_t begin = 0;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                ++i;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == separator) {
            spans.push_back({begin, i});
            begin = i + 1;
        }
    }
    if (quoted) return std::nullopt;
    spans.push_back({begin, line.size()});
    return spans;
}

std::optional<std::vector<std::string>> split_csv_line(std::string_view line, char separator) {
    auto spans = csv_field_spans(line, separator);
    if (!spans) return std::nullopt;
    std::vector<std::string> fields;
    fields.reserve(spans->size());
    for (const auto& span : *spans) {
        std::string field;
        bool quoted = false;
        for (size_t i = span.begin; i < span.end; ++i) {
            char c = line[i];
            if (c == '"' && quoted && i + 1 < span.end && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = !quoted;
            } else {
                field += c;
            }
        }
        fields.push_back(std::move(field));
    }
    return fields;
}

std::string trim(std::string_view s) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    auto b = std::find_if(s.begin(), s.end(), not_space);
    auto e = std::find_if(s.rbegin(), s.rend(), not_space).base();
    return b < e ? std::string(b, e) : std::string();
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

CsvHeader::CsvHeader(const std::vector<std::string>& names) {
    for (const auto& n : names) names_.push_back(lower(trim(n)));
}

std::optional<size_t> CsvHeader::find(std::string_view name) const {
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) return std::nullopt;
    return static_cast<size_t>(it - names_.begin());
}

std::string csv_field(std::string_view text) {
    std::string value(text);
    if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) value.insert(0, "'");
    if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
    std::string out = "\"";
    for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace wardgate
