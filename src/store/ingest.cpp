#include "wardgate/store/ingest.hpp"

#include <boost/uuid/detail/sha1.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <system_error>

#include "../flows/mapped_file.hpp"

namespace wardgate {

namespace {

constexpr size_t kHashedEdge = size_t{1} << 20;  // bytes hashed at each end of the file

std::string hex_digest(boost::uuids::detail::sha1& sha) {
    boost::uuids::detail::sha1::digest_type digest;
    sha.get_digest(digest);
    std::string out;
    char buffer[9];
    for (unsigned word : digest) {
        std::snprintf(buffer, sizeof buffer, "%08x", word);
        out += buffer;
    }
    return out;
}

}  // namespace

std::string_view format_name(FlowFormat f) {
    switch (f) {
        case FlowFormat::zeek_tsv: return "zeek-tsv";
        case FlowFormat::zeek_json: return "zeek-json";
        case FlowFormat::csv: return "csv";
        case FlowFormat::pcap: return "pcap";
    }
    return "unknown";
}

FileIdentity identify_file(const std::filesystem::path& file) {
    FileIdentity id;
    std::error_code ec;
    id.path = std::filesystem::absolute(file, ec);
    if (ec) id.path = file;
    flows_internal::MappedFile input(file);
    std::string_view bytes = input.text();
    id.size = bytes.size();
    auto mtime = std::filesystem::last_write_time(file, ec);
    if (!ec)
        id.mtime = std::chrono::duration<double>(
                       std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                       .count();
    boost::uuids::detail::sha1 sha;
    uint64_t size = id.size;
    unsigned char size_bytes[8];
    for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<unsigned char>(size >> (8 * i));
    sha.process_bytes(size_bytes, sizeof size_bytes);
    sha.process_bytes(bytes.data(), std::min(bytes.size(), kHashedEdge));
    if (bytes.size() > kHashedEdge) {
        size_t tail = std::min(bytes.size() - kHashedEdge, kHashedEdge);
        sha.process_bytes(bytes.data() + bytes.size() - tail, tail);
    }
    id.hash = hex_digest(sha);
    return id;
}

FileIngest ingest_file(BaselineStore& store, const std::filesystem::path& file, const std::string& source,
                       const ProgressCallback& progress, bool partial) {
    FileIngest result;
    result.file = file;
    IngestedFile ingested;
    ingested.file = identify_file(file);
    result.format = detect_flow_format(file);
    if (auto previous = store.find_file(ingested.file.hash)) {
        result.commit.already_ingested = true;
        result.commit.previous = *previous;
        return result;
    }
    Aggregator edges;
    if (result.format == FlowFormat::pcap) {
        result.capture = read_pcap_edges(file, edges, progress);
        result.read = result.capture->read;
    } else {
        result.read = read_flow_file(file, edges, progress);
    }
    if (result.read.incomplete && !partial) {
        std::vector<Diagnostic> diags;
        for (const auto& w : result.read.warnings) diags.push_back(Diagnostic{file.string(), 0, 0, "", w});
        diags.push_back(Diagnostic{file.string(), 0, 0, "",
                                   "the file is incomplete, so nothing from it was recorded: ingest it again when it is "
                                   "complete, or with --partial to record what was read (the file then counts as ingested)"});
        throw InputError(std::move(diags));
    }
    result.records = edges.records();
    result.edges = edges.size();
    ingested.source = source.empty() ? std::string(format_name(result.format)) : source;
    ingested.format = std::string(format_name(result.format));
    ingested.records = result.records;
    result.commit = store.commit_file(ingested, edges.edges(), edges.sightings(), edges.macs());
    return result;
}

}  // namespace wardgate
