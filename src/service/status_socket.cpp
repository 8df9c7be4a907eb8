#include "status_socket.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "wardgate/service/status.hpp"

namespace wardgate::service {

namespace {

using Clock = std::chrono::steady_clock;

sockaddr_un address_of(const std::filesystem::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string p = path.string();
    if (p.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long: " + p);
    std::memcpy(a.sun_path, p.data(), p.size());
    return a;
}

int wait_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Reads until a newline or EOF; false on timeout or error.
bool read_line(int fd, std::string& out, Clock::time_point deadline) {
    char buf[4096];
    while (out.find('\n') == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, wait_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return !out.empty();
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (16u << 20)) return false;
    }
    return true;
}

bool write_all(int fd, const std::string& s, Clock::time_point deadline) {
    size_t off = 0;
    while (off < s.size()) {
        pollfd p{fd, POLLOUT, 0};
        int r = poll(&p, 1, wait_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

namespace detail {

StatusServer::StatusServer(const std::filesystem::path& path) : path_(path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
    }
    sockaddr_un a = address_of(path);
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    ::unlink(path.c_str());
    // The socket is created with mode 0600 already (no window in which others may connect).
    mode_t old = ::umask(0177);
    int rc = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    int err = errno;
    ::umask(old);
    if (rc < 0 || ::chmod(path.c_str(), 0600) < 0 || listen(fd_, 16) < 0) {
        if (rc >= 0) err = errno;
        ::close(fd_);
        throw std::runtime_error("cannot listen on " + path.string() + ": " + std::strerror(err));
    }
}

StatusServer::~StatusServer() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

std::string reply_to(std::string_view received, const StatusAnswer& answer) {
    nlohmann::json reply;
    try {
        reply = answer(nlohmann::json::parse(received.substr(0, received.find('\n'))));
    } catch (const std::exception& e) {
        reply = {{"error", e.what()}};
    }
    // A parse error quotes the offending bytes, which need not be UTF-8: replace them rather
    // than let dump() throw out of the service loop.
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json answer_request(const nlohmann::json& request, const std::function<nlohmann::json()>& status) {
    if (!request.is_object()) return {{"error", "a request is a JSON object; try {\"request\":\"status\"}"}};
    auto kind = request.find("request");
    if (kind == request.end() || !kind->is_string() || *kind != "status")
        return {{"error", "unknown request; try {\"request\":\"status\"}"}};
    return status();
}

void StatusServer::serve_one(const StatusAnswer& answer) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    auto deadline = Clock::now() + std::chrono::seconds(1);
    std::string line;
    if (!read_line(c, line, deadline)) {
        ::close(c);
        return;
    }
    if (!write_all(c, reply_to(line, answer), deadline)) spdlog::debug("status client went away before the answer");
    ::close(c);
}

}  // namespace detail

nlohmann::json query_status(const std::filesystem::path& socket_path, std::chrono::milliseconds timeout) {
    sockaddr_un a = address_of(socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error("the wardgate service is not reachable on " + socket_path.string() + ": " + std::strerror(e));
    }
    auto deadline = Clock::now() + timeout;
    std::string line;
    bool ok = write_all(fd, nlohmann::json{{"request", "status"}}.dump() + "\n", deadline) && read_line(fd, line, deadline);
    ::close(fd);
    if (!ok) throw std::runtime_error("the wardgate service on " + socket_path.string() + " did not answer in time");
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error("the wardgate service sent something that is not JSON");
    if (j.contains("error")) throw std::runtime_error("the wardgate service answered: " + j["error"].get<std::string>());
    return j;
}

}  // namespace wardgate::service
