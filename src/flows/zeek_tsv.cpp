// Zeek conn.log (TSV): the file is mapped and parsed on the calling thread; on a large
// file the rows are aggregated on a second thread meanwhile (see aggregating_pipe.hpp).
#include <optional>
#include <system_error>
#include <thread>

#include "aggregating_pipe.hpp"
#include "mapped_file.hpp"
#include "readers_internal.hpp"
#include "zeek_tsv_reader.hpp"

namespace wardgate {
namespace flows_internal {

namespace {

// Below this (about 60,000 rows) a second thread does not pay for itself.
constexpr size_t kPipelineMinimum = size_t{8} << 20;
// Parsed text is dropped from memory in steps of this.
constexpr uint64_t kReleaseEvery = uint64_t{16} << 20;

bool worth_a_second_thread(std::string_view text) {
    return text.size() >= kPipelineMinimum && std::thread::hardware_concurrency() >= 2;
}

}  // namespace

ReadSummary read_zeek_tsv_text(const std::string& file, std::string_view text, Aggregator& out,
                               const ProgressCallback& progress) {
    ProgressTicker ticker(progress, file, text.size());
    ReadSummary summary;
    Aggregator local;
    auto parse_into = [&](RecordSink& sink) {
        ZeekTsvReader reader(file, text, sink, summary);
        uint64_t release_at = kReleaseEvery;
        reader.read([&](const char* position) {
            auto done = static_cast<uint64_t>(position - text.data());
            if (ticker.due(done)) ticker.report(done, summary.rows);
            if (done >= release_at) {
                release_consumed(text, position);
                release_at = done + kReleaseEvery;
            }
        });
    };
    std::optional<AggregatingPipe> pipe;
    if (worth_a_second_thread(text)) {
        try {
            pipe.emplace(local);
        } catch (const std::system_error&) {
            // No second thread to be had: aggregate on this one.
        }
    }
    if (pipe) {
        parse_into(*pipe);
        pipe->finish();
    } else {
        AggregatorSink sink(local);
        parse_into(sink);
    }
    ticker.finish(summary.rows);
    out.merge(std::move(local));
    return summary;
}

}  // namespace flows_internal

ReadSummary read_zeek_tsv(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_zeek_tsv_text(file.string(), input.text(), out, progress);
}

}  // namespace wardgate
