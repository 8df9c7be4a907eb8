#pragma once
// What every reader checks of text from outside before it trusts it: the encoding.
#include <optional>
#include <string>
#include <string_view>

namespace wardgate {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view text);
// The byte offset of the first byte that is not well-formed UTF-8, if any.
std::optional<size_t> invalid_utf8_at(std::string_view text);
// Drops a leading UTF-8 byte order mark (Excel writes one into "CSV UTF-8").
std::string_view strip_utf8_bom(std::string_view text);
// "UTF-16 little-endian" / "UTF-16 big-endian" when the first bytes say so (a byte order
// mark, or the NUL bytes every other byte of ASCII text has in UTF-16).
std::optional<std::string> utf16_encoding(std::string_view head);

}  // namespace wardgate

namespace wardgate {

// nlohmann::json's message without its "[json.exception.parse_error.101] parse error at
// line 1, column 5: " prefix, for diagnostics that give the location themselves.
std::string json_error_text(std::string_view what);

}  // namespace wardgate
