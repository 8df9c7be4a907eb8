#include "freeradius_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "wardgate/core/file_io.hpp"

namespace fs = std::filesystem;

namespace wardgate::testing {

namespace {

void radius_replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

void radius_write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::string radius_read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

int free_udp_ports(int count) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        int base = 20000 + static_cast<int>((::getpid() * 7919 + attempt * 104729) % 40000);
        bool all_free = true;
        for (int i = 0; i < count && all_free; ++i) {
            int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(base + i));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            all_free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
        }
        if (all_free) return base;
    }
    FAIL("no free UDP ports on 127.0.0.1");
    return 0;
}

void write_radius_config(const fs::path& dir, const std::vector<ExportFile>& files, int port) {
    REQUIRE(std::system(("cp -a /etc/freeradius/3.0 " + dir.string()).c_str()) == 0);
    for (const auto& f : files) radius_write(dir / f.filename, f.text);
    radius_write(dir / "clients.conf",
                 std::string("client loopback {\n\tipaddr = 127.0.0.1\n\tsecret = ") + kRadiusTestSecret + "\n}\n");
    std::string conf = radius_read(dir / "radiusd.conf");
    radius_replace_all(conf, "\tuser = freerad", "#\tuser = freerad");  // root reads the test's files
    radius_replace_all(conf, "\tgroup = freerad", "#\tgroup = freerad");
    radius_write(dir / "radiusd.conf", conf);
    std::string site = radius_read(dir / "sites-enabled" / "default");
    // What policy.d/wardgate tells an administrator to do: wardgate_mab before files.
    auto at_files = site.find("\n\tfiles\n");
    REQUIRE(at_files != std::string::npos);
    site.insert(at_files, "\n\twardgate_mab");
    radius_replace_all(site, "ipv6addr = ::", "ipaddr = 127.0.0.1");
    radius_replace_all(site, "ipaddr = *", "ipaddr = 127.0.0.1");
    for (int i = 0; i < 4; ++i) {
        auto at = site.find("\tport = 0\n");
        REQUIRE(at != std::string::npos);
        site.replace(at, 10, "\tport = " + std::to_string(port + i) + "\n");
    }
    radius_write(dir / "sites-enabled" / "default", site);
    std::string inner = radius_read(dir / "sites-enabled" / "inner-tunnel");
    radius_replace_all(inner, "port = 18120", "port = " + std::to_string(port + 4));
    radius_write(dir / "sites-enabled" / "inner-tunnel", inner);
}

FreeRadiusServer::FreeRadiusServer(const fs::path& config, fs::path log) : log_(std::move(log)) {
    pid_ = ::fork();
    if (pid_ == 0) {
        // Only async-signal-safe calls between fork and exec.
        int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::execlp("freeradius", "freeradius", "-X", "-d", config.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
}

FreeRadiusServer::~FreeRadiusServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
}

bool FreeRadiusServer::ready() {
    for (int i = 0; i < 150; ++i) {
        if (log().find("Ready to process requests") != std::string::npos) return true;
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

std::string FreeRadiusServer::log() const { return radius_read(log_); }

std::string radclient_mab(const fs::path& scratch, int port, const std::string& mac) {
    auto request = scratch / "mab-request";
    radius_write(request, "User-Name = \"" + mac + "\"\nUser-Password = \"" + mac + "\"\nCalling-Station-Id = \"" + mac +
                              "\"\nService-Type = Call-Check\n");
    auto reply = scratch / "mab-reply";
    std::string cmd = "radclient -x -r 1 -t 5 -f " + request.string() + " 127.0.0.1:" + std::to_string(port) + " auth " +
                      kRadiusTestSecret + " >" + reply.string() + " 2>&1";
    (void)std::system(cmd.c_str());
    std::istringstream in(radius_read(reply));
    std::string line, out;
    bool received = false;
    while (std::getline(in, line)) {
        if (line.rfind("Received ", 0) == 0) {
            received = true;
            out += line.substr(9, line.find(" Id ") - 9) + "\n";
        } else if (received && !line.empty() && line[0] == '\t') {
            out += line.substr(1) + "\n";
        } else if (received) {
            break;
        }
    }
    return out;
}

}  // namespace wardgate::testing
