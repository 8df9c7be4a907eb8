#pragma once
// Rotated logs arrive gzip-compressed (Zeek's log-archive writes conn.<time>.log.gz): every
// flow reader reads them as the text they hold.
#include <string>
#include <string_view>

namespace wardgate::flows_internal {

// The two bytes every gzip member starts with.
bool is_gzip(std::string_view bytes);

// The uncompressed content of every member, concatenated as gunzip does. Throws InputError
// naming `file` and the compressed byte offset for a damaged stream, and for one that ends
// early ("cut short": a file still being compressed or copied).
std::string gunzip(const std::string& file, std::string_view compressed);

}  // namespace wardgate::flows_internal
