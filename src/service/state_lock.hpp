#pragma once
// flock on the state directory's lock file; released on close, so also when the holder dies.
#include <filesystem>

#include "wardgate/service/confirm.hpp"

namespace wardgate::service::detail {

// Opens (creating) the lock file close-on-exec and blocks until the exclusive lock is held.
int lock_file(const std::filesystem::path& path);
void unlock_file(int fd);

class StateLock {
public:
    explicit StateLock(const std::filesystem::path& path) : fd_(lock_file(path)) {}
    ~StateLock() { unlock_file(fd_); }
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;

private:
    int fd_;
};

// Writes the record atomically (temporary file, fsync, rename, fsync of the directory).
void write_record(const std::filesystem::path& file, const RollbackRecord& r);
// rename(2) and an fsync of the directory; false when `from` does not exist.
bool rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

// Restores the record's previous table and renames the record to rolled-back; the caller
// holds the lock. Returns what happened in words.
std::string rollback_locked(const RecordFiles& files, const RollbackRecord& r);

std::string describe_ms(int64_t unix_ms);  // ISO 8601 UTC

}  // namespace wardgate::service::detail
