#pragma once
// The publisher (`wardgate publish`): compiles a site and stores it as a signed policy version
// for the gateways that follow the database. With --watch it stays, publishing again after each
// edit of the site directory; between edits it keeps what `serve` keeps (the inventory's parsed
// blocks, the flow files' classification, the built groups and the baseline's judgements) and the
// policy it published last, so an edit costs what it changes rather than the whole site.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/plan/pipeline.hpp"
#include "wardgate/store/policy_versions.hpp"

namespace wardgate::service {

struct PublisherOptions {
    std::filesystem::path site_dir;
    std::string to;                        // postgresql://...
    std::filesystem::path key;             // the publisher's Ed25519 private key (PEM)
    std::string author;
    std::optional<Date> today;             // a fixed day; nullopt: today (UTC) at each publish
    PipelineOptions pipeline;              // flows, baseline store, DNS, progress (today and caches are set here)
    std::chrono::milliseconds debounce{500};  // --watch: quiet time after an edit
};

struct PublishOutcome {
    PublishResult result;
    PublishedVersion version;      // as published (unsigned; plan text and JSON)
    std::vector<StageTime> stages; // the pipeline's, then "previous", "documents", "chunks", "store", "plan"
    // The version is published but its plan could not be made or stored (it stays pending).
    std::string plan_error;
    // Not fresh: the version holding this policy lacked its plan, and it is written now.
    bool wrote_missing_plan = false;
};

class Publisher {
public:
    // Reads the key (throws SigningError) before anything is compiled or stored.
    explicit Publisher(PublisherOptions options);
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    // Compiles the site and publishes it: the version first (its gateways start on it at the
    // commit), then its plan into the same row. Throws InputError for a site that does not load,
    // StoreError and SigningError; nothing is stored then. A failure after the version is
    // stored is the outcome's plan_error.
    PublishOutcome publish();
    const std::string& database() const;

private:
    struct State;
    PublisherOptions o_;
    std::unique_ptr<State> state_;
};

// --watch: publishes at start and after every edit, until SIGTERM or SIGINT (SIGHUP publishes
// again). A site that does not load, or a database that cannot be reached, is logged and
// waits for the next edit; nothing half-published is left. Returns the exit status.
int run_publisher(const PublisherOptions& options);

}  // namespace wardgate::service
