#include "wardgate/core/text.hpp"

#include <cstdint>

namespace wardgate {

std::optional<size_t> invalid_utf8_at(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t n = 0;
        uint32_t cp = 0, min = 0;
        if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07, min = 0x10000;
        else return i;
        for (size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return i;
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += n + 1;
    }
    return std::nullopt;
}

bool valid_utf8(std::string_view text) { return !invalid_utf8_at(text); }

std::string_view strip_utf8_bom(std::string_view text) {
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return text;
}

std::optional<std::string> utf16_encoding(std::string_view head) {
    if (head.size() >= 2) {
        if (head[0] == '\xFF' && head[1] == '\xFE') return "UTF-16 little-endian";
        if (head[0] == '\xFE' && head[1] == '\xFF') return "UTF-16 big-endian";
    }
    if (head.size() >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0) return "UTF-16 little-endian";
    if (head.size() >= 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0) return "UTF-16 big-endian";
    return std::nullopt;
}

}  // namespace wardgate

namespace wardgate {

std::string json_error_text(std::string_view what) {
    if (what.starts_with("[json.exception.")) {
        size_t end = what.find("] ");
        if (end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    if (what.starts_with("parse error")) {
        size_t colon = what.find(": ");
        if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
    }
    return std::string(what);
}

}  // namespace wardgate
