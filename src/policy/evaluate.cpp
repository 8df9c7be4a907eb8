#include "wardgate/policy/evaluate.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "wardgate/core/sorted_runs.hpp"

namespace wardgate {

namespace {

// address + 1, saturating; returns false on overflow (the range reaches the top).
bool increment(std::array<uint8_t, 16>& a, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
        if (++a[i] != 0) return true;
    return false;
}

// The prefixes of a group that hold one of the addresses (sorted), in order. A group's prefixes
// are sorted and disjoint as the compiler collapses them; one built otherwise is scanned whole.
template <typename Add>
void prefixes_holding(const std::vector<Prefix>& prefixes, const std::vector<IpAddress>& only, Add add) {
    bool disjoint = true;
    for (size_t i = 1; i < prefixes.size() && disjoint; ++i)
        disjoint = prefixes[i - 1].family() == prefixes[i].family() ? prefixes[i - 1].last() < prefixes[i].address
                                                                    : prefixes[i - 1].family() < prefixes[i].family();
    if (!disjoint) {
        for (const auto& p : prefixes)
            if (std::any_of(only.begin(), only.end(), [&](const IpAddress& a) { return p.contains(a); })) add(p);
        return;
    }
    const Prefix* last_added = nullptr;
    for (const auto& a : only) {
        // The last prefix starting at or below the address is the only one that can hold it.
        auto it = std::upper_bound(prefixes.begin(), prefixes.end(), a,
                                   [](const IpAddress& x, const Prefix& p) { return x < p.address; });
        if (it == prefixes.begin()) continue;
        const Prefix& p = *std::prev(it);
        if (&p == last_added || !p.contains(a)) continue;
        add(p);
        last_added = &p;
    }
}

}  // namespace

Evaluator::Evaluator(const Policy& policy) : policy_(policy) { index(nullptr); }

Evaluator::Evaluator(const Policy& policy, const std::vector<IpAddress>& only) : policy_(policy) { index(&only); }

void Evaluator::index(const std::vector<IpAddress>* only) {
    const Policy& policy = policy_;
    index_family(Family::v4, only);
    index_family(Family::v6, only);
    std::vector<std::pair<Prefix, int>> subnets;
    for (size_t i = 0; i < policy.segments.size(); ++i)
        for (const auto& p : policy.segments[i].subnets) subnets.emplace_back(p, static_cast<int>(i));
    segments_ = PrefixOwners(std::move(subnets));
    v4_buckets_ = V4Buckets(v4_.size(), [&](size_t i) { return static_cast<uint32_t>(v4_[i].hi >> 48); });
    allow_by_src_.resize(policy.groups.size());
    for (size_t g = 0; g < policy.groups.size(); ++g)
        if (policy.groups[g].any) any_groups_.push_back(static_cast<uint32_t>(g));
    for (size_t i = 0; i < policy.rules.size(); ++i) {
        if (policy.rules[i].action == Rule::Action::deny) {
            denies_.push_back(i);
        } else {
            allow_by_src_[policy.rules[i].src].push_back(i);
        }
    }
    for (size_t i = 0; i < policy.monitored.size(); ++i)
        for (const auto& a : policy.monitored[i].addresses) monitored_.emplace(a, i);
}

// Sweeps every group prefix's start and end into elementary ranges, each holding the
// groups that cover it: one binary search then answers "which groups hold this address".
Evaluator Evaluator::for_addresses(const Policy& policy, const std::vector<IpAddress>& only) {
    size_t prefixes = 0;
    for (const auto& g : policy.groups) prefixes += g.prefixes.size();
    // A binary search per address and group against one event per prefix end, roughly.
    constexpr size_t kSearchCost = 4;
    if (only.size() * policy.groups.size() * kSearchCost <= prefixes) return Evaluator(policy, only);
    return Evaluator(policy);
}

void Evaluator::index_family(Family f, const std::vector<IpAddress>* only) {
    int bytes = f == Family::v4 ? 4 : 16;
    struct Event {
        uint64_t hi, lo;  // the address as two big-endian words: byte order, compared faster
        uint32_t group;
        int delta;  // +1 enter, -1 leave
    };
    auto event = [](const std::array<uint8_t, 16>& at, uint32_t group, int delta) {
        uint64_t hi = 0, lo = 0;
        for (size_t i = 0; i < 8; ++i) {
            hi = hi << 8 | at[i];
            lo = lo << 8 | at[i + 8];
        }
        return Event{hi, lo, group, delta};
    };
    // A group's prefixes are sorted and disjoint, so its events come out in address order: one
    // sorted run per group, merged run by run (fewer comparisons than sorting them all).
    std::vector<Event> events;
    std::vector<size_t> runs{0};
    for (uint32_t g = 0; g < policy_.groups.size(); ++g) {
        auto add = [&](const Prefix& p) {
            if (p.family() != f) return;
            events.push_back(event(p.address.bytes, g, +1));
            auto end = p.last().bytes;
            if (increment(end, bytes)) events.push_back(event(end, g, -1));
        };
        if (only) {
            prefixes_holding(policy_.groups[g].prefixes, *only, add);
        } else {
            for (const auto& p : policy_.groups[g].prefixes) add(p);
        }
        if (events.size() > runs.back()) runs.push_back(events.size());
    }
    // The events at one address may come in any order: only their sum per group counts.
    auto before = [](const Event& a, const Event& b) { return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo; };
    const auto run_sorted = [&](size_t r) { return std::is_sorted(events.begin() + static_cast<long>(runs[r]),
                                                                  events.begin() + static_cast<long>(runs[r + 1]), before); };
    bool sorted_runs = true;  // a group built in code may hold unsorted prefixes: then sort it all
    for (size_t r = 0; r + 1 < runs.size() && sorted_runs; ++r) sorted_runs = run_sorted(r);
    if (!sorted_runs) {
        std::sort(events.begin(), events.end(), before);
    } else {
        merge_sorted_runs(events, std::move(runs), before);
    }
    auto& table = f == Family::v4 ? v4_ : v6_;
    // The groups covering the current range, sorted: an address lies in a handful, so a small
    // vector beats a tree.
    std::vector<std::pair<uint32_t, int>> active;
    for (size_t i = 0; i < events.size();) {
        const Event& first = events[i];
        for (; i < events.size() && events[i].hi == first.hi && events[i].lo == first.lo; ++i) {
            const uint32_t g = events[i].group;
            auto it = std::lower_bound(active.begin(), active.end(), g,
                                       [](const std::pair<uint32_t, int>& x, uint32_t v) { return x.first < v; });
            if (it == active.end() || it->first != g) it = active.insert(it, {g, 0});
            if ((it->second += events[i].delta) == 0) active.erase(it);
        }
        Boundary b{first.hi, first.lo, static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(active.size())};
        for (const auto& entry : active) ids_.push_back(entry.first);
        table.push_back(b);
    }
}

Evaluator::Membership Evaluator::membership(const IpAddress& a) const {
    const auto& table = a.family == Family::v4 ? v4_ : v6_;
    Membership m{{}, any_groups_};
    const uint64_t hi = a.high_word(), lo = a.low_word();
    auto first = table.begin(), last = table.end();
    if (a.family == Family::v4) {
        // Every boundary before the address's /16 lies below it, every one after above it.
        const auto [from, to] = v4_buckets_.range(static_cast<uint32_t>(hi >> 32));
        first = v4_.begin() + from;
        last = v4_.begin() + to;
    }
    auto it = std::partition_point(first, last, [=](const Boundary& b) { return b.hi != hi ? b.hi < hi : b.lo <= lo; });
    if (it != table.begin()) {
        --it;
        m.range = std::span<const uint32_t>(ids_.data() + it->offset, it->count);
    }
    return m;
}

std::vector<uint32_t> Evaluator::groups_of(const IpAddress& a) const {
    const Membership m = membership(a);
    std::vector<uint32_t> out(m.any.begin(), m.any.end());
    out.insert(out.end(), m.range.begin(), m.range.end());
    std::sort(out.begin(), out.end());
    return out;
}

// The first segment (in the policy's order) with a subnet holding the address. Only subnets
// starting at or below it can, and walking down from there stops where none reaches it.
Verdict Evaluator::evaluate(const IpAddress& src, const IpAddress& dst, Protocol proto, uint16_t port) const {
    // port: the responder port, or for ICMP the message (icmp_port). Rules match ICMP by its
    // message where they name types; pinholes of protocols without ports by the two hosts.
    const Family family = src.family;
    const Membership src_groups = membership(src), dst_groups = membership(dst);
    auto in = [](const Membership& m, size_t g) { return m.holds(static_cast<uint32_t>(g)); };
    Verdict v;
    if (auto m = proto == Protocol::icmp ? icmp_message(port) : std::nullopt; m && !icmp_starts_connection(family, m->type)) {
        v.by = Verdict::By::not_new;
        return v;
    }
    for (size_t i : denies_) {
        const Rule& r = policy_.rules[i];
        if (in(src_groups, r.src) && in(dst_groups, r.dst) && r.matches_service(proto, port, family)) {
            if (r.trial()) {
                if (!v.trial_deny) v.trial_deny = i;
                continue;
            }
            v.by = Verdict::By::deny_rule;
            v.rule = i;
            return v;
        }
    }
    size_t best = policy_.rules.size();
    for (auto groups : {src_groups.range, src_groups.any})
        for (uint32_t g : groups)
            for (size_t i : allow_by_src_[g])
                if (i < best && in(dst_groups, policy_.rules[i].dst) && policy_.rules[i].matches_service(proto, port, family))
                    best = i;
    if (best < policy_.rules.size()) {
        v.allowed = true;
        v.by = Verdict::By::allow_rule;
        v.rule = best;
        return v;
    }
    Pinhole probe;
    probe.src = src;
    probe.dst = dst;
    probe.protocol = proto;
    probe.port = has_ports(proto) ? port : 0;
    // An ICMP pinhole holds the request type seen (any code), or 0 for every message.
    auto m = proto == Protocol::icmp ? icmp_message(port) : std::nullopt;
    const std::array<uint16_t, 2> ports{m ? icmp_port(m->type, 0) : probe.port, probe.port};
    for (uint16_t p : std::span(ports.data(), m ? 2 : 1)) {
        probe.port = p;
        auto it = std::lower_bound(policy_.pinholes.begin(), policy_.pinholes.end(), probe,
                                   [](const Pinhole& a, const Pinhole& b) { return a.key() < b.key(); });
        if (it != policy_.pinholes.end() && it->key() == probe.key()) {
            v.allowed = true;
            v.by = Verdict::By::pinhole;
            v.pinhole = static_cast<size_t>(it - policy_.pinholes.begin());
            return v;
        }
    }
    int seg = segments_.owner_of(src);
    if (seg < 0) seg = segments_.owner_of(dst);
    if (seg >= 0) {
        v.segment = policy_.segments[seg].name;
        v.monitored = policy_.monitor(policy_.segments[seg]);
    } else {
        v.monitored = policy_.mode == EnforcementMode::monitor;
    }
    if (!v.monitored) {
        auto it = monitored_.find(src);
        if (it == monitored_.end()) it = monitored_.find(dst);
        if (it != monitored_.end()) {
            v.monitored = true;
            v.monitored_device = policy_.monitored[it->second].device;
        }
    }
    return v;
}

}  // namespace wardgate
