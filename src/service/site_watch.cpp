#include "site_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace wardgate::service::detail {

namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                           IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR;

bool ignored(const std::string& name) {
    if (name.empty()) return false;
    return name[0] == '.' || name.back() == '~' || name.ends_with(".swp") || name.ends_with(".swx");
}

}  // namespace

SiteWatcher::SiteWatcher(const std::filesystem::path& dir) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("inotify: ") + std::strerror(errno));
    watch_tree(dir);
}

SiteWatcher::~SiteWatcher() {
    if (fd_ >= 0) close(fd_);
}

void SiteWatcher::watch_tree(const std::filesystem::path& dir) {
    int wd = inotify_add_watch(fd_, dir.c_str(), kMask);
    if (wd < 0) {
        if (errno == ENOENT) return;  // gone again already
        throw std::runtime_error("inotify: cannot watch " + dir.string() + ": " + std::strerror(errno));
    }
    dirs_[wd] = dir;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && !ignored(it->path().filename().string())) watch_tree(it->path());
}

bool SiteWatcher::read_events() {
    bool changed = false;
    alignas(inotify_event) char buf[16384];
    for (;;) {
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (char* p = buf; p < buf + n;) {
            auto* e = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                changed = true;
                last_change_ = "(inotify queue overflow)";
                continue;
            }
            auto dir = dirs_.find(e->wd);
            if (e->mask & IN_IGNORED) {
                if (dir != dirs_.end()) dirs_.erase(dir);
                continue;
            }
            if (dir == dirs_.end()) continue;
            std::string name = e->len ? std::string(e->name) : std::string();
            if (ignored(name)) continue;
            auto path = name.empty() ? dir->second : dir->second / name;
            if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && (e->mask & IN_ISDIR)) watch_tree(path);
            if (!changed) last_change_ = path.string();
            changed = true;
        }
    }
    return changed;
}

}  // namespace wardgate::service::detail
