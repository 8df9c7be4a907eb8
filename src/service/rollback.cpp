// Confirm, roll back, and the watchdog that rolls back at the deadline.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "state_lock.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/service/nft_text.hpp"

namespace wardgate::service {

namespace detail {

std::string describe_ms(int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string rollback_locked(const RecordFiles& files, const RollbackRecord& r) {
    std::string note;
    if (r.new_genid) {
        uint32_t now = netlink::ruleset_genid();
        if (now != r.new_genid)
            note = fmt::format(" (the ruleset changed again after the commit: generation {} -> {}; table inet {} is restored anyway)",
                               r.new_genid, now, r.table);
    }
    restore_table_text(r.table, r.previous_absent ? std::nullopt : std::optional<std::string>(r.previous_ruleset));
    std::string state;
    if (!r.state_file.empty()) {
        try {
            if (r.previous_state_absent) {
                std::filesystem::remove(r.state_file);
                state = "; state file " + r.state_file + " removed (it did not exist before)";
            } else {
                write_file_atomically(r.state_file, r.previous_state);
                state = "; state file " + r.state_file + " restored";
            }
        } catch (const std::exception& e) {
            // The table is back; a stale state file only makes the next plan wrong.
            state = fmt::format("; the state file {} could not be restored: {}", r.state_file, e.what());
        }
    }
    rename_durably(files.pending, files.rolled_back);
    return fmt::format("rolled back commit {}: table inet {} {}{}{}", r.id, r.table,
                       r.previous_absent ? "deleted (it did not exist before)" : "restored to the previous ruleset", state, note);
}

}  // namespace detail

ConfirmResult confirm(const std::filesystem::path& state_dir, const std::string& table) {
    auto files = record_files(state_dir, table);
    if (!std::filesystem::exists(state_dir)) return {ConfirmOutcome::nothing_pending, "nothing to confirm: no commit is waiting"};
    detail::StateLock lock(files.lock);
    auto r = read_record(files.pending);
    if (!r) {
        std::string msg = "nothing to confirm: no commit is waiting";
        if (auto last = read_record(files.rolled_back))
            msg += fmt::format(" (the last unconfirmed commit, {}, was rolled back; its deadline was {})", last->id,
                               detail::describe_ms(last->deadline_ms));
        return {ConfirmOutcome::nothing_pending, msg};
    }
    int64_t now = now_ms();
    if (now >= r->deadline_ms) {
        std::string what = detail::rollback_locked(files, *r);
        return {ConfirmOutcome::too_late,
                fmt::format("too late: the deadline {} passed {:.1f} s ago; {}", detail::describe_ms(r->deadline_ms),
                            double(now - r->deadline_ms) / 1000.0, what)};
    }
    detail::rename_durably(files.pending, files.confirmed);
    return {ConfirmOutcome::confirmed, fmt::format("confirmed commit {} of table inet {} ({:.1f} s before its deadline)", r->id,
                                                   r->table, double(r->deadline_ms - now) / 1000.0)};
}

RollbackResult rollback_if_due(const std::filesystem::path& state_dir, const std::string& table, const std::string& id,
                               bool now) {
    using S = RollbackResult::Status;
    auto files = record_files(state_dir, table);
    if (!std::filesystem::exists(state_dir)) return {S::nothing_pending, "no commit is waiting for confirmation"};
    detail::StateLock lock(files.lock);
    auto r = read_record(files.pending);
    if (!r) return {S::nothing_pending, "no commit is waiting for confirmation"};
    if (!id.empty() && r->id != id) return {S::superseded, "commit " + id + " was superseded by " + r->id};
    if (!now && now_ms() < r->deadline_ms)
        return {S::not_due, fmt::format("commit {} is due at {}", r->id, detail::describe_ms(r->deadline_ms))};
    return {S::rolled_back, detail::rollback_locked(files, *r)};
}

int run_watchdog(const std::filesystem::path& record_file, int ready_fd) {
    using namespace std::chrono_literals;
    auto mine = read_record(record_file);
    if (!mine) {
        spdlog::error("watchdog: no rollback record at {}", record_file.string());
        return 1;
    }
    auto state_dir = record_file.parent_path();
    if (ready_fd >= 0) {
        (void)!::write(ready_fd, "r", 1);
        ::close(ready_fd);
    }
    spdlog::info("watchdog {}: table inet {} goes back to its previous ruleset at {} unless confirmed", mine->id, mine->table,
                 detail::describe_ms(mine->deadline_ms));
    auto backoff = 1s;
    for (;;) {
        int64_t left = mine->deadline_ms - now_ms();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<int64_t>(left, 1, 200)));
        std::optional<RollbackRecord> current;
        try {
            current = read_record(record_file);
        } catch (const std::exception&) {
            // Being replaced right now: decide under the lock below.
        }
        if (current && current->id == mine->id && now_ms() < mine->deadline_ms) continue;
        try {
            // Confirmed, superseded or due: only ever decided under the state lock.
            auto r = rollback_if_due(state_dir, mine->table, mine->id);
            switch (r.status) {
                case RollbackResult::Status::not_due: continue;
                case RollbackResult::Status::rolled_back: spdlog::warn("watchdog {}: not confirmed in time; {}", mine->id, r.message); return 0;
                case RollbackResult::Status::nothing_pending:
                    spdlog::info("watchdog {}: confirmed (or rolled back by someone else); exiting", mine->id);
                    return 0;
                case RollbackResult::Status::superseded: spdlog::info("watchdog {}: {}; exiting", mine->id, r.message); return 0;
            }
        } catch (const std::exception& e) {
            // The previous table must come back: keep trying.
            spdlog::error("watchdog {}: rollback failed, retrying in {} s: {}", mine->id, backoff.count(), e.what());
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::seconds(30));
        }
    }
}

}  // namespace wardgate::service
