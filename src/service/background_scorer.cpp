#include "background_scorer.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

namespace wardgate::service::detail {

BackgroundScorer::BackgroundScorer() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

BackgroundScorer::~BackgroundScorer() {
    if (running_.valid()) running_.wait();
    ::close(event_fd_);
}

void BackgroundScorer::submit(std::shared_ptr<const Pipeline> loaded) {
    if (running_.valid()) {
        next_ = std::move(loaded);
        return;
    }
    start(std::move(loaded));
}

void BackgroundScorer::start(std::shared_ptr<const Pipeline> loaded) {
    const int fd = event_fd_;
    running_ = std::async(std::launch::async, [loaded = std::move(loaded), fd] {
        // Signals as the scoring ends, returned or thrown: the loop then takes the result.
        struct Signal {
            int fd;
            ~Signal() {
                const uint64_t one = 1;
                (void)!::write(fd, &one, sizeof one);  // cannot fail short of a full counter
            }
        } signal{fd};
        // The scorecard is for status and metrics: a reload's threads, when the site is edited
        // again meanwhile, come first (on Linux a thread has a nice value of its own).
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
        return compute_scorecard(*loaded->book, loaded->edges, loaded->today).kpis;
    });
}

std::optional<std::vector<Kpi>> BackgroundScorer::take() {
    uint64_t count = 0;
    if (::read(event_fd_, &count, sizeof count) != sizeof count || count == 0 || !running_.valid()) return std::nullopt;
    // The scoring signals just before its thread returns: the result is moments away.
    std::optional<std::vector<Kpi>> kpis;
    std::exception_ptr failed;
    try {
        kpis = running_.get();
    } catch (...) {
        failed = std::current_exception();
    }
    if (next_) {
        start(std::move(next_));
        next_.reset();
        return std::nullopt;
    }
    if (failed) std::rethrow_exception(failed);  // the caller logs it; the next site is scored anew
    return kpis;
}

}  // namespace wardgate::service::detail
