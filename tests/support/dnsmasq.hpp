#pragma once
// dnsmasq answering from a hosts file on 127.0.0.1:5353 inside a namespace; names under
// "example" that the file lacks are NXDOMAIN. SIGHUP re-reads the file. Stopped by PID.
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

}  // namespace wardgate::testing
