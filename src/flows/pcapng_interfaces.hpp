#pragma once
// libpcap reads a pcapng file only when all its interfaces share one link type and one
// snapshot length; captures merged from several interfaces (mergecap, dumpcap -i a -i b)
// often differ in the snapshot length alone, which says only how much of each packet was
// kept. Such a capture is read with every interface's snapshot length made the largest.
#include <optional>
#include <string>
#include <string_view>

namespace wardgate::flows_internal {

// A copy of a pcapng file whose interfaces differ only in snapshot length, with all of them
// set to "whole packets"; nullopt when libpcap can read the bytes as they are (or they are not
// pcapng, or the blocks are damaged, which the reader then reports where it meets them).
// Throws InputError naming `file` when the interfaces have different link types.
std::optional<std::string> unify_pcapng_snapshot_lengths(const std::string& file, std::string_view bytes);

}  // namespace wardgate::flows_internal
