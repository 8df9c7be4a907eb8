#pragma once
// Where alerts go: the log, a JSON-lines file, an RFC 5424 syslog collector over UDP.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/alerts/alerts.hpp"
#include "wardgate/core/udp.hpp"

namespace wardgate {

class AlertSink {
public:
    virtual ~AlertSink() = default;
    virtual void send(const Alert& alert) = 0;
};

// One spdlog line per alert: warn, or error for error and critical severity.
class LogAlertSink : public AlertSink {
public:
    void send(const Alert& alert) override;
};

// Appends one JSON object per line; each line is written with a single write(2) on an
// O_APPEND descriptor, so concurrent writers do not interleave.
class JsonLinesAlertSink : public AlertSink {
public:
    explicit JsonLinesAlertSink(const std::filesystem::path& file);  // throws std::runtime_error
    ~JsonLinesAlertSink() override;
    JsonLinesAlertSink(const JsonLinesAlertSink&) = delete;
    JsonLinesAlertSink& operator=(const JsonLinesAlertSink&) = delete;
    void send(const Alert& alert) override;

private:
    std::filesystem::path file_;
    int fd_ = -1;
};

// RFC 5424 messages over UDP (RFC 5426), facility 13 (log audit).
class SyslogAlertSink : public AlertSink {
public:
    // "host:port", "[v6]:port"; throws std::runtime_error when it does not resolve.
    explicit SyslogAlertSink(const std::string& collector);
    ~SyslogAlertSink() override;
    SyslogAlertSink(const SyslogAlertSink&) = delete;
    SyslogAlertSink& operator=(const SyslogAlertSink&) = delete;
    void send(const Alert& alert) override;

private:
    std::unique_ptr<UdpConnection> socket_;
    std::string hostname_;
};

nlohmann::json alert_to_json(const Alert& alert);
// <PRI>1 TIMESTAMP HOSTNAME wardgate PROCID MSGID [wardgate@32473 ...] MSG
std::string format_rfc5424(const Alert& alert, const std::string& hostname, double now, int pid);

// Sends through the limiter to every sink; counts what went out and what was held back.
class AlertDispatcher {
public:
    explicit AlertDispatcher(AlertLimiter limiter = AlertLimiter{}) : limiter_(std::move(limiter)) {}
    void add_sink(std::unique_ptr<AlertSink> sink) { sinks_.push_back(std::move(sink)); }
    void dispatch(std::vector<Alert> alerts);
    uint64_t sent() const { return sent_; }
    uint64_t suppressed() const { return suppressed_; }
    const AlertLimiter& limiter() const { return limiter_; }

private:
    AlertLimiter limiter_;
    std::vector<std::unique_ptr<AlertSink>> sinks_;
    uint64_t sent_ = 0;
    uint64_t suppressed_ = 0;
};

}  // namespace wardgate
