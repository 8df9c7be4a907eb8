#pragma once
// Where a reader puts the rows it has parsed: it fills buffer() and hands rows over with flush().
#include <array>
#include <span>

#include "wardgate/flows/aggregator.hpp"

namespace wardgate::flows_internal {

class RecordSink {
public:
    virtual ~RecordSink() = default;
    // The buffer to fill.
    virtual std::span<FlowRecord> buffer() = 0;
    // Takes the first `count` records of the buffer; returns the buffer to fill next.
    virtual std::span<FlowRecord> flush(size_t count) = 0;
};

// Adds the rows to an Aggregator on the calling thread, in small batches (see Aggregator::add(span)).
class AggregatorSink final : public RecordSink {
public:
    explicit AggregatorSink(Aggregator& out) : out_(out) {}
    std::span<FlowRecord> buffer() override { return batch_; }
    std::span<FlowRecord> flush(size_t count) override {
        out_.add(std::span<const FlowRecord>(batch_.data(), count));
        return batch_;
    }

private:
    Aggregator& out_;
    std::array<FlowRecord, 64> batch_;
};

}  // namespace wardgate::flows_internal
