#pragma once
// One flow file (pcap, Zeek TSV/JSON, CSV) into the baseline store, idempotently.
#include <filesystem>
#include <optional>
#include <string>

#include "wardgate/flows/pcap.hpp"
#include "wardgate/flows/readers.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

struct FileIngest {
    std::filesystem::path file;
    FlowFormat format = FlowFormat::csv;
    ReadSummary read;                    // empty when the file was already ingested
    std::optional<PcapSummary> capture;  // pcap only: handshakes, flips, flows ended early, damage
    uint64_t records = 0;                // flow records (connections) read
    uint64_t edges = 0;                  // distinct edges in the file
    CommitResult commit;                 // already_ingested, or the edges new to the store
};

std::string_view format_name(FlowFormat f);  // "zeek-tsv", "zeek-json", "csv", "pcap"

// Reads the file whole, then commits its edges and its ingested_files row in one
// transaction. A file whose content hash the store already holds is not read again.
// source labels its edges; empty: the format name. Throws InputError for malformed input,
// and for a file that ends in damage or mid-record (ReadSummary::incomplete) unless
// `partial`: such a file is neither recorded nor counted, so that it can be ingested whole later.
FileIngest ingest_file(BaselineStore& store, const std::filesystem::path& file, const std::string& source = {},
                       const ProgressCallback& progress = {}, bool partial = false);

}  // namespace wardgate
