#pragma once
// Installs a lowered ruleset into the kernel as one nf_tables transaction (libnftnl + libmnl).
// The kernel ends up with either the old table or the new one, never a mix; other tables
// are never touched.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::netlink {

struct ApplyOptions {
    bool dry_run = false;            // validate in the kernel, then abort (like nft --check)
    bool allow_incremental = true;   // only set elements differ: send the element delta
    // Refuse the commit if the ruleset generation differs (someone changed the ruleset
    // since it was read). Unset: read the generation id just before building the batch.
    std::optional<uint32_t> expected_genid;
};

struct KernelError {
    uint32_t seq = 0;
    int error = 0;            // errno
    std::string object;       // "set role_pacs_v4", "rule 12 in chain forward", ...
    std::string message;      // "set role_pacs_v4: File exists (the kernel refused ...)"
};

struct ApplyResult {
    bool committed = false;
    bool incremental = false;        // only set elements were sent
    uint32_t genid_before = 0;
    size_t messages = 0;             // netlink messages in the batch
    size_t elements_added = 0, elements_removed = 0;
    std::vector<KernelError> errors; // empty on success
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
ApplyResult apply_ruleset(const nft::Ruleset& ruleset, const ApplyOptions& options = {});
// Deletes wardgate's table (no-op when absent), in one transaction.
void remove_table(const std::string& table = "wardgate");

// What the kernel holds in wardgate's table compared with what should be there.
struct Drift {
    bool table_missing = false;
    std::vector<std::string> differences;  // "set role_pacs_v4: 10.50.0.10 missing", "chain forward: rule 7 differs", ...
    bool any() const { return table_missing || !differences.empty(); }
};
Drift check_drift(const nft::Ruleset& desired);

// Per-chain counters of the drop chains (monitor and enforce), read from the kernel.
struct ChainCounters {
    std::string chain;
    uint64_t packets = 0, bytes = 0;
};
std::vector<ChainCounters> read_drop_counters(const std::string& table = "wardgate");

}  // namespace wardgate::netlink
