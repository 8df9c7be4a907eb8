#pragma once
// Aggregates rows on a second thread while the caller's thread parses them. On a large
// conn.log parsing and folding rows into the edge table take about the same time, so
// this nearly halves an ingest; and since rows are still parsed in file order, errors
// are exactly those of a single-threaded read.
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "record_sink.hpp"

namespace wardgate::flows_internal {

class AggregatingPipe final : public RecordSink {
public:
    // Starts the aggregating thread; throws std::system_error when it cannot.
    explicit AggregatingPipe(Aggregator& out);
    // Stops the thread without waiting for queued rows (the read failed).
    ~AggregatingPipe() override;
    AggregatingPipe(const AggregatingPipe&) = delete;
    AggregatingPipe& operator=(const AggregatingPipe&) = delete;

    std::span<FlowRecord> buffer() override;
    std::span<FlowRecord> flush(size_t count) override;
    // Waits until every flushed row is aggregated; rethrows what the thread failed with.
    void finish();

private:
    static constexpr size_t kBatchRows = 2048;
    static constexpr size_t kBatches = 4;

    struct Batch {
        std::vector<FlowRecord> records;
        size_t count = 0;
    };

    void run();

    Aggregator& out_;
    std::vector<Batch> batches_;
    std::vector<Batch*> full_;   // in flush order (a queue of at most kBatches)
    std::vector<Batch*> empty_;
    Batch* filling_ = nullptr;   // owned by the parsing thread
    bool closed_ = false;        // no more batches will come
    bool stopped_ = false;       // drop what is queued and end
    std::mutex mutex_;
    std::condition_variable changed_;
    std::exception_ptr error_;   // set by the aggregating thread, read after join
    std::thread thread_;
};

}  // namespace wardgate::flows_internal
