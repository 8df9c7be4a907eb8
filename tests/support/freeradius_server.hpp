#pragma once
// A real FreeRADIUS 3 server for tests: Debian's configuration copied to a temporary
// directory, wardgate's files written into it, a test client on loopback, every listener on
// free ports of 127.0.0.1, `freeradius -X` stopped by its PID when the test ends.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "wardgate/render/export.hpp"

namespace wardgate::testing {

inline constexpr const char* kRadiusTestSecret = "wardgate-test";

// A UDP port on 127.0.0.1 with the next `count - 1` ports free too.
int free_udp_ports(int count);

// Debian's /etc/freeradius/3.0 copied to `dir`, `files` written into it, clients.conf holding
// only 127.0.0.1 with kRadiusTestSecret, the default server's auth on `port` (its other
// listeners on the next three, the inner tunnel on port + 4), wardgate_mab called before files.
void write_radius_config(const std::filesystem::path& dir, const std::vector<ExportFile>& files, int port);

class FreeRadiusServer {
public:
    FreeRadiusServer(const std::filesystem::path& config, std::filesystem::path log);
    ~FreeRadiusServer();
    FreeRadiusServer(const FreeRadiusServer&) = delete;
    FreeRadiusServer& operator=(const FreeRadiusServer&) = delete;

    // Until the log says it is ready; false when it exited or took over 15 seconds.
    bool ready();
    std::string log() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::filesystem::path log_;
};

// A MAB request as a switch sends it (User-Name, User-Password and Calling-Station-Id the MAC),
// sent with radclient; the reply's code and attributes, one "Name = value" a line.
std::string radclient_mab(const std::filesystem::path& scratch, int port, const std::string& mac);

}  // namespace wardgate::testing
