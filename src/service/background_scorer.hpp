#pragma once
// The scorecard of each loaded site, computed on a thread of its own: at 100,000 devices it
// takes over a second, and the event loop must be free for the next edit meanwhile.
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "wardgate/assess/scorecard.hpp"
#include "wardgate/plan/pipeline.hpp"

namespace wardgate::service::detail {

class BackgroundScorer {
public:
    BackgroundScorer();
    ~BackgroundScorer();
    BackgroundScorer(const BackgroundScorer&) = delete;
    BackgroundScorer& operator=(const BackgroundScorer&) = delete;

    // Scores this site once the one being scored is done; a site submitted while another
    // waits replaces it (only the latest site's scorecard is worth reporting).
    void submit(std::shared_ptr<const Pipeline> loaded);
    // Readable when a scorecard is done.
    int fd() const { return event_fd_; }
    // The scorecard done, unless a newer site is already being scored.
    std::optional<std::vector<Kpi>> take();

private:
    void start(std::shared_ptr<const Pipeline> loaded);
    int event_fd_;
    std::future<std::vector<Kpi>> running_;
    std::shared_ptr<const Pipeline> next_;
};

}  // namespace wardgate::service::detail
