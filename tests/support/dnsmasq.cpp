#include "dnsmasq.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "temp_site.hpp"
#include "test_paths.hpp"

namespace wardgate::testing {

Dnsmasq::Dnsmasq(const Netns& ns, const std::filesystem::path& dir, const std::string& hosts, int ttl) : hosts_(dir / "hosts") {
    set_hosts(hosts);
    std::vector<std::string> args{"/usr/sbin/dnsmasq",
                                  "--keep-in-foreground",
                                  "--conf-file=/dev/null",
                                  "--no-resolv",
                                  "--no-hosts",
                                  "--port=5353",
                                  "--listen-address=127.0.0.1",
                                  "--bind-interfaces",
                                  "--local=/example/",
                                  "--addn-hosts=" + hosts_.string(),
                                  fmt::format("--local-ttl={}", ttl),
                                  "--pid-file=" + (dir / "dnsmasq.pid").string(),
                                  "--user=root",
                                  "--log-facility=" + (dir / "dnsmasq.log").string()};
    pid_ = spawn_in(ns, args);
    // Ready once it answers.
    for (int i = 0; i < 100; ++i) {
        std::string out;
        if (ns.exec_status("ss -lun | grep -q '127.0.0.1:5353'", &out) == 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("dnsmasq did not start listening");
}

Dnsmasq::~Dnsmasq() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 60 && waitpid(pid_, &status, WNOHANG) != pid_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, WNOHANG);
}

void Dnsmasq::change(const std::string& hosts) {
    set_hosts(hosts);
    kill(pid_, SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

void Dnsmasq::set_hosts(const std::string& text) {
    std::ofstream(hosts_) << text;
    std::filesystem::permissions(hosts_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                             std::filesystem::perms::group_read | std::filesystem::perms::others_read);
}

void write_dns_site(const std::filesystem::path& site, const std::string& site_extra) {
    std::filesystem::copy(kGatewaySite, site, std::filesystem::copy_options::recursive);
    std::string text = read_text(site / "site.toml");
    text.insert(text.find("\n[[segment]]"), "\n" + site_extra);
    text += R"(
[[endpoint]]
name = "vendor-update"
kind = "vendor-support"
vendor = "Acme"
dns_names = ["update.vendor.example"]
)";
    std::ofstream(site / "site.toml") << text;
    std::ofstream(site / "profiles" / "acme-vitals-1.toml", std::ios::app) << R"(
[[flow]]
direction = "device-initiated"
peer = "endpoint:vendor-update"
protocol = "tcp"
ports = [443]
purpose = "Firmware updates"
required = false
)";
}

}  // namespace wardgate::testing
