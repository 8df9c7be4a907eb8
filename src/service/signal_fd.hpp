#pragma once
// SIGTERM, SIGINT and SIGHUP as a descriptor a service loop polls (blocked while it lives).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace wardgate::service::detail {

class SignalFd {
public:
    SignalFd() {
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
        sigprocmask(SIG_BLOCK, &set, &old_);
        fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd_ < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
        signal(SIGPIPE, SIG_IGN);
    }
    ~SignalFd() {
        close(fd_);
        sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;
    int fd() const { return fd_; }
    int next() {
        signalfd_siginfo info;
        return read(fd_, &info, sizeof info) == sizeof info ? static_cast<int>(info.ssi_signo) : 0;
    }

private:
    int fd_ = -1;
    sigset_t old_;
};

}  // namespace wardgate::service::detail
