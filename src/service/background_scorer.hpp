#pragma once
// The scorecard of each loaded site, computed on a thread of its own: at 100,000 devices it
// takes over a second, and the event loop must be free for the next edit meanwhile.
#include <memory>
#include <optional>
#include <vector>

#include "background_job.hpp"
#include "wardgate/assess/scorecard.hpp"
#include "wardgate/plan/pipeline.hpp"

namespace wardgate::service::detail {

class BackgroundScorer {
public:
    // Scores this site once the one being scored is done; a site submitted while another
    // waits replaces it (only the latest site's scorecard is worth reporting).
    void submit(std::shared_ptr<const Pipeline> loaded);
    // Readable when a scorecard is done.
    int fd() const { return job_.fd(); }
    // The scorecard done, unless a newer site is already being scored.
    std::optional<std::vector<Kpi>> take();

private:
    void start(std::shared_ptr<const Pipeline> loaded);
    BackgroundJob<std::vector<Kpi>> job_;
    std::shared_ptr<const Pipeline> next_;
};

}  // namespace wardgate::service::detail
