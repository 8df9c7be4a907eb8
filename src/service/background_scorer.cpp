#include "background_scorer.hpp"

#include <exception>

namespace wardgate::service::detail {

void BackgroundScorer::submit(std::shared_ptr<const Pipeline> loaded) {
    if (job_.busy()) {
        next_ = std::move(loaded);
        return;
    }
    start(std::move(loaded));
}

void BackgroundScorer::start(std::shared_ptr<const Pipeline> loaded) {
    // The scorecard is for status and metrics: a reload's threads, when the site is edited again
    // meanwhile, come first.
    job_.start([loaded = std::move(loaded)] { return compute_scorecard(*loaded->book, loaded->edges, loaded->today).kpis; },
               19);
}

std::optional<std::vector<Kpi>> BackgroundScorer::take() {
    std::optional<std::vector<Kpi>> kpis;
    std::exception_ptr failed;
    try {
        kpis = job_.take();
    } catch (...) {
        failed = std::current_exception();
    }
    if (!kpis && !failed) return std::nullopt;
    if (next_) {
        start(std::move(next_));
        next_.reset();
        return std::nullopt;
    }
    if (failed) std::rethrow_exception(failed);  // the caller logs it; the next site is scored anew
    return kpis;
}

}  // namespace wardgate::service::detail
