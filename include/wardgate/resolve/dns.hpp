#pragma once
// DNS names resolved to addresses, with the TTL the answer may be kept for. A stub
// resolver over c-ares: the system's nameservers (/etc/resolv.conf) or one given.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wardgate/core/net.hpp"

namespace wardgate {

using SysSeconds = std::chrono::sys_seconds;

struct DnsAnswer {
    std::vector<IpAddress> addresses;  // A and AAAA, sorted, unique
    uint32_t ttl = 0;                  // seconds: the smallest TTL among the records
    SysSeconds resolved{};             // when the answer was received
};

// DNS name (lower case, no trailing dot) -> its last answer.
using DnsAnswers = std::map<std::string, DnsAnswer>;

// "2026-11-22T10:15Z": what exports and the plan show as the resolution time.
std::string resolution_minute(SysSeconds t);
// "2026-11-22T10:15:07Z" and back (nullopt when malformed).
std::string resolution_time(SysSeconds t);
std::optional<SysSeconds> parse_resolution_time(std::string_view text);
// Lower case, without a trailing dot.
std::string normalize_dns_name(std::string_view name);

enum class DnsStatus { ok, nxdomain, no_address, servfail, refused, timeout, error };
std::string_view to_string(DnsStatus s);  // "ok", "NXDOMAIN", "no address", "SERVFAIL", ...

struct Resolution {
    DnsStatus status = DnsStatus::error;
    std::string message;  // what went wrong, in words (empty when ok)
    DnsAnswer answer;
    bool ok() const { return status == DnsStatus::ok; }
};

struct ResolverOptions {
    // "ADDRESS", "ADDRESS:PORT" or "[V6]:PORT"; several separated by ','. Empty: the system's.
    std::string nameserver;
    std::chrono::milliseconds timeout{2000};  // per try
    int tries = 2;
};

class Resolver {
public:
    // Throws std::invalid_argument for a nameserver that does not parse,
    // std::runtime_error when c-ares cannot start.
    explicit Resolver(ResolverOptions options = {});
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Asks for A and AAAA at once; blocks until both answered or timed out.
    Resolution resolve(const std::string& name);
    const ResolverOptions& options() const { return o_; }

private:
    ResolverOptions o_;
    void* channel_ = nullptr;  // ares_channel
};

}  // namespace wardgate
