#include "soak_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <thread>

namespace wardgate::testing {

SoakProcess::SoakProcess(const Netns& ns, const std::vector<std::string>& argv, std::filesystem::path log)
    : log_(std::move(log)) {
    pid_ = spawn_in(ns, argv, log_.string());
}

SoakProcess::~SoakProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool SoakProcess::alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        pid_ = -1;
    }
    return false;
}

int SoakProcess::stop(int sig, std::chrono::milliseconds limit) {
    if (!alive()) return status_;
    ::kill(pid_, sig);
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (!alive()) return status_;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    status_ = -SIGKILL;
    return status_;
}

long SoakProcess::rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

int SoakProcess::fd_count(int reads) const {
    int fewest = INT_MAX;
    for (int i = 0; i < reads; ++i) {
        if (i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::error_code ec;
        int n = 0;
        for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", ec), end; !ec && it != end;
             it.increment(ec))
            ++n;
        if (ec) return -1;
        fewest = std::min(fewest, n);
    }
    return fewest;
}

std::vector<std::string> SoakProcess::fd_targets() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid_) + "/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        std::error_code link_ec;
        auto target = std::filesystem::read_symlink(it->path(), link_ec);
        out.push_back(it->path().filename().string() + " -> " + (link_ec ? "?" : target.string()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace wardgate::testing
