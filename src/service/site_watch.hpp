#pragma once
// Watches a site directory and its subdirectories (inotify) for edits. The state
// subdirectory .wardgate and editor droppings (hidden files, *~, *.swp) are ignored.
#include <filesystem>
#include <map>
#include <string>

namespace wardgate::service::detail {

class SiteWatcher {
public:
    explicit SiteWatcher(const std::filesystem::path& dir);
    ~SiteWatcher();
    SiteWatcher(const SiteWatcher&) = delete;
    SiteWatcher& operator=(const SiteWatcher&) = delete;

    int fd() const { return fd_; }
    // Reads the pending events; true when one of them is a change to a site file.
    // The first changed path is kept in last_change().
    bool read_events();
    const std::string& last_change() const { return last_change_; }

private:
    void watch_tree(const std::filesystem::path& dir);
    int fd_ = -1;
    std::map<int, std::filesystem::path> dirs_;  // watch descriptor -> directory
    std::string last_change_;
};

}  // namespace wardgate::service::detail
