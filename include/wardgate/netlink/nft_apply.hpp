#pragma once
// Installs a lowered ruleset into the kernel as one nf_tables transaction (libnftnl + libmnl).
// The kernel ends up with either the old table or the new one, never a mix; other tables
// are never touched.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::netlink {

// Each set in the kernel's encoding, kept while the set stays the same: serve applies (and checks
// for drift) after every edit, and encoding a hundred thousand addresses again each time was most
// of an apply that sends a few elements. Use one per ruleset that is applied again and again.
class SetEncodings {
public:
    SetEncodings();
    ~SetEncodings();
    SetEncodings(const SetEncodings&) = delete;
    SetEncodings& operator=(const SetEncodings&) = delete;
    // Of the last ruleset built: sets taken from here, and sets encoded again.
    size_t reused() const;
    size_t encoded() const;

    struct Memo;  // src/netlink/desired.hpp
    std::unique_ptr<Memo> memo;
};

struct ApplyOptions {
    bool dry_run = false;            // validate in the kernel, then abort (like nft --check)
    bool allow_incremental = true;   // only set elements differ: send the element delta
    // Refuse the commit if the ruleset generation differs (someone changed the ruleset
    // since it was read). Unset: read the generation id just before building the batch.
    // A generation id of 0 disables the check (the kernel treats 0 as "any").
    std::optional<uint32_t> expected_genid;
    // Incremental updates: while the generation id is still the one this process's last
    // commit produced, take the table from that commit instead of reading it back.
    bool reuse_last_commit = true;
    // A file that remembers the last commit for later processes too (wardgate apply uses
    // /run/wardgate/nft-wardgate.netns-<inode>.commit, one per network namespace). Empty:
    // remembered in this process only.
    std::string commit_record;
    SetEncodings* encodings = nullptr;  // none: every set is encoded afresh
};

struct KernelError {
    uint32_t seq = 0;
    int error = 0;            // errno
    std::string object;       // "set role_pacs_v4", "rule 12 in chain forward", ...
    std::string message;      // "set role_pacs_v4: File exists (the kernel refused ...)"
};

struct ApplyResult {
    bool committed = false;          // a transaction was committed (false for dry runs and unchanged)
    bool incremental = false;        // only set elements differed (and were sent, unless unchanged)
    bool unchanged = false;          // the kernel already held this ruleset: nothing was sent
    bool read_back = false;          // the live table was read from the kernel (no usable record of the last commit)
    uint32_t genid_before = 0;
    size_t messages = 0;             // netlink messages in the batch (without BATCH_BEGIN/END)
    // Incremental: elements added and removed; an interval set counts each range once.
    size_t elements_added = 0, elements_removed = 0;
    std::vector<KernelError> errors; // empty on success; a dry run returns the kernel's errors here
};

// Thrown when the kernel refuses the batch; holds the per-message errors in words.
class ApplyError : public std::runtime_error {
public:
    ApplyError(const std::string& what, std::vector<KernelError> errors)
        : std::runtime_error(what), errors_(std::move(errors)) {}
    const std::vector<KernelError>& errors() const { return errors_; }
    bool concurrent_change() const;  // the generation id changed under us (ERESTART)

private:
    std::vector<KernelError> errors_;
};

uint32_t ruleset_genid();
// Applies the ruleset (or validates it, dry_run). When expected_genid is unset and another
// writer changes nftables between reading the generation id and the commit, the apply is
// retried a few times from the start; with expected_genid set the ApplyError is thrown
// (concurrent_change()). Throws std::invalid_argument for a ruleset that cannot be
// encoded, std::system_error when netlink itself fails.
ApplyResult apply_ruleset(const nft::Ruleset& ruleset, const ApplyOptions& options = {});
// Deletes wardgate's table (no-op when absent), in one transaction.
void remove_table(const std::string& table = "wardgate");

// What the kernel holds in wardgate's table compared with what should be there.
struct Drift {
    bool table_missing = false;
    std::vector<std::string> differences;  // "set role_pacs_v4: 10.50.0.10 missing", "chain forward: rule 7 differs", ...
    bool any() const { return table_missing || !differences.empty(); }
};
Drift check_drift(const nft::Ruleset& desired, SetEncodings* encodings = nullptr);

// Per-chain counters of the drop chains (monitor and enforce), read from the kernel.
struct ChainCounters {
    std::string chain;
    uint64_t packets = 0, bytes = 0;                // every counter of the chain
    uint64_t accept_packets = 0, accept_bytes = 0;  // the counters of its rules that accept
    std::optional<bool> last_verdict_accepts;  // the chain's last accept/drop verdict, as installed
};
std::vector<ChainCounters> read_drop_counters(const std::string& table = "wardgate");

// Per segment (and "outside", for traffic in no segment): what its accept_<segment> chain
// counted (accepted packets, attributed to the source segment, else the destination's) and
// what its drop_<segment> chain counted (the default deny: dropped, or in monitor mode
// accepted and logged, so would-be drops). A segment is listed when either chain exists.
struct SegmentCounters {
    std::string segment;
    uint64_t accepted_packets = 0, accepted_bytes = 0;
    uint64_t dropped_packets = 0, dropped_bytes = 0;  // the drop chain's rules that drop
    // The drop chain's rules that accept: a segment in monitor mode, or devices in monitor.
    uint64_t would_be_dropped_packets = 0, would_be_dropped_bytes = 0;
    bool has_accept_counter = false, has_drop_counter = false;
    // From the drop chain's final verdict as installed: accept means the segment is in monitor mode.
    std::optional<bool> monitor;
};
std::vector<SegmentCounters> read_segment_counters(const std::string& table = "wardgate");

// Everything the kernel holds in the table in one canonical text (set definitions with
// their userdata, every element in wire encoding, chains, rule expressions), for exact
// comparisons: two tables are the same kernel state if their texts are equal.
std::string describe_live_table(const std::string& table = "wardgate");

}  // namespace wardgate::netlink
