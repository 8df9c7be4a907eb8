#include "baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <future>
#include <iterator>

#include "wardgate/core/insecure.hpp"
#include "wardgate/policy/evaluate.hpp"

namespace wardgate {

namespace policy_detail {

// A pinhole or refusal with the edge it came from: of two edges that make the same pinhole,
// the earlier one's stands, whichever of them was judged last.
template <typename T>
struct Judged {
    uint32_t edge = 0;
    T item;
};

template <typename T>
bool judged_before(const Judged<T>& a, const Judged<T>& b) {
    if (a.item.key() != b.item.key()) return a.item.key() < b.item.key();
    return a.edge < b.edge;
}

}  // namespace policy_detail

using policy_detail::Judged;

struct BaselineMemo::State {
    uint64_t list = 0;  // the EdgeLineage list judged
    size_t edges = 0;
    Date today;
    std::array<Stance, 3> stances;
    // What an edge's verdict reads of the policy before the baseline: the groups' addresses and
    // the rules between them.
    struct Group {
        std::string name;
        bool any = false;
        std::vector<Prefix> prefixes;
    };
    struct RuleShape {
        Rule::Action action = Rule::Action::allow;
        size_t src = 0, dst = 0;
        std::vector<Service> services;
        bool trial = false;
        bool operator==(const RuleShape&) const = default;
    };
    std::vector<Group> groups;
    std::vector<RuleShape> rules;
    // Every edge's outcome, in the policy's order: by key, then edge.
    std::vector<Judged<Pinhole>> pinholes;
    std::vector<Judged<BaselineRefusal>> refused;
    size_t unrouted = 0;
    // Both ends of every edge by address: which edges an address takes part in.
    std::vector<std::pair<IpAddress, uint32_t>> by_end;
};

BaselineMemo::BaselineMemo() = default;
BaselineMemo::~BaselineMemo() = default;

namespace policy_detail {

namespace {

std::string day(double epoch) {
    auto tp = std::chrono::sys_seconds{std::chrono::seconds{static_cast<long long>(epoch)}};
    return to_string(Date{std::chrono::floor<std::chrono::days>(tp)});
}

std::array<Stance, 3> stances_of(const Site& site) {
    return {site.stance(Lifecycle::support), site.stance(Lifecycle::limited_support),
            site.stance(Lifecycle::end_of_support)};
}

struct Part {
    std::vector<Judged<Pinhole>> pinholes;
    std::vector<Judged<BaselineRefusal>> refused;
    size_t unrouted = 0;
};

// Keeps an observed flow that no rule allows when every managed device on it may keep its
// baseline and the evidence is strong: both ends known, the exchange completed, seen often
// enough, not an insecure protocol, not covered by an expired approval. Everything else the
// stance would have kept is listed as refused, with the reason.
class Judge {
public:
    Judge(const AddressBook& book, const Evaluator& eval, const std::vector<ClassifiedEdge>& edges)
        : book_(book), site_(book.site()), eval_(eval), edges_(edges), stances_(stances_of(book.site())) {
        // Each device's stage in one small array: looked up through the devices themselves,
        // every edge end would be a cache miss on a site of a hundred thousand.
        stage_.resize(site_.devices.size());
        for (size_t i = 0; i < stage_.size(); ++i) stage_[i] = static_cast<uint8_t>(site_.devices[i].lifecycle);
    }

