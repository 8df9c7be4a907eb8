#pragma once
// The readers over text already in memory, so read_flow_file can detect the format
// and read from one mapping (and from pipes, which cannot be opened twice).
#include <string>
#include <string_view>

#include "wardgate/flows/readers.hpp"

namespace wardgate::flows_internal {

ReadSummary read_zeek_tsv_text(const std::string& file, std::string_view text, Aggregator& out,
                               const ProgressCallback& progress);
ReadSummary read_zeek_json_text(const std::string& file, std::string_view text, Aggregator& out,
                                const ProgressCallback& progress);
ReadSummary read_flow_csv_text(const std::string& file, std::string_view text, Aggregator& out,
                               const ProgressCallback& progress);
FlowFormat detect_flow_format_text(std::string_view text);

}  // namespace wardgate::flows_internal
