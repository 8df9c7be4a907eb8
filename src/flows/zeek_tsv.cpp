// Zeek conn.log (TSV). The file is mapped; a large one is read as two halves in two
// threads, each into its own Aggregator, and the halves are merged at the end.
//
// The second half starts with the layout of the header block at the top of the file.
// If the first half ends with another layout (a concatenated log with a new #fields
// block, say), the second half is read again with that one, so the result and the
// errors are always those of a serial read: the first half's error wins, and line
// numbers count from the start of the file.
#include <atomic>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>

#include "mapped_file.hpp"
#include "readers_internal.hpp"
#include "zeek_tsv_reader.hpp"

namespace wardgate {
namespace flows_internal {
namespace {

// Below this a second thread does not pay for its start and the merge.
constexpr size_t kParallelMinimum = size_t{8} << 20;

// The layout set by the '#' lines at the top of the file; nullopt when they hold no usable #fields.
std::optional<ZeekLayout> leading_layout(const std::string& file, std::string_view text) {
    LineCursor cursor(text.data(), text.data() + text.size());
    Line line;
    const char* end = text.data();
    while (cursor.next(line) && line.begin != line.end && *line.begin == '#') end = cursor.position();
    Aggregator unused;
    ReadSummary ignored;
    ZeekTsvReader reader(file, text, unused, ignored);
    try {
        reader.read(text.data(), end, [](const char*) {});
    } catch (const InputError&) {
        return std::nullopt;  // the serial read reports it
    }
    if (reader.layout().names.empty()) return std::nullopt;
    return reader.layout();
}

bool same_layout(const ZeekLayout& a, const ZeekLayout& b) {
    return a.fields_at == b.fields_at && a.separator == b.separator && a.unset == b.unset;
}

void add_summary(ReadSummary& into, const ReadSummary& from) {
    into.rows += from.rows;
    into.accepted += from.accepted;
    for (const auto& [reason, count] : from.skipped) into.skipped[reason] += count;
}

ReadSummary read_serial(const std::string& file, std::string_view text, Aggregator& out, ProgressTicker& ticker) {
    ReadSummary summary;
    Aggregator local;
    ZeekTsvReader reader(file, text, local, summary);
    reader.read(text.data(), text.data() + text.size(), [&](const char* position) {
        auto done = static_cast<uint64_t>(position - text.data());
        if (ticker.due(done)) ticker.report(done, summary.rows);
    });
    ticker.finish(summary.rows);
    out.merge(std::move(local));
    return summary;
}

struct Half {
    Aggregator edges;
    ReadSummary summary;
    std::exception_ptr error;
};

struct Stopped {};  // the second half gives up once the first has failed

// nullopt when no second thread could be started.
std::optional<ReadSummary> read_halves(const std::string& file, std::string_view text, size_t split,
                                       const ZeekLayout& guess, Aggregator& out, ProgressTicker& ticker) {
    const char* middle = text.data() + split;
    const char* end = text.data() + text.size();
    Half first, second;
    // The second half's progress, published now and then for the first half's thread to report.
    std::atomic<uint64_t> second_bytes{0}, second_rows{0};
    std::atomic<bool> first_failed{false};

    auto read_second_half = [&] {
        try {
            ZeekTsvReader reader(file, text, second.edges, second.summary);
            reader.set_layout(guess);
            uint64_t next_publish = 0;
            reader.read(middle, end, [&](const char* position) {
                auto done = static_cast<uint64_t>(position - middle);
                if (done < next_publish) return;
                if (first_failed.load(std::memory_order_relaxed)) throw Stopped{};
                second_bytes.store(done, std::memory_order_relaxed);
                second_rows.store(second.summary.rows, std::memory_order_relaxed);
                next_publish = done + (uint64_t{1} << 20);
            });
        } catch (...) {
            second.error = std::current_exception();
        }
    };
    std::thread worker;
    try {
        worker = std::thread(read_second_half);
    } catch (const std::system_error&) {
        return std::nullopt;
    }

    ZeekTsvReader first_reader(file, text, first.edges, first.summary);
    try {
        first_reader.read(text.data(), middle, [&](const char* position) {
            auto done = static_cast<uint64_t>(position - text.data()) + second_bytes.load(std::memory_order_relaxed);
            if (ticker.due(done)) ticker.report(done, first.summary.rows + second_rows.load(std::memory_order_relaxed));
        });
    } catch (...) {
        first.error = std::current_exception();
        first_failed = true;
    }
    worker.join();
    if (first.error) std::rethrow_exception(first.error);

    if (!same_layout(first_reader.layout(), guess)) {
        // The guess was wrong: read the second half again, now knowing its layout.
        second = Half{};
        ZeekTsvReader reader(file, text, second.edges, second.summary);
        reader.set_layout(first_reader.layout());
        reader.read(middle, end, [](const char*) {});
    } else if (second.error) {
        std::rethrow_exception(second.error);
    }

    add_summary(first.summary, second.summary);
    first.edges.merge(std::move(second.edges));
    ticker.finish(first.summary.rows);
    out.merge(std::move(first.edges));
    return first.summary;
}

}  // namespace

ReadSummary read_zeek_tsv_text(const std::string& file, std::string_view text, Aggregator& out,
                               const ProgressCallback& progress) {
    ProgressTicker ticker(progress, file, text.size());
    if (text.size() >= kParallelMinimum && std::thread::hardware_concurrency() >= 2) {
        size_t newline = text.find('\n', text.size() / 2);
        auto guess = leading_layout(file, text);
        if (newline != std::string_view::npos && guess) {
            if (auto summary = read_halves(file, text, newline + 1, *guess, out, ticker)) return *summary;
        }
    }
    return read_serial(file, text, out, ticker);
}

}  // namespace flows_internal

ReadSummary read_zeek_tsv(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress) {
    flows_internal::MappedFile input(file);
    return flows_internal::read_zeek_tsv_text(file.string(), input.text(), out, progress);
}

}  // namespace wardgate
