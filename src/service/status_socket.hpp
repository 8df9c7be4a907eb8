#pragma once
// The service's end of the status socket: a Unix stream socket, mode 0600. A client sends
// one JSON request line ({"request":"status"}) and gets one JSON line back.
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

namespace wardgate::service::detail {

class StatusServer {
public:
    // Replaces a stale socket file; the directory is created (0755) when missing.
    explicit StatusServer(const std::filesystem::path& path);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;

    int fd() const { return fd_; }
    // Accepts one client and answers it (at most ~1 s per client: a stuck client does not
    // hold up the service).
    void serve_one(const std::function<nlohmann::json(const nlohmann::json& request)>& answer);

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace wardgate::service::detail
