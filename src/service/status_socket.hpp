#pragma once
// The service's end of the status socket: a Unix stream socket, mode 0600. A client sends
// one JSON request line ({"request":"status"}) and gets one JSON line back.
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

namespace wardgate::service::detail {

using StatusAnswer = std::function<nlohmann::json(const nlohmann::json& request)>;

// The reply line (newline included) to what a client sent: the request is the text up to the
// first newline. Bytes that are not JSON, or an answer that throws, give {"error": ...}; the
// reply is valid UTF-8 whatever the client sent.
std::string reply_to(std::string_view received, const StatusAnswer& answer);

// The service's answer: status() for {"request":"status"}, an error object for anything else.
nlohmann::json answer_request(const nlohmann::json& request, const std::function<nlohmann::json()>& status);

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
    void serve_one(const StatusAnswer& answer);

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace wardgate::service::detail
