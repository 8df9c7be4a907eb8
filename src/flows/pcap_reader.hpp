#pragma once
// The pcap reader over bytes already in memory, for read_flow_file's single mapping.
#include <string>
#include <string_view>

#include "wardgate/flows/pcap.hpp"

namespace wardgate::flows_internal {

PcapSummary read_pcap_bytes(const std::string& file, std::string_view bytes, const PcapFlowSink& sink,
                            const ProgressCallback& progress, const PcapOptions& options);
PcapSummary read_pcap_edges(const std::string& file, std::string_view bytes, Aggregator& out,
                            const ProgressCallback& progress);
ReadSummary read_pcap_text(const std::string& file, std::string_view bytes, Aggregator& out,
                           const ProgressCallback& progress);

}  // namespace wardgate::flows_internal
