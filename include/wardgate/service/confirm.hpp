#pragma once
// Commit confirmed (like Junos `commit confirmed`, iptables-apply, netplan try): apply a
// ruleset, and unless `wardgate confirm` arrives before the deadline, put the exact previous
// table inet wardgate back.
//
// Before the commit, the previous table is captured as text (or "absent"), the restore
// transaction is validated in the kernel, a rollback record is written atomically to the
// state directory, and a detached watchdog process (`wardgate rollback --watch RECORD`) is
// started. Only then is the new ruleset committed. The watchdog does not depend on the
// applying process: if that is killed at any point, the record and the watchdog remain
// and the previous table comes back at the deadline.
//
// Files in the state directory, per table T:
//   T.pending.json      the record of an unconfirmed commit
//   T.confirmed.json    the last confirmed record (confirm renames pending to this)
//   T.rolled-back.json  the last record that was rolled back
//   T.lock              flock: begin..finish, confirm and rollback are serialized on it
//   T.watchdog.log      what the watchdogs printed
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace wardgate::service {

// $WARDGATE_STATE_DIR, else /var/lib/wardgate (StateDirectory= of the systemd unit), or
// /var/lib/wardgate/netns-<inode> in a network namespace other than the host's.
std::filesystem::path default_state_dir();

struct RollbackRecord {
    std::string id;                 // random, names one commit
    std::string table = "wardgate";
    std::string site;               // what was applied (informational)
    std::string version;            // policy_version() of the new ruleset, when the caller knows it
    int64_t created_ms = 0;         // Unix time in milliseconds
    int64_t deadline_ms = 0;
    bool previous_absent = true;    // the table did not exist before: roll back = delete it
    std::string previous_ruleset;   // `nft -s list table inet T` before the first unconfirmed commit
    uint32_t new_genid = 0;         // ruleset generation after the commit; 0 until it is known
    int watchdog_pid = 0;
    int applier_pid = 0;
    // The plan state file saved with the commit (empty: none): a rollback puts back its
    // content from before the first unconfirmed commit, or removes it if it did not exist.
    std::string state_file;
    bool previous_state_absent = true;
    std::string previous_state;
};
void to_json(nlohmann::json& j, const RollbackRecord& r);
void from_json(const nlohmann::json& j, RollbackRecord& r);

struct RecordFiles {
    std::filesystem::path pending, confirmed, rolled_back, lock, log;
};
RecordFiles record_files(const std::filesystem::path& state_dir, const std::string& table = "wardgate");

// The record of the unconfirmed commit, if there is one.
std::optional<RollbackRecord> read_record(const std::filesystem::path& file);
std::optional<RollbackRecord> pending_record(const std::filesystem::path& state_dir, const std::string& table = "wardgate");

int64_t now_ms();

struct CommitConfirmedOptions {
    std::filesystem::path state_dir;          // empty: default_state_dir()
    std::string table = "wardgate";
    std::chrono::milliseconds within{0};      // time to confirm, > 0
    std::filesystem::path watchdog_program;   // the wardgate binary; empty: /proc/self/exe
    std::string site;                         // informational, stored in the record
    std::string version;                      // policy_version() of the ruleset about to be committed
    std::filesystem::path state_file;         // the plan state file the caller saves with the commit
};

// One commit-confirmed in progress. Usage (what `wardgate apply --confirm-within` does):
//
//   auto cc = service::CommitConfirmed::begin(options);   // record + watchdog, before the commit
//   auto result = netlink::apply_ruleset(ruleset);         // the commit
//   cc.finish();                                           // record the new generation id
//
// Until finish() the state lock is held, so confirm and rollback wait for the commit.
// If apply_ruleset throws, the destructor (or abandon()) clears the record when the table
// is still the previous one; when it is not (the commit may have happened after all), the
// record stays and the watchdog rolls back at the deadline.
class CommitConfirmed {
public:
    // Throws std::runtime_error (nothing has been changed in the kernel) when the previous
    // table cannot be captured or restored, the record cannot be written or the watchdog
    // does not start. A commit-confirmed that is still pending is extended: the new one
    // keeps its previous table, so a rollback goes back to before the first unconfirmed commit.
    static CommitConfirmed begin(const CommitConfirmedOptions& options);

    CommitConfirmed(CommitConfirmed&& other) noexcept;
    CommitConfirmed& operator=(CommitConfirmed&&) = delete;
    ~CommitConfirmed();

    // After a successful commit: stores the new ruleset generation id, releases the lock.
    void finish();
    // After a failed commit (see above). Returns true when the record was cleared.
    bool abandon();

    const RollbackRecord& record() const { return record_; }
    const std::filesystem::path& record_file() const { return files_.pending; }

private:
    CommitConfirmed() = default;
    RecordFiles files_;
    RollbackRecord record_;
    std::optional<RollbackRecord> superseded_;  // the pending record this one replaced
    std::optional<std::string> before_;         // the table right before this commit
    int lock_fd_ = -1;
    bool done_ = true;
};

enum class ConfirmOutcome { confirmed, nothing_pending, too_late };
struct ConfirmResult {
    ConfirmOutcome outcome = ConfirmOutcome::nothing_pending;
    std::string message;  // in words: what was confirmed, or why nothing was
};
// Marks the pending record confirmed (atomic rename). Waits for a commit in progress.
// A confirm after the deadline is too late: the overdue rollback is carried out instead.
ConfirmResult confirm(const std::filesystem::path& state_dir, const std::string& table = "wardgate");

struct RollbackResult {
    enum class Status { rolled_back, not_due, nothing_pending, superseded };
    Status status = Status::nothing_pending;
    std::string message;
    bool rolled_back() const { return status == Status::rolled_back; }
};
// Restores the previous table of the pending record in one transaction, then renames the
// record to T.rolled-back.json. Only when the pending record has this id (empty: any) and,
// unless `now`, its deadline has passed. Throws std::runtime_error when nft refuses (the
// record stays pending).
RollbackResult rollback_if_due(const std::filesystem::path& state_dir, const std::string& table,
                               const std::string& id = {}, bool now = false);

// The watchdog behind `wardgate rollback --watch RECORD`: reads the record, writes one byte
// to ready_fd (if >= 0) once it has, then waits until the record is confirmed or
// superseded (exit 0) or its deadline passes (roll back; retried until it succeeds).
int run_watchdog(const std::filesystem::path& record_file, int ready_fd = -1);

}  // namespace wardgate::service
