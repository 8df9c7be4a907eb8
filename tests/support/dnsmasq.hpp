#pragma once
// DNS in tests: dnsmasq answering from a hosts file on 127.0.0.1:5353 inside a namespace (names
// under "example" that the file lacks are NXDOMAIN; SIGHUP re-reads the file; stopped by PID),
// and a site with a DNS-only endpoint.
#include <sys/types.h>

#include <filesystem>
#include <string>

#include "netns.hpp"

namespace wardgate::testing {

class Dnsmasq {
public:
    // `dir` holds its hosts file, pid file and log (readable by the user dnsmasq runs as).
    Dnsmasq(const Netns& ns, const std::filesystem::path& dir, const std::string& hosts, int ttl);
    ~Dnsmasq();
    Dnsmasq(const Dnsmasq&) = delete;
    Dnsmasq& operator=(const Dnsmasq&) = delete;

    // Replaces the records and makes dnsmasq read them (and forget what it cached).
    void change(const std::string& hosts);

private:
    void set_hosts(const std::string& text);
    std::filesystem::path hosts_;
    pid_t pid_ = -1;
};

// The gateway test site copied to `site`, `site_extra` added to its [site] table, with a
// DNS-only vendor endpoint (update.vendor.example) the monitor reaches on tcp/443.
void write_dns_site(const std::filesystem::path& site, const std::string& site_extra);

}  // namespace wardgate::testing
