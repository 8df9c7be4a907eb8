#include "reader_support.hpp"

#include <climits>

namespace wardgate::flows_internal {

static int clamp_int(long long v) { return v > INT_MAX ? INT_MAX : static_cast<int>(v); }

void throw_input_error(const std::string& file, long long line, long long column, std::string_view field,
                       std::string message) {
    throw InputError(Diagnostic{file, clamp_int(line), clamp_int(column), std::string(field), std::move(message)});
}

std::optional<std::string> other_zeek_log(const std::vector<std::string>& field_names) {
    // A field each of these logs has and conn.log does not.
    static constexpr std::pair<std::string_view, std::string_view> kOnlyIn[] = {
        {"query", "dns"},          {"qtype_name", "dns"},    {"method", "http"},    {"uri", "http"},
        {"server_name", "ssl"},    {"cipher", "ssl"},        {"fuid", "files"},     {"mime_type", "files"},
        {"mailfrom", "smtp"},      {"assigned_addr", "dhcp"}, {"note", "notice"},   {"client", "ssh"},
        {"request_type", "kerberos"}, {"certificate.serial", "x509"}, {"peer_descr", "weird"},
        {"name", "weird"},         {"facility", "syslog"},   {"severity", "syslog"}, {"rtt", "dns"},
        {"command", "ftp"},        {"user_agent", "http"},   {"version", "ssh"},
    };
    for (const auto& name : field_names)
        for (const auto& [field, log] : kOnlyIn)
            if (name == field) return std::string(log);
    return std::nullopt;
}

void skip_unfinished_last_line(ReadSummary& summary, long long line, const InputError& why) {
    const Diagnostic& d = why.diagnostics().front();
    summary.warnings.push_back("line " + std::to_string(line) + ": the last line has no newline and does not read (" +
                               (d.field.empty() ? "" : d.field + ": ") + d.message +
                               "): skipped, as a log still being written ends this way; read the file again when "
                               "it is complete");
    summary.incomplete = true;
}

ProgressTicker::ProgressTicker(const ProgressCallback& callback, std::string file, uint64_t bytes_total)
    : callback_(callback), file_(std::move(file)), total_(bytes_total) {}

void ProgressTicker::report(uint64_t bytes_done, uint64_t rows) {
    if (!callback_) return;
    next_ = bytes_done + kInterval;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    callback_(IngestProgress{file_, bytes_done, total_, rows, elapsed.count()});
}

}  // namespace wardgate::flows_internal
