#pragma once
// One job at a time on a thread of its own, its end signalled on an eventfd that the event loop
// polls: a slow job (a scorecard, a drift check reading back a large table) never holds up the
// next edit.
#include <functional>
#include <future>
#include <optional>

namespace wardgate::service::detail {

// An eventfd: raised by a job as it ends, consumed by the loop.
class JobSignal {
public:
    JobSignal();
    ~JobSignal();
    JobSignal(const JobSignal&) = delete;
    JobSignal& operator=(const JobSignal&) = delete;
    int fd() const { return fd_; }
    static void raise(int fd);
    bool consume() const;  // true when it had been raised

private:
    int fd_;
};

// Lowers the calling thread's priority to `nice` (on Linux a thread has a nice value of its own).
void lower_thread_priority(int nice);

template <typename Result>
class BackgroundJob {
public:
    BackgroundJob() = default;
    ~BackgroundJob() {
        if (running_.valid()) running_.wait();
    }
    BackgroundJob(const BackgroundJob&) = delete;
    BackgroundJob& operator=(const BackgroundJob&) = delete;

    // Starts `job` (only when none is running); `nice` 19: it runs when nothing else wants the CPU.
    void start(std::function<Result()> job, int nice = 0) {
        const int fd = signal_.fd();
        running_ = std::async(std::launch::async, [job = std::move(job), fd, nice] {
            struct Raise {  // as the job ends, returned or thrown
                int fd;
                ~Raise() { JobSignal::raise(fd); }
            } raise{fd};
            if (nice) lower_thread_priority(nice);
            return job();
        });
    }
    bool busy() const { return running_.valid(); }
    int fd() const { return signal_.fd(); }
    // Once fd() is readable: the job's result (rethrowing what it threw); nullopt when none ended.
    std::optional<Result> take() {
        if (!signal_.consume() || !running_.valid()) return std::nullopt;
        return running_.get();  // signalled just before its thread returns: moments away
    }

private:
    JobSignal signal_;
    std::future<Result> running_;
};

}  // namespace wardgate::service::detail
