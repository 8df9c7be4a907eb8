// CommitConfirmed: capture, record and watchdog before the commit; finish or abandon after.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

#include "state_lock.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/nft_text.hpp"

namespace wardgate::service {

namespace {

std::string random_id() {
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

// false when the file does not exist.
bool read_whole_file(const std::filesystem::path& file, std::string& out) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return false;
        throw std::runtime_error(file.string() + ": " + io_failure_message(file, "cannot read", errno));
    }
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

std::optional<std::string> previous_of(const RollbackRecord& r) {
    return r.previous_absent ? std::nullopt : std::optional<std::string>(r.previous_ruleset);
}

// Starts `program rollback --watch record --ready-fd 3` detached (new session, reparented to
// init by the double fork) and waits until it has read the record. Returns its pid.
pid_t spawn_watchdog(const std::filesystem::path& program, const std::filesystem::path& record,
                     const std::filesystem::path& log) {
    // Everything the children need is prepared before fork: between fork and exec only
    // async-signal-safe calls are made.
    std::string prog = program.string(), rec = record.string(), logfile = log.string();
    const char* argv[] = {prog.c_str(), "rollback", "--watch", rec.c_str(), "--ready-fd", "3", nullptr};
    int ready[2], pid_pipe[2];
    if (pipe2(ready, O_CLOEXEC) < 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    if (pipe2(pid_pipe, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    pid_t child = fork();
    if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        setsid();
        pid_t grandchild = fork();
        if (grandchild != 0) {
            if (grandchild > 0) (void)!write(pid_pipe[1], &grandchild, sizeof grandchild);
            _exit(grandchild > 0 ? 0 : 1);
        }
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, nullptr);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
        int null = open("/dev/null", O_RDWR);
        int out = open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (out < 0) out = null;
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        if (ready[1] == 3)
            fcntl(3, F_SETFD, 0);
        else
            dup2(ready[1], 3);
        close_range(4, ~0U, 0);
        if (chdir("/") < 0) _exit(126);
        execv(argv[0], const_cast<char* const*>(argv));
        _exit(127);
    }
    close(ready[1]);
    close(pid_pipe[1]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    pid_t watchdog = 0;
    ssize_t n = read(pid_pipe[0], &watchdog, sizeof watchdog);
    close(pid_pipe[0]);
    // The watchdog writes one byte once it has read the record; EOF means it died.
    char byte = 0;
    pollfd p{ready[0], POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, 10000)) < 0 && errno == EINTR) {
    }
    bool ok = r > 0 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (n != sizeof watchdog || !ok) {
        if (n == sizeof watchdog && watchdog > 0) kill(watchdog, SIGKILL);
        throw std::runtime_error("the rollback watchdog (" + prog + " rollback --watch) did not start; see " + logfile);
    }
    return watchdog;
}

}  // namespace

CommitConfirmed CommitConfirmed::begin(const CommitConfirmedOptions& options) {
    if (options.within.count() <= 0) throw std::invalid_argument("the time to confirm must be positive");
    auto dir = options.state_dir.empty() ? default_state_dir() : options.state_dir;
    dir = std::filesystem::absolute(dir);
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0700);
    auto program = options.watchdog_program.empty() ? std::filesystem::read_symlink("/proc/self/exe") : options.watchdog_program;

    CommitConfirmed cc;
    cc.files_ = record_files(dir, options.table);
    cc.lock_fd_ = detail::lock_file(cc.files_.lock);
    cc.done_ = false;
    try {
        auto earlier = read_record(cc.files_.pending);
        if (earlier && earlier->deadline_ms <= now_ms()) {
            // Its watchdog is gone (or about to act): the overdue rollback comes first.
            spdlog::warn("commit {} was not confirmed by its deadline: {}", earlier->id, detail::rollback_locked(cc.files_, *earlier));
            earlier.reset();
        }
        RollbackRecord& r = cc.record_;
        r.id = random_id();
        r.table = options.table;
        r.site = options.site;
        r.version = options.version;
        r.created_ms = now_ms();
        r.deadline_ms = r.created_ms + options.within.count();
        r.applier_pid = static_cast<int>(getpid());
        cc.before_ = list_table_text(options.table);
        if (earlier) {
            r.previous_absent = earlier->previous_absent;
            r.previous_ruleset = earlier->previous_ruleset;
            cc.superseded_ = earlier;
        } else {
            r.previous_absent = !cc.before_;
            r.previous_ruleset = cc.before_.value_or("");
        }
        if (!options.state_file.empty()) {
            r.state_file = std::filesystem::absolute(options.state_file).string();
            if (earlier && earlier->state_file == r.state_file) {
                r.previous_state_absent = earlier->previous_state_absent;
                r.previous_state = earlier->previous_state;
            } else {
                r.previous_state_absent = !read_whole_file(r.state_file, r.previous_state);
            }
        }
        // The rollback must be possible before anything changes: the kernel checks it now.
        restore_table_text(r.table, previous_of(r), true);
        detail::write_record(cc.files_.pending, r);
        try {
            r.watchdog_pid = spawn_watchdog(program, cc.files_.pending, cc.files_.log);
        } catch (...) {
            if (earlier)
                detail::write_record(cc.files_.pending, *earlier);
            else
                std::filesystem::remove(cc.files_.pending);
            throw;
        }
        detail::write_record(cc.files_.pending, r);
    } catch (...) {
        detail::unlock_file(cc.lock_fd_);
        cc.lock_fd_ = -1;
        cc.done_ = true;
        throw;
    }
    return cc;
}

CommitConfirmed::CommitConfirmed(CommitConfirmed&& o) noexcept
    : files_(std::move(o.files_)),
      record_(std::move(o.record_)),
      superseded_(std::move(o.superseded_)),
      before_(std::move(o.before_)),
      lock_fd_(o.lock_fd_),
      done_(o.done_) {
    o.lock_fd_ = -1;
    o.done_ = true;
}

CommitConfirmed::~CommitConfirmed() {
    if (done_) return;
    try {
        abandon();
    } catch (const std::exception& e) {
        spdlog::error("commit-confirmed {}: {}", record_.id, e.what());
        detail::unlock_file(lock_fd_);
    }
}

void CommitConfirmed::finish() {
    if (done_) return;
    try {
        record_.new_genid = netlink::ruleset_genid();
        detail::write_record(files_.pending, record_);
    } catch (...) {
        // The record without the generation id still rolls back; only the lock must go.
        detail::unlock_file(lock_fd_);
        lock_fd_ = -1;
        done_ = true;
        throw;
    }
    detail::unlock_file(lock_fd_);
    lock_fd_ = -1;
    done_ = true;
}

bool CommitConfirmed::abandon() {
    if (done_) return false;
    done_ = true;
    bool cleared = false;
    try {
        if (list_table_text(record_.table) == before_) {
            if (superseded_)
                detail::write_record(files_.pending, *superseded_);
            else
                std::filesystem::remove(files_.pending);
            if (record_.watchdog_pid > 0) kill(record_.watchdog_pid, SIGTERM);
            cleared = true;
        } else {
            spdlog::warn("commit {}: the apply failed but table inet {} changed; the rollback stays armed for {}", record_.id,
                         record_.table, detail::describe_ms(record_.deadline_ms));
        }
    } catch (...) {
        detail::unlock_file(lock_fd_);
        lock_fd_ = -1;
        throw;
    }
    detail::unlock_file(lock_fd_);
    lock_fd_ = -1;
    return cleared;
}

}  // namespace wardgate::service
