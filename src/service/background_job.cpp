#include "background_job.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace wardgate::service::detail {

JobSignal::JobSignal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

JobSignal::~JobSignal() { ::close(fd_); }

void JobSignal::raise(int fd) {
    const uint64_t one = 1;
    (void)!::write(fd, &one, sizeof one);  // cannot fail short of a full counter
}

bool JobSignal::consume() const {
    uint64_t count = 0;
    return ::read(fd_, &count, sizeof count) == sizeof count && count != 0;
}

void lower_thread_priority(int nice) { (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice); }

}  // namespace wardgate::service::detail
