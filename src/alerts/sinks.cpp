#include "wardgate/alerts/sinks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace wardgate {

namespace {

constexpr int kFacilityLogAudit = 13;
// Private enterprise number 32473 is reserved for documentation and examples (RFC 5612).
constexpr const char* kStructuredDataId = "wardgate@32473";

int syslog_severity(Severity s) {
    switch (s) {
        case Severity::notice: return 5;
        case Severity::warning: return 4;
        case Severity::error: return 3;
        case Severity::critical: return 2;
    }
    return 4;
}

// RFC 3339 in UTC, with microseconds when `fraction` is set.
std::string utc_time(double epoch, bool fraction) {
    double whole = std::floor(epoch);
    auto seconds = static_cast<time_t>(whole);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[40];
    size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buffer, n);
    if (fraction) {
        auto micros = static_cast<long>(std::lround((epoch - whole) * 1e6));
        if (micros > 999999) micros = 999999;
        std::snprintf(buffer, sizeof buffer, ".%06ld", micros);
        out += buffer;
    }
    return out + "Z";
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// SD-PARAM values escape '"', '\' and ']' (RFC 5424 section 6.3.3).
std::string sd_value(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\' || c == ']') out += '\\';
        out += c;
    }
    return out;
}

std::string message_with_suppressed(const Alert& a) {
    if (a.suppressed == 0) return a.message;
    return a.message + " (" + std::to_string(a.suppressed) + " similar alert" + (a.suppressed == 1 ? "" : "s") +
           " for this edge suppressed)";
}

}  // namespace

nlohmann::json alert_to_json(const Alert& a) {
    const EdgeKey& k = a.edge.key;
    nlohmann::json findings = nlohmann::json::array();
    for (auto f : a.findings) findings.push_back(to_string(f));
    nlohmann::json j = {
        {"time", utc_time(a.time(), false)},
        {"kind", to_string(a.kind)},
        {"findings", findings},
        {"severity", to_string(a.severity)},
        {"device", a.device},
        {"device_initiated", a.device_initiated},
        {"peer", a.peer},
        {"role", a.role},
        {"segment", a.segment},
        {"vendor", a.vendor},
        {"model", a.model},
        {"lifecycle", to_string(a.lifecycle)},
        {"fda_class", to_string(a.fda_class)},
        {"phi", to_string(a.phi)},
        {"downtime_impact", to_string(a.downtime_impact)},
        {"risk", to_string(a.risk)},
        {"initiator", {{"address", k.initiator.to_string()}, {"name", a.initiator}}},
        {"responder", {{"address", k.responder.to_string()}, {"name", a.responder}}},
        {"protocol", to_string(k.protocol)},
        {"port", k.responder_port},
        {"first_seen", utc_time(a.edge.stats.first_seen, false)},
        {"last_seen", utc_time(a.edge.stats.last_seen, false)},
        {"connections", a.edge.stats.connections},
        {"bytes", a.edge.stats.bytes},
        {"established", a.edge.stats.established},
        {"message", message_with_suppressed(a)},
        {"suppressed", a.suppressed},
    };
    if (!a.insecure.empty()) j["insecure_protocol"] = a.insecure;
    if (!a.rule.empty()) j["rule"] = a.rule;
    if (!a.deviation.empty()) j["deviation"] = a.deviation;
    return j;
}

std::string format_rfc5424(const Alert& a, const std::string& hostname, double now, int pid) {
    const EdgeKey& k = a.edge.key;
    const int pri = kFacilityLogAudit * 8 + syslog_severity(a.severity);
    std::string sd = std::string("[") + kStructuredDataId;
    auto param = [&](const char* name, std::string_view value) {
        sd += std::string(" ") + name + "=\"" + sd_value(value) + "\"";
    };
    param("kind", to_string(a.kind));
    param("severity", to_string(a.severity));
    param("device", a.device);
    param("role", a.role);
    param("lifecycle", to_string(a.lifecycle));
    param("risk", to_string(a.risk));
    param("initiator", k.initiator.to_string());
    param("responder", k.responder.to_string());
    param("protocol", to_string(k.protocol));
    param("port", std::to_string(k.responder_port));
    param("seen", utc_time(a.time(), false));
    param("suppressed", std::to_string(a.suppressed));
    if (!a.rule.empty()) param("rule", a.rule);
    sd += "]";
    std::string host = hostname.empty() ? "-" : hostname.substr(0, 255);
    for (char& c : host)
        if (c <= 32 || c >= 127) c = '_';
    return "<" + std::to_string(pri) + ">1 " + utc_time(now, true) + " " + host + " wardgate " + std::to_string(pid) +
           " " + std::string(to_string(a.kind)) + " " + sd + " " + message_with_suppressed(a);
}

void LogAlertSink::send(const Alert& a) {
    auto level = a.severity >= Severity::error ? spdlog::level::err : spdlog::level::warn;
    spdlog::log(level, "alert {} [{}]: {}", to_string(a.kind), to_string(a.severity), message_with_suppressed(a));
}

JsonLinesAlertSink::JsonLinesAlertSink(const std::filesystem::path& file) : file_(file) {
    fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) throw std::runtime_error(file.string() + ": cannot open the alert file: " + std::strerror(errno));
}

JsonLinesAlertSink::~JsonLinesAlertSink() {
    if (fd_ >= 0) ::close(fd_);
}

void JsonLinesAlertSink::send(const Alert& a) {
    std::string line = alert_to_json(a).dump() + "\n";
    ssize_t n;
    do {
        n = ::write(fd_, line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size()))
        throw std::runtime_error(file_.string() + ": cannot append the alert: " + std::strerror(errno));
}

SyslogAlertSink::SyslogAlertSink(const std::string& collector)
    : socket_(std::make_unique<UdpConnection>(collector, "syslog collector")) {
    char name[256] = "";
    if (::gethostname(name, sizeof name - 1) == 0) hostname_ = name;
}

SyslogAlertSink::~SyslogAlertSink() = default;

void SyslogAlertSink::send(const Alert& a) {
    std::string message = format_rfc5424(a, hostname_, now_seconds(), static_cast<int>(::getpid()));
    // UDP syslog is best effort: a collector that is down must not stop the ingest.
    if (!socket_->send(message))
        spdlog::warn("syslog: cannot send an alert: {}", std::strerror(errno));
}

void AlertDispatcher::dispatch(std::vector<Alert> alerts) {
    std::stable_sort(alerts.begin(), alerts.end(), [](const Alert& a, const Alert& b) { return a.time() < b.time(); });
    for (auto& a : alerts) {
        if (!limiter_.admit(a)) {
            ++suppressed_;
            continue;
        }
        ++sent_;
        for (auto& sink : sinks_) sink->send(a);
    }
}

}  // namespace wardgate
