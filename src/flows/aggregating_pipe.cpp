#include "aggregating_pipe.hpp"


namespace wardgate::flows_internal {

AggregatingPipe::AggregatingPipe(Aggregator& out) : out_(out), batches_(kBatches) {
    for (auto& batch : batches_) {
        batch.records.resize(kBatchRows);
        empty_.push_back(&batch);
    }
    full_.reserve(kBatches);
    filling_ = empty_.back();
    empty_.pop_back();
    thread_ = std::thread([this] { run(); });
}

AggregatingPipe::~AggregatingPipe() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

std::span<FlowRecord> AggregatingPipe::buffer() { return filling_->records; }

std::span<FlowRecord> AggregatingPipe::flush(size_t count) {
    std::unique_lock lock(mutex_);
    filling_->count = count;
    full_.push_back(filling_);
    changed_.notify_all();
    changed_.wait(lock, [this] { return !empty_.empty(); });
    filling_ = empty_.back();
    empty_.pop_back();
    return filling_->records;
}

void AggregatingPipe::finish() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
    thread_.join();
    if (error_) std::rethrow_exception(error_);
}

void AggregatingPipe::run() {
    for (;;) {
        Batch* batch = nullptr;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [this] { return stopped_ || closed_ || !full_.empty(); });
            if (stopped_ || full_.empty()) return;
            batch = full_.front();
            full_.erase(full_.begin());
        }
        // After a failure (out of memory, say) keep taking batches so the parser never
        // blocks; finish() reports the failure.
        if (!error_) {
            try {
                out_.add(std::span<const FlowRecord>(batch->records.data(), batch->count));
            } catch (...) {
                error_ = std::current_exception();
            }
        }
        {
            std::lock_guard lock(mutex_);
            empty_.push_back(batch);
        }
        changed_.notify_all();
    }
}

}  // namespace wardgate::flows_internal
