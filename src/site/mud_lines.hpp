#pragma once
// nlohmann-json keeps no source positions; this recovers them for diagnostics.
#include <map>
#include <string>

namespace wardgate::mud_detail {

// The 1-based line of every object member (its key) and every object or array inside an array,
// keyed by JSON pointer. Only for text that already parsed.
std::map<std::string, int> json_pointer_lines(const std::string& text);

// The line of `pointer`, or of its nearest ancestor that has one; 0 when none does.
int line_of(const std::map<std::string, int>& lines, std::string pointer);

// RFC 6901: pointer + "/" + key, with '~' and '/' escaped.
std::string pointer_child(const std::string& pointer, std::string_view key);

}  // namespace wardgate::mud_detail
