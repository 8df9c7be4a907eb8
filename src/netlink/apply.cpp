// apply_ruleset: the whole table in one transaction, or only the changed set elements
// when nothing else differs; guarded by the ruleset generation id either way.
#include <fmt/format.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>

#include "batch.hpp"
#include "commit_record.hpp"
#include "delta.hpp"
#include "desired.hpp"
#include "errors.hpp"
#include "readback.hpp"
#include "socket.hpp"
#include "wardgate/netlink/nft_apply.hpp"

namespace wardgate::netlink {

using namespace detail;

namespace {

constexpr int kConcurrentRetries = 3;

// What this process last committed, per network namespace and table: while the
// generation id is the one that commit produced, the kernel holds exactly this.
struct Committed {
    uint64_t netns = 0;
    std::string table;
    uint32_t genid = 0;
    std::shared_ptr<const TableModel> model;
};
std::mutex g_committed_mutex;
std::vector<Committed> g_committed;

std::shared_ptr<const TableModel> last_commit(uint64_t netns, const std::string& table, uint32_t genid) {
    if (!netns || !genid) return nullptr;
    std::lock_guard lock(g_committed_mutex);
    for (const auto& c : g_committed)
        if (c.netns == netns && c.table == table && c.genid == genid) return c.model;
    return nullptr;
}

void forget_commit(uint64_t netns, const std::string& table) {
    std::lock_guard lock(g_committed_mutex);
    std::erase_if(g_committed, [&](const Committed& c) { return c.netns == netns && c.table == table; });
}

void remember_commit(uint64_t netns, const std::string& table, uint32_t genid, std::shared_ptr<const TableModel> model,
                     const ApplyOptions& options) {
    forget_commit(netns, table);
    if (!netns || !genid) return;
    if (!options.commit_record.empty()) {
        try {
            save_commit_record(options.commit_record, netns, genid, *model);
        } catch (const std::exception&) {
            // Only a later apply gets slower (it reads the table back); the commit stands.
            std::error_code ignored;
            std::filesystem::remove(options.commit_record, ignored);
        }
    }
    std::lock_guard lock(g_committed_mutex);
    g_committed.push_back({netns, table, genid, std::move(model)});
}

// The kernel bumps the generation by one per commit and skips 0.
uint32_t next_genid(uint32_t g) { return g + 1 == 0 ? 1 : g + 1; }

std::string set_word(const SetModel& s) { return (s.def.flags & NFT_SET_MAP ? "map " : "set ") + s.def.name; }

void add_full(Batch& b, const DesiredTable& d) {
    const std::string& t = d.model.name;
    // "table inet x; delete table inet x; table inet x { ... }": creating first makes the
    // delete valid when the table is absent; other tables are never named.
    b.add_table(t, true);
    b.add_table(t, false);
    b.add_table(t, true);
    // Chains before anything refers to them (jumps, verdict maps); the base chain last.
    for (const auto& c : d.model.chains)
        if (!c.base) b.add_chain(t, c);
    for (const auto& c : d.model.chains)
        if (c.base) b.add_chain(t, c);
    for (size_t i = 0; i < d.model.sets.size(); ++i) {
        const SetModel& s = d.model.sets[i];
        b.add_set(t, s, d.set_ids[i], set_word(s));
        if (s.elems.size()) b.add_elements(t, s, d.set_ids[i], nullptr, false, set_word(s));
    }
    for (size_t ci = 0; ci < d.model.chains.size(); ++ci) {
        const auto& chain = d.model.chains[ci];
        for (size_t ri = 0; ri < d.rules[ci].size(); ++ri) {
            const BuiltRule& r = d.rules[ci][ri];
            std::string object = fmt::format("rule {} in chain {}", ri + 1, chain.name);
            for (const auto& a : r.anon) {
                std::string what = "anonymous set of " + object;
                b.add_set(t, a.set, a.id, what);
                b.add_elements(t, a.set, a.id, nullptr, false, what);
            }
            MessageInfo info{MessageInfo::Kind::rule, object};
            info.rule = d.source[ci][ri];
            b.add_rule(r.rule.get(), std::move(info));
        }
    }
}

void add_delta(Batch& b, const std::string& table, const std::vector<SetDelta>& delta, ApplyResult& result) {
    for (const auto& d : delta) {
        std::string object = set_word(*d.desired);
        if (!d.remove.empty()) b.add_elements(table, *d.live, 0, &d.remove, true, object);
        if (!d.add.empty()) b.add_elements(table, *d.desired, 0, &d.add, false, object, true);
        result.elements_added += d.ranges_added;
        result.elements_removed += d.ranges_removed;
    }
}

KernelError concurrent_change(uint32_t genid, uint32_t now) {
    KernelError e;
    e.error = ERESTART;
    e.object = "the transaction";
    e.message = fmt::format("the nftables ruleset changed since generation {} was read (it is now at {}); nothing was applied",
                            genid, now);
    return e;
}

std::vector<KernelError> send(NfSocket& sock, Batch& batch, uint32_t genid) {
    sock.advance_seq(static_cast<uint32_t>(batch.object_messages() + 2));
    std::vector<KernelError> errors;
    for (const auto& ack : sock.send_batch(batch.data(), batch.size()))
        if (ack.error) errors.push_back(describe_error(batch, ack, genid));
    return errors;
}

bool restart(const std::vector<KernelError>& errors) {
    for (const auto& e : errors)
        if (e.error == ERESTART) return true;
    return false;
}

}  // namespace

uint32_t ruleset_genid() {
    SocketLease lease;
    NfSocket& sock = *lease;
    return read_genid(sock);
}

ApplyResult apply_ruleset(const nft::Ruleset& ruleset, const ApplyOptions& options) {
    DesiredTable desired = build_desired(ruleset, options.encodings);
    const std::string table = desired.model.name;  // a copy: the model moves into the record of the commit
    for (int attempt = 0;; ++attempt) {
        const bool may_retry = !options.expected_genid && attempt + 1 < kConcurrentRetries;
        SocketLease lease;
        NfSocket& sock = *lease;
        const uint64_t netns = sock.netns_cookie();
        const uint32_t genid = options.expected_genid ? *options.expected_genid : read_genid(sock);
        ApplyResult result;
        result.genid_before = genid;

        std::vector<SetDelta> delta;
        std::shared_ptr<const TableModel> cached;
        TableModel read;
        if (options.allow_incremental) {
            if (options.reuse_last_commit) cached = last_commit(netns, table, genid);
            if (!cached && options.reuse_last_commit && !options.commit_record.empty())
                cached = load_commit_record(options.commit_record, netns, table, genid);
            if (!cached) {
                read = read_table(sock, table);
                result.read_back = true;
            }
            const TableModel& live = cached ? *cached : read;
            if (same_definitions(desired.model, live)) {
                result.incremental = true;
                delta = element_delta(desired.model, live);
            }
        }
        if (result.incremental && delta.empty()) {
            // Nothing to send; still, the answer holds only for the generation it was read at.
            uint32_t now = read_genid(sock);
            if (now != genid) {
                if (may_retry) continue;
                result.errors.push_back(concurrent_change(genid, now));
                if (options.dry_run) return result;
                throw ApplyError(summarize(result.errors, false), result.errors);
            }
            result.unchanged = true;
            if (!cached && options.reuse_last_commit)
                remember_commit(netns, table, genid, std::make_shared<const TableModel>(std::move(read)), options);
            return result;
        }

        Batch batch(sock.next_seq(), genid);
        if (result.incremental)
            add_delta(batch, table, delta, result);
        else
            add_full(batch, desired);
        batch.close(!options.dry_run);
        result.messages = batch.object_messages();
        result.errors = send(sock, batch, genid);
        if (!result.errors.empty()) {
            if (restart(result.errors) && may_retry) continue;
            if (options.dry_run) return result;
            throw ApplyError(summarize(result.errors, false), result.errors);
        }
        if (options.dry_run) return result;
        result.committed = true;
        remember_commit(netns, table, genid ? next_genid(genid) : 0,
                        std::make_shared<const TableModel>(std::move(desired.model)), options);
        return result;
    }
}

void remove_table(const std::string& table) {
    for (int attempt = 0;; ++attempt) {
        SocketLease lease;
        NfSocket& sock = *lease;
        const uint64_t netns = sock.netns_cookie();
        const uint32_t genid = read_genid(sock);
        Batch batch(sock.next_seq(), genid);
        batch.add_table(table, true);
        batch.add_table(table, false);
        batch.close(true);
        auto errors = send(sock, batch, genid);
        if (errors.empty()) {
            forget_commit(netns, table);
            return;
        }
        if (restart(errors) && attempt + 1 < kConcurrentRetries) continue;
        throw ApplyError(summarize(errors, false), errors);
    }
}

}  // namespace wardgate::netlink
