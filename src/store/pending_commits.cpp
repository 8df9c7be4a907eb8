#include "wardgate/store/pending_commits.hpp"

namespace wardgate {

std::vector<CommittedBatch> PendingCommits::commit(BaselineStore& store, StoreBatch batch) {
    queue_.push_back(std::move(batch));
    return retry(store);
}

std::vector<CommittedBatch> PendingCommits::retry(BaselineStore& store) {
    std::vector<CommittedBatch> done;
    while (!queue_.empty()) {
        StoreBatch& next = queue_.front();
        CommitResult result;
        try {
            result = store.commit_file(next.file, next.edges, next.sightings, next.macs);
        } catch (const StoreError& e) {
            last_error_ = e.what();
            ++failures_;
            return done;
        }
        last_error_.clear();
        done.push_back({std::move(next), std::move(result)});
        queue_.pop_front();
    }
    return done;
}

uint64_t PendingCommits::pending_records() const {
    uint64_t n = 0;
    for (const auto& b : queue_) n += b.file.records;
    return n;
}

}  // namespace wardgate
