#pragma once
// A site directory written by a test into a fresh temporary directory, removed afterwards.
#include <filesystem>
#include <map>
#include <string>

namespace wardgate::testing {

class TempSite {
public:
    // Starts from a small valid site (see temp_site.cpp); `files` replace or add files.
    explicit TempSite(const std::map<std::string, std::string>& files = {}, bool with_defaults = true);
    ~TempSite();
    TempSite(const TempSite&) = delete;
    TempSite& operator=(const TempSite&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    void write(const std::string& relative, const std::string& content) const;
    // Every file under the directory with its content, to prove nothing was written.
    std::map<std::string, std::string> snapshot() const;

private:
    std::filesystem::path dir_;
};

// The default files: two device segments, servers, workstations; pumps and a CT; PACS, NTP, DNS, internet.
std::map<std::string, std::string> small_site_files();

// Runs the wardgate binary; returns exit code, captures stdout and stderr.
struct CommandResult {
    int exit_code = 0;
    std::string out;
    std::string err;
};
CommandResult run_wardgate(const std::string& args);

std::string read_text(const std::filesystem::path& p);

}  // namespace wardgate::testing
