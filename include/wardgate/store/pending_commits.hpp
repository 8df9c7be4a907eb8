#pragma once
// The batches a live source (collect, observe) commits, kept while the database cannot take
// them: a commit that fails (a PostgreSQL server restarting, the network to it down, SQLite
// locked past its timeout) is kept and tried again, under the same identity and before any
// later batch, so nothing is lost while the collector goes on collecting. A batch whose commit
// reached the database but whose answer did not is found recorded on the next try and not
// counted twice.
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

struct StoreBatch {
    IngestedFile file;  // file.hash: an identity no other batch has
    std::vector<ObservedEdge> edges;
    std::vector<ApplicationSighting> sightings;
    std::vector<MacSighting> macs;
};

struct CommittedBatch {
    StoreBatch batch;
    CommitResult result;
};

class PendingCommits {
public:
    // Commits the batches kept from before, oldest first, then this one; returns those that
    // went in now. On a StoreError the failed batch and all after it stay kept, and the
    // error is in last_error() (the batches before it went in and are returned).
    std::vector<CommittedBatch> commit(BaselineStore& store, StoreBatch batch);
    // The kept batches only, when there is nothing new to commit.
    std::vector<CommittedBatch> retry(BaselineStore& store);
    size_t pending() const { return queue_.size(); }
    uint64_t pending_records() const;
    const std::string& last_error() const { return last_error_; }
    uint64_t failures() const { return failures_; }

private:
    std::deque<StoreBatch> queue_;
    std::string last_error_;
    uint64_t failures_ = 0;
};

}  // namespace wardgate
