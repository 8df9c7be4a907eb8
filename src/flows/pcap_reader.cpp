// Reads a capture through libpcap from the mapped file (fmemopen), so pipes work and
// the file is read once for format detection and decoding.
#include "pcap_reader.hpp"

#include <pcap/pcap.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "mapped_file.hpp"
#include "pcap_decode.hpp"
#include "pcap_flow_table.hpp"
#include "pcapng_interfaces.hpp"
#include "reader_support.hpp"

namespace wardgate {

namespace flows_internal {

namespace {

struct PcapCloser {
    void operator()(pcap_t* p) const { pcap_close(p); }  // also closes the stream it read
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

[[noreturn]] void fail(const std::string& file, std::string message) {
    throw InputError(Diagnostic{file, 0, 0, "", std::move(message)});
}

PcapHandle open_capture(const std::string& file, std::string_view bytes, FILE*& stream) {
    if (bytes.empty()) fail(file, "empty file");
    // libpcap only reads from the stream; fmemopen wants a non-const buffer for "r" as well.
    stream = ::fmemopen(const_cast<char*>(bytes.data()), bytes.size(), "r");
    if (!stream) fail(file, "cannot read the capture from memory");
    char error[PCAP_ERRBUF_SIZE] = "";
    pcap_t* raw = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, error);
    if (!raw) {
        std::fclose(stream);
        fail(file, std::string("not a capture libpcap can read: ") + error);
    }
    return PcapHandle(raw);
}

std::string link_type_text(int link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    return std::to_string(link_type) + (name ? std::string(" (") + name + ")" : "");
}

}  // namespace

PcapSummary read_pcap_bytes(const std::string& file, std::string_view bytes, const PcapFlowSink& sink,
                            const ProgressCallback& progress, const PcapOptions& options) {
    std::optional<std::string> unified = unify_pcapng_snapshot_lengths(file, bytes);
    if (unified) bytes = *unified;
    FILE* stream = nullptr;
    PcapHandle capture = open_capture(file, bytes, stream);
    PcapSummary summary;
    summary.link_type = pcap_datalink(capture.get());
    if (!link_type_supported(summary.link_type))
        fail(file, "link type " + link_type_text(summary.link_type) +
                       " is not supported (Ethernet, raw IP, Linux cooked SLL/SLL2, loopback, PPP and 802.11 with or without "
                       "radiotap are)");

    FlowTable table(options, sink, summary);
    ProgressTicker ticker(progress, file, bytes.size());
    uint64_t& packets = summary.read.rows;
    long record_offset = std::ftell(stream);  // where the next packet record starts
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    for (;;) {
        int rc = pcap_next_ex(capture.get(), &header, &data);
        if (rc == PCAP_ERROR_BREAK) break;  // end of file
        if (rc != 1) {
            std::string where = "capture truncated or corrupt at packet " + std::to_string(packets + 1) +
                                ", byte offset " + std::to_string(record_offset);
            summary.stopped = Diagnostic{file, 0, 0, "", where + ": " + pcap_geterr(capture.get())};
            summary.read.warnings.push_back(summary.stopped->message + ": only the packets before it were read");
            summary.read.incomplete = true;
            break;
        }
        ++packets;
        const double time = static_cast<double>(header->ts.tv_sec) + static_cast<double>(header->ts.tv_usec) * 1e-9;
        DecodedPacket packet;
        std::string_view skip = decode_packet(summary.link_type, data, header->caplen, packet);
        if (skip.empty()) skip = table.add(packet, time);
        if (!skip.empty()) ++summary.read.skipped[std::string(skip)];
        record_offset = std::ftell(stream);
        if ((packets & 0x3FFF) == 0) {
            if (ticker.due(static_cast<uint64_t>(record_offset))) ticker.report(static_cast<uint64_t>(record_offset), packets);
            // libpcap reads ahead through its own buffer: keep a margin behind the record.
            if (record_offset > (long{1} << 20)) release_consumed(bytes, bytes.data() + record_offset - (long{1} << 20));
        }
    }
    table.finish();
    ticker.finish(packets);
    return summary;
}

PcapSummary read_pcap_edges(const std::string& file, std::string_view bytes, Aggregator& out,
                            const ProgressCallback& progress) {
    std::vector<FlowRecord> batch;
    batch.reserve(64);
    auto flush = [&] {
        out.add(std::span<const FlowRecord>(batch));
        batch.clear();
    };
    PcapFlowSink sink = [&](const PcapFlow& flow) {
        const EdgeKey key = edge_key(flow.record);
        if (flow.application) out.note({key, *flow.application, flow.record.start, flow.application_detail});
        for (const auto& m : flow.dhcp_messages)
            out.note({key, Application::dhcp, m.time, m.announcement.detail, m.announcement.subject});
        const double last = flow.record.start + flow.record.duration;
        if (flow.initiator_mac) out.note_mac({flow.record.initiator, flow.initiator_mac, flow.record.start, last});
        if (flow.responder_mac) out.note_mac({flow.record.responder, flow.responder_mac, flow.record.start, last});
        batch.push_back(flow.record);
        if (batch.size() == 64) flush();
    };
    PcapSummary summary = read_pcap_bytes(file, bytes, sink, progress, PcapOptions{});
    flush();
    return summary;
}

ReadSummary read_pcap_text(const std::string& file, std::string_view bytes, Aggregator& out,
                           const ProgressCallback& progress) {
    return read_pcap_edges(file, bytes, out, progress).read;
}

}  // namespace flows_internal

bool is_capture_magic(std::string_view b) {
    if (b.size() < 4) return false;
    auto magic = [&](uint8_t a, uint8_t c, uint8_t d, uint8_t e) {
        return static_cast<uint8_t>(b[0]) == a && static_cast<uint8_t>(b[1]) == c && static_cast<uint8_t>(b[2]) == d &&
               static_cast<uint8_t>(b[3]) == e;
    };
    return magic(0xa1, 0xb2, 0xc3, 0xd4) || magic(0xd4, 0xc3, 0xb2, 0xa1) ||  // microseconds
           magic(0xa1, 0xb2, 0x3c, 0x4d) || magic(0x4d, 0x3c, 0xb2, 0xa1) ||  // nanoseconds
           magic(0x0a, 0x0d, 0x0d, 0x0a);                                    // pcapng section header
}

PcapSummary read_pcap(const std::filesystem::path& file, const PcapFlowSink& sink, const ProgressCallback& progress,
                      const PcapOptions& options) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_pcap_bytes(file.string(), input.text(), sink, progress, options);
}

ReadSummary read_pcap(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    return read_pcap_edges(file, out, progress).read;
}

PcapSummary read_pcap_edges(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_pcap_edges(file.string(), input.text(), out, progress);
}

}  // namespace wardgate
