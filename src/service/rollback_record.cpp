// The rollback record: its JSON form, its files, the state lock.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "state_lock.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/namespace_paths.hpp"

namespace wardgate::service {

std::filesystem::path default_state_dir() {
    if (const char* d = std::getenv("WARDGATE_STATE_DIR"); d && *d) return d;
    return per_network_namespace("/var/lib/wardgate");
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void to_json(nlohmann::json& j, const RollbackRecord& r) {
    j = nlohmann::json{{"id", r.id},
                       {"table", r.table},
                       {"site", r.site},
                       {"version", r.version},
                       {"created_ms", r.created_ms},
                       {"deadline_ms", r.deadline_ms},
                       {"previous_absent", r.previous_absent},
                       {"previous_ruleset", r.previous_ruleset},
                       {"new_genid", r.new_genid},
                       {"watchdog_pid", r.watchdog_pid},
                       {"applier_pid", r.applier_pid},
                       {"state_file", r.state_file},
                       {"previous_state_absent", r.previous_state_absent},
                       {"previous_state", r.previous_state}};
}

void from_json(const nlohmann::json& j, RollbackRecord& r) {
    j.at("id").get_to(r.id);
    j.at("table").get_to(r.table);
    r.site = j.value("site", "");
    r.version = j.value("version", "");
    j.at("created_ms").get_to(r.created_ms);
    j.at("deadline_ms").get_to(r.deadline_ms);
    j.at("previous_absent").get_to(r.previous_absent);
    j.at("previous_ruleset").get_to(r.previous_ruleset);
    r.new_genid = j.value("new_genid", 0u);
    r.watchdog_pid = j.value("watchdog_pid", 0);
    r.applier_pid = j.value("applier_pid", 0);
    r.state_file = j.value("state_file", "");
    r.previous_state_absent = j.value("previous_state_absent", true);
    r.previous_state = j.value("previous_state", "");
}

RecordFiles record_files(const std::filesystem::path& state_dir, const std::string& table) {
    auto f = [&](const char* suffix) { return state_dir / (table + suffix); };
    return {f(".pending.json"), f(".confirmed.json"), f(".rolled-back.json"), f(".lock"), f(".watchdog.log")};
}

std::optional<RollbackRecord> read_record(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        throw std::runtime_error(file.string() + ": " + io_failure_message(file, "cannot read", errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
        return nlohmann::json::parse(text.str()).get<RollbackRecord>();
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error("rollback record " + file.string() + " is damaged: " + e.what());
    }
}

std::optional<RollbackRecord> pending_record(const std::filesystem::path& state_dir, const std::string& table) {
    return read_record(record_files(state_dir, table).pending);
}

namespace detail {

int lock_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(e));
    }
    return fd;
}

void unlock_file(int fd) {
    if (fd >= 0) ::close(fd);
}

void write_record(const std::filesystem::path& file, const RollbackRecord& r) {
    write_file_atomically(file, nlohmann::json(r).dump(2) + "\n");
}

bool rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::rename(from.c_str(), to.c_str()) < 0) {
        if (errno == ENOENT) return false;
        throw std::runtime_error("cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno));
    }
    int dir = ::open(to.parent_path().empty() ? "." : to.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return true;
}

}  // namespace detail

}  // namespace wardgate::service
