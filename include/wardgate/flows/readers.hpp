#pragma once
// Flow log readers. Each reads one file into an Aggregator and reports what it skipped.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/progress.hpp"

namespace wardgate {

struct ReadSummary {
    uint64_t rows = 0;                               // data rows seen
    uint64_t accepted = 0;                           // rows turned into FlowRecords
    std::map<std::string, uint64_t> skipped;         // reason -> count (e.g. "protocol not tcp/udp/icmp")
    // What the reader read but a person must know to trust the result ("no conn_state column:
    // no connection counts as answered"), each with its line when it has one; check and plan
    // print them as warnings after the file's name.
    std::vector<std::string> warnings;
    // The file ended in damage or mid-record (a capture cut short, a log still being written):
    // what came before was read, the rest is missing.
    bool incomplete = false;
};

enum class FlowFormat { zeek_tsv, zeek_json, csv, pcap };

// Picks the format from the content: a pcap or pcapng magic number -> pcap (see
// wardgate/flows/pcap.hpp), "#separator"/"#fields" header -> Zeek TSV,
// a line starting with '{' -> Zeek JSON, otherwise CSV with a header row.
FlowFormat detect_flow_format(const std::filesystem::path& file);

// All readers throw InputError naming file, line and field for malformed input
// (a truncated or short row, an unparsable address, port or timestamp, a missing
// required column). Rows that are well formed but not usable (e.g. an unsupported
// protocol) are counted in ReadSummary::skipped instead.
ReadSummary read_zeek_tsv(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});
ReadSummary read_zeek_json(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});
// CSV with a header row; columns: initiator, responder, protocol, port, and optional
// start (epoch seconds or ISO 8601), duration, bytes, established (true/false), connections.
ReadSummary read_flow_csv(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});
ReadSummary read_flow_file(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});

}  // namespace wardgate