    void operator()(uint32_t edge, Part& out) const {
        const ClassifiedEdge& c = edges_[edge];
        const auto& k = c.observed.key;
        const auto& st = c.observed.stats;
        if (c.unrouted) {
            ++out.unrouted;
            return;
        }
        bool any_device = false, eligible = true;
        uint32_t min_days = 0, min_connections = 0;
        for (const auto* end : {&c.initiator, &c.responder}) {
            if (end->kind != Entity::Kind::device) continue;
            any_device = true;
            const Stance& s = stances_[stage_[end->index]];
            if (!s.baseline) eligible = false;
            min_days = std::max(min_days, s.baseline_min_days);
            min_connections = std::max(min_connections, s.baseline_min_connections);
        }
        if (!any_device || !eligible) return;
        auto v = eval_.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
        // Denied, or ICMP the gateway passes only as an answer: nothing for the baseline to open.
        if (v.allowed || v.by == Verdict::By::deny_rule || v.by == Verdict::By::not_new) return;
        std::string stages;
        for (const auto* end : {&c.initiator, &c.responder})
            if (end->kind == Entity::Kind::device)
                stages += (stages.empty() ? "" : ", ") + std::string(to_string(site_.devices[end->index].lifecycle));
        uint32_t days = st.days_seen ? st.days_seen : (day(st.first_seen) == day(st.last_seen) ? 1 : 2);
        std::string first = day(st.first_seen), last = day(st.last_seen);
        std::string evidence = fmt::format("{} connection{} on {} day{}, {}", st.connections,
                                           st.connections == 1 ? "" : "s", days, days == 1 ? "" : "s",
                                           first == last ? first : first + " to " + last);
        auto refuse = [&](BaselineRefusal::Reason r, std::string detail) {
            out.refused.push_back({edge,
                                   {r, k.initiator, k.responder, k.protocol, k.responder_port, book_.name(c.initiator),
                                    book_.name(c.responder), std::move(detail), st.connections}});
        };
        auto is = [&](Entity::Kind kind) { return c.initiator.kind == kind || c.responder.kind == kind; };
        if (!c.expired.empty()) {
            std::string which;
            for (const auto* a : c.expired)
                which += (which.empty() ? "" : "; ") + fmt::format("approval {} expired on {}", a->id, to_string(*a->expires));
            refuse(BaselineRefusal::Reason::approval_expired, which);
        } else if (is(Entity::Kind::host)) {
            refuse(BaselineRefusal::Reason::unknown_peer, evidence);
        } else if (book_.is_internet(c.initiator) || book_.is_internet(c.responder)) {
            refuse(BaselineRefusal::Reason::outside_peer, evidence);
        } else if (auto name = insecure_protocol(k.protocol, k.responder_port, st.applications)) {
            refuse(BaselineRefusal::Reason::insecure, *name + "; " + evidence);
        } else if (!st.established) {
            refuse(BaselineRefusal::Reason::not_answered, evidence);
        } else if (days < min_days && st.connections < min_connections) {
            refuse(BaselineRefusal::Reason::immature,
                   fmt::format("{}; kept after {} days or {} connections", evidence, min_days, min_connections));
        } else {
            // Pinholes of protocols without ports hold the two hosts and the protocol; ICMP's the
            // request type seen (every code of it), or every message when the flow named none (a
            // CSV row).
            uint16_t port = has_ports(k.protocol) ? k.responder_port : 0;
            if (auto m = k.protocol == Protocol::icmp ? icmp_message(k.responder_port) : std::nullopt)
                port = icmp_port(m->type, 0);
            Pinhole h{k.initiator, k.responder, k.protocol, port, book_.name(c.initiator), book_.name(c.responder), {}};
            h.why = Provenance{Provenance::Kind::baseline, h.service(), "observed baseline (" + stages + " stance)",
                               evidence + ", answered", "", {}};
            out.pinholes.push_back({edge, std::move(h)});
        }
    }

private:
    const AddressBook& book_;
    const Site& site_;
    const Evaluator& eval_;
    const std::vector<ClassifiedEdge>& edges_;
    std::array<Stance, 3> stances_;
    std::vector<uint8_t> stage_;
};

template <typename T>
void sort_judged(std::vector<Judged<T>>& v) {
    std::sort(v.begin(), v.end(), judged_before<T>);
}

// Every edge, judged against a policy nothing changes meanwhile: the second half on another
// thread, the two halves joined in order. (A few hundred edges take less than starting a thread.)
Part judge_all(const Judge& judge, size_t n) {
    constexpr size_t kWorthAThread = 256;
    const size_t half = n < kWorthAThread ? n : n / 2;
    Part first, second;
    std::future<void> later;
    if (half < n)
        later = std::async(std::launch::async, [&] {
            for (size_t i = half; i < n; ++i) judge(static_cast<uint32_t>(i), second);
        });
    for (size_t i = 0; i < half; ++i) judge(static_cast<uint32_t>(i), first);
    if (later.valid()) later.get();
    first.unrouted += second.unrouted;
    std::move(second.pinholes.begin(), second.pinholes.end(), std::back_inserter(first.pinholes));
    std::move(second.refused.begin(), second.refused.end(), std::back_inserter(first.refused));
    sort_judged(first.pinholes);
    sort_judged(first.refused);
    return first;
}

void remember_policy(BaselineMemo::State& s, const Policy& before) {
    s.groups.clear();
    s.groups.reserve(before.groups.size());
    for (const auto& g : before.groups) s.groups.push_back({g.name, g.any, g.prefixes});
    s.rules.clear();
    for (const auto& r : before.rules) s.rules.push_back({r.action, r.src, r.dst, r.services, r.trial()});
}

// The same groups (by name, in order) and the same rules between them: an edge's verdict can
// then change only where a group's addresses did.
bool same_rules(const BaselineMemo::State& s, const Policy& before) {
    if (s.groups.size() != before.groups.size() || s.rules.size() != before.rules.size()) return false;
    for (size_t g = 0; g < s.groups.size(); ++g)
        if (s.groups[g].name != before.groups[g].name || s.groups[g].any != before.groups[g].any) return false;
    for (size_t i = 0; i < s.rules.size(); ++i) {
        const Rule& r = before.rules[i];
        if (!(s.rules[i] == BaselineMemo::State::RuleShape{r.action, r.src, r.dst, r.services, r.trial()})) return false;
    }
    return true;
}

// The list itself when it is sorted (as compiled groups are), else a sorted copy in `copy`.
const std::vector<Prefix>& in_order(const std::vector<Prefix>& v, std::vector<Prefix>& copy) {
    if (std::is_sorted(v.begin(), v.end())) return v;
    copy = v;
    std::sort(copy.begin(), copy.end());
    return copy;
}

// Prefixes holding every address whose membership of some group changed (and maybe more);
// `changed`: those groups' indexes.
std::vector<Prefix> changed_prefixes(const BaselineMemo::State& s, const Policy& before, std::vector<size_t>& changed) {
    std::vector<Prefix> out;
    for (size_t g = 0; g < s.groups.size(); ++g) {
        const auto& was = s.groups[g].prefixes;
        const auto& now = before.groups[g].prefixes;
        if (was == now) continue;
        changed.push_back(g);
        std::vector<Prefix> copy_was, copy_now;
        const auto& a = in_order(was, copy_was);
        const auto& b = in_order(now, copy_now);
        std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    }
    return out;
}

std::vector<std::pair<IpAddress, uint32_t>> ends_by_address(const std::vector<ClassifiedEdge>& edges) {
    std::vector<std::pair<IpAddress, uint32_t>> out;
    out.reserve(2 * edges.size());
    for (uint32_t i = 0; i < edges.size(); ++i) {
        out.emplace_back(edges[i].observed.key.initiator, i);
        out.emplace_back(edges[i].observed.key.responder, i);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The edges with an end in one of the prefixes or at one of the addresses, sorted.
std::vector<uint32_t> edges_touching(const BaselineMemo::State& s, const std::vector<Prefix>& prefixes,
                                     const std::vector<IpAddress>& addresses) {
    std::vector<uint32_t> out;
    auto from = [&](const IpAddress& a) {
        return std::lower_bound(s.by_end.begin(), s.by_end.end(), a,
                                [](const std::pair<IpAddress, uint32_t>& e, const IpAddress& x) { return e.first < x; });
    };
    for (const auto& a : addresses)
        for (auto it = from(a); it != s.by_end.end() && it->first == a; ++it) out.push_back(it->second);
    for (const auto& p : prefixes) {
        const IpAddress last = p.last();
        for (auto it = from(p.address); it != s.by_end.end() && it->first <= last; ++it) out.push_back(it->second);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// The kept outcomes of edges not in `again`, with the new outcomes of those that are, in order.
template <typename T>
void replace_judged(std::vector<Judged<T>>& kept, std::vector<Judged<T>> fresh, const std::vector<uint32_t>& again) {
    std::erase_if(kept, [&](const Judged<T>& j) { return std::binary_search(again.begin(), again.end(), j.edge); });
    sort_judged(fresh);
    std::vector<Judged<T>> out;
    out.reserve(kept.size() + fresh.size());
    std::merge(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()),
               std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()), std::back_inserter(out),
               judged_before<T>);
    kept = std::move(out);
}

// The memo's outcomes brought up to date with only the edges an edit can have changed: those
// with an end at an edited device's address or in a group whose addresses changed. False when
// the memo does not describe these edges' parent list, or the rules or stances differ, or the
// edit touches so many edges that judging them all is cheaper.
bool judge_again(BaselineMemo::State& s, const AddressBook& book, const Policy& before,
                 const std::vector<ClassifiedEdge>& edges, const EdgeLineage& lineage, const Date& today,
                 size_t& judged) {
    if (s.list == 0 || lineage.from != s.list || s.edges != edges.size() || s.today != today ||
        s.stances != stances_of(book.site()) || !same_rules(s, before))
        return false;
    std::vector<size_t> changed_groups;
    const std::vector<uint32_t> again = edges_touching(s, changed_prefixes(s, before, changed_groups), lineage.edited);
    if (again.size() > edges.size() / 4) return false;
    std::vector<IpAddress> ends;
    for (uint32_t i : again) {
        ends.push_back(edges[i].observed.key.initiator);
        ends.push_back(edges[i].observed.key.responder);
    }
    std::sort(ends.begin(), ends.end());
    ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
    s.list = 0;  // until it describes these edges again
    const Evaluator eval(before, ends);
    const Judge judge(book, eval, edges);
    Part part;
    for (uint32_t i : again) judge(i, part);
    // Whether an edge is routed depends on its addresses and the segments, which a carried list
    // keeps: the count stands.
    replace_judged(s.pinholes, std::move(part.pinholes), again);
    replace_judged(s.refused, std::move(part.refused), again);
    // The rules and the other groups are what the memo holds already.
    for (size_t g : changed_groups) s.groups[g].prefixes = before.groups[g].prefixes;
    judged = again.size();
    return true;
}

BaselineOutcome outcome_of(const std::vector<Judged<Pinhole>>& pinholes,
                           const std::vector<Judged<BaselineRefusal>>& refused, size_t unrouted) {
    BaselineOutcome out;
    out.unrouted = unrouted;
    for (const auto& j : pinholes)
        if (out.pinholes.empty() || out.pinholes.back().key() != j.item.key()) out.pinholes.push_back(j.item);
    out.refused.reserve(refused.size());
    for (const auto& j : refused) out.refused.push_back(j.item);
    return out;
}

}  // namespace

BaselineOutcome judge_baseline(const AddressBook& book, const Policy& before, const std::vector<ClassifiedEdge>& edges,
                               const EdgeLineage* lineage, const Date& today, BaselineMemo* memo) {
    const bool remember = memo && lineage && lineage->list != 0;
    if (memo && !remember) {
        memo->state.reset();
        memo = nullptr;
    }
    if (memo) {
        memo->reused = false;
        if (memo->state && judge_again(*memo->state, book, before, edges, *lineage, today, memo->judged)) {
            BaselineMemo::State& s = *memo->state;
            s.list = lineage->list;
            memo->reused = true;
            return outcome_of(s.pinholes, s.refused, s.unrouted);
        }
        memo->state.reset();
    }
    const Evaluator eval(before);
    const Judge judge(book, eval, edges);
    Part all = judge_all(judge, edges.size());
    if (!memo) return outcome_of(all.pinholes, all.refused, all.unrouted);
    auto state = std::make_unique<BaselineMemo::State>();
    state->edges = edges.size();
    state->today = today;
    state->stances = stances_of(book.site());
    remember_policy(*state, before);
    state->by_end = ends_by_address(edges);
    state->pinholes = std::move(all.pinholes);
    state->refused = std::move(all.refused);
    state->unrouted = all.unrouted;
    state->list = lineage->list;
    memo->judged = edges.size();
    memo->state = std::move(state);
    return outcome_of(memo->state->pinholes, memo->state->refused, memo->state->unrouted);
}

}  // namespace policy_detail

}  // namespace wardgate
