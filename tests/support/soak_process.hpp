#pragma once
// A long-running wardgate process inside a test namespace, and what /proc says about its
// memory and open files, for soak tests.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "netns.hpp"

namespace wardgate::testing {

class SoakProcess {
public:
    // Starts argv (argv[0] a path) inside ns; standard output and error go to `log`.
    SoakProcess(const Netns& ns, const std::vector<std::string>& argv, std::filesystem::path log);
    ~SoakProcess();  // SIGKILL when still running
    SoakProcess(const SoakProcess&) = delete;
    SoakProcess& operator=(const SoakProcess&) = delete;

    pid_t pid() const { return pid_; }
    const std::filesystem::path& log() const { return log_; }
    // Still running (not exited, not a zombie); reaps it when it has ended.
    bool alive();
    // How it ended when it has: exit code, or -signal.
    int exit_status() const { return status_; }
    // Sends sig and waits up to `limit`: the exit code, -signal, or -SIGKILL after killing it.
    int stop(int sig, std::chrono::milliseconds limit);

    // VmRSS in KiB (0 when unreadable).
    long rss_kib() const;
    // Open descriptors: the fewest of `reads` listings 20 ms apart, so that a file opened
    // for a moment (a database commit, a status client) is not counted.
    int fd_count(int reads = 3) const;
    // "fd -> target" of every open descriptor.
    std::vector<std::string> fd_targets() const;

private:
    pid_t pid_ = -1;
    int status_ = 0;
    std::filesystem::path log_;
};

}  // namespace wardgate::testing
