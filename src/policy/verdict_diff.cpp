// The address space of both policies is cut into atoms: ranges no group prefix (and no
// pinhole host) splits, so every group either holds a whole atom or none of it. The
// verdict of a pair of atoms then depends only on the protocol and port, and the services
// each policy allows for the pair are computed once and subtracted.
#include "wardgate/policy/verdict_diff.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "wardgate/core/sorted_runs.hpp"
#include "wardgate/policy/evaluate.hpp"

namespace wardgate {

namespace {

struct Atom {
    IpAddress first, last;
    bool host() const { return first == last; }
};

std::vector<PortRange> subtract_ports(const std::vector<PortRange>& from, const std::vector<PortRange>& remove) {
    std::vector<PortRange> out;
    for (auto r : from) {
        uint32_t lo = r.first;
        for (const auto& x : remove) {
            if (x.last < lo || x.first > r.last) continue;
            if (x.first > lo) out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(x.first - 1)});
            lo = static_cast<uint32_t>(x.last) + 1;
            if (lo > r.last) break;
        }
        if (lo <= r.last) out.push_back({static_cast<uint16_t>(lo), r.last});
    }
    return out;
}

// What one policy lets through between two atoms, per protocol: port ranges for protocols
// with ports, [0, 65535] for a protocol without ports, and for ICMP and ICMPv6 (kept apart,
// under 1 and 58) ranges of type << 8 | code.
struct ServiceSet {
    static constexpr int kIcmp6 = 58;
    std::map<int, std::vector<PortRange>> by;
    bool rest = false;  // every protocol absent from `by` is let through whole

    static std::vector<PortRange> full() { return {{0, 65535}}; }
    void put(int key, std::vector<PortRange> ranges) {
        auto [it, fresh] = by.try_emplace(key);
        auto& v = it->second;
        if (fresh && rest) v = full();  // a protocol `rest` already holds whole stays whole
        v.insert(v.end(), ranges.begin(), ranges.end());
        v = normalize_ports(std::move(v));
    }
    void add(const Service& s) {
        const int p = static_cast<int>(s.protocol);
        if (s.protocol == Protocol::icmp) {
            if (s.icmp_types.empty()) {
                put(p, full());
                put(kIcmp6, full());
            }
            for (const auto& t : s.icmp_types) {
                // A reply or error never starts a connection: allowing or denying it changes no verdict.
                if (!icmp_starts_connection(t.family, t.type)) continue;
                uint16_t lo = static_cast<uint16_t>(t.type << 8 | (t.code < 0 ? 0 : t.code));
                uint16_t hi = static_cast<uint16_t>(t.type << 8 | (t.code < 0 ? 255 : t.code));
                put(t.family == Family::v4 ? p : kIcmp6, {{lo, hi}});
            }
            return;
        }
        put(p, has_ports(s.protocol) && !s.ports.empty() ? s.ports : full());
    }
    void add_all(const std::vector<Service>& services) {
        if (services.empty()) {
            rest = true;
            for (auto& [key, ranges] : by) ranges = full();
            return;
        }
        for (const auto& s : services) add(s);
    }
    std::vector<PortRange> of(int key) const {
        auto it = by.find(key);
        return it != by.end() ? it->second : rest ? full() : std::vector<PortRange>{};
    }
    ServiceSet minus(const ServiceSet& o) const {
        ServiceSet out;
        if (o.rest) {  // o takes every protocol it does not list whole: only what it lists can remain
            for (const auto& [key, ranges] : o.by) out.by[key] = subtract_ports(of(key), ranges);
            return out;
        }
        out.rest = rest;
        for (const auto& [key, ranges] : by) out.by[key] = subtract_ports(ranges, o.of(key));
        if (rest)  // protocols this set holds whole without listing them
            for (const auto& [key, ranges] : o.by)
                if (!by.count(key)) out.by[key] = subtract_ports(full(), ranges);
        return out;
    }
    bool empty() const {
        return !rest && std::all_of(by.begin(), by.end(), [](const auto& e) { return e.second.empty(); });
    }
    std::vector<Service> services() const {
        std::vector<Service> out;
        std::vector<int> keys;  // in protocol order, ICMPv6's ranges under ICMP's
        if (rest) {
            for (int key = 1; key < 255; ++key) keys.push_back(key);
        } else {
            for (const auto& [key, ranges] : by)
                if (!ranges.empty()) keys.push_back(key == kIcmp6 ? 1 : key);
            std::sort(keys.begin(), keys.end());
            keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        }
        for (int key : keys) {
            auto p = protocol_from_number(static_cast<unsigned>(key));
            if (!p || key == kIcmp6) continue;
            if (*p == Protocol::icmp) {
                auto v4 = of(key), v6 = of(kIcmp6);
                if (v4.empty() && v6.empty()) continue;
                Service icmp{Protocol::icmp, {}, {}};
                if (v4 == full() && v6 == full()) {
                    out.push_back(icmp);
                    continue;
                }
                for (Family f : {Family::v4, Family::v6})
                    for (const auto& r : f == Family::v4 ? v4 : v6)
                        for (unsigned t = r.first >> 8; t <= unsigned(r.last >> 8); ++t) {
                            unsigned lo = std::max<unsigned>(r.first, t << 8), hi = std::min<unsigned>(r.last, t << 8 | 255);
                            if (lo == t << 8 && hi == (t << 8 | 255)) {
                                icmp.icmp_types.push_back({f, static_cast<uint8_t>(t), -1});
                                continue;
                            }
                            for (unsigned c = lo; c <= hi; ++c)
                                icmp.icmp_types.push_back({f, static_cast<uint8_t>(t), static_cast<int16_t>(c & 0xff)});
                        }
                std::sort(icmp.icmp_types.begin(), icmp.icmp_types.end());
                out.push_back(std::move(icmp));
                continue;
            }
            auto ranges = of(key);
            if (ranges.empty()) continue;
            Service svc{*p, {}, {}};
            if (has_ports(*p) && ranges != full()) svc.ports = ranges;
            out.push_back(std::move(svc));
        }
        return out;
    }
};

class Side {
public:
    explicit Side(const Policy& p) : p_(p) {
        for (const auto& h : p.pinholes) pinholes_.emplace(std::make_pair(h.src, h.dst), h.service());
    }
    // Indexes only the group prefixes holding the atoms about to be asked for (sorted) when that
    // costs less than indexing them all: an edit that moved a device or two asks for few.
    void focus(const std::vector<IpAddress>& atoms) { eval_.emplace(Evaluator::for_addresses(p_, atoms)); }

    // Atoms in the same groups get the same verdict from the rules: an edit that gives a device
    // a path to thousands of others evaluates the rules once per kind of destination.
    ServiceSet allowed(const Atom& src, const Atom& dst) {
        auto key = std::make_pair(eval_->groups_of(src.first), eval_->groups_of(dst.first));
        auto it = by_groups_.find(key);
        if (it == by_groups_.end()) {
            const auto& [sg, dg] = key;
            auto in = [](const std::vector<uint32_t>& v, size_t g) { return std::binary_search(v.begin(), v.end(), g); };
            Verdicts v;
            for (const auto& r : p_.rules) {
                if (!in(sg, r.src) || !in(dg, r.dst)) continue;
                (r.action == Rule::Action::deny ? v.deny : v.allow).add_all(r.services);
                if (!v.first_allow && r.action == Rule::Action::allow) v.first_allow = &r;
            }
            v.allowed = v.allow.minus(v.deny);
            it = by_groups_.emplace(std::move(key), std::move(v)).first;
        }
        const Verdicts& v = it->second;
        if (!src.host() || !dst.host()) return v.allowed;
        auto [first, last] = pinholes_.equal_range({src.first, dst.first});
        if (first == last) return v.allowed;
        ServiceSet allow = v.allow;
        for (auto h = first; h != last; ++h) allow.add(h->second);
        return allow.minus(v.deny);
    }
    // The first allow rule of this policy that touches the pair.
    const Rule* first_rule(const Atom& src, const Atom& dst) {
        auto sg = eval_->groups_of(src.first), dg = eval_->groups_of(dst.first);
        auto it = by_groups_.find({sg, dg});
        if (it != by_groups_.end()) return it->second.first_allow;
        auto in = [](const std::vector<uint32_t>& v, size_t g) { return std::binary_search(v.begin(), v.end(), g); };
        for (const auto& r : p_.rules)
            if (r.action == Rule::Action::allow && in(sg, r.src) && in(dg, r.dst)) return &r;
        return nullptr;
    }
    const Policy& policy() const { return p_; }

private:
    struct Verdicts {
        ServiceSet allow, deny, allowed;
        const Rule* first_allow = nullptr;
    };
    const Policy& p_;
    std::optional<Evaluator> eval_;
    std::multimap<std::pair<IpAddress, IpAddress>, Service> pinholes_;
    std::map<std::pair<std::vector<uint32_t>, std::vector<uint32_t>>, Verdicts> by_groups_;
};

// An address of one family as one number, most significant byte first: a few hundred thousand
// cuts sort several times faster than as IpAddress.
using Word = unsigned __int128;
Word word_of(const IpAddress& a) { return Word(a.high_word()) << 64 | a.low_word(); }
IpAddress address_of(Family f, Word w) {
    IpAddress a{f, {}};
    const uint64_t words[2] = {__builtin_bswap64(static_cast<uint64_t>(w >> 64)), __builtin_bswap64(static_cast<uint64_t>(w))};
    std::memcpy(a.bytes.data(), words, sizeof words);
    return a;
}

std::vector<Atom> atoms_of(Family f, const std::vector<const Policy*>& policies, const std::vector<IpAddress>& named) {
    // IPv4 addresses sit in the first four bytes: their last address has the other twelve zero.
    const Word top = f == Family::v4 ? Word(0xFFFFFFFFu) << 96 : ~Word(0);
    const Word step = f == Family::v4 ? Word(1) << 96 : Word(1);
    // A few hundred thousand cuts on a large site. A group's prefixes are sorted and disjoint, so
    // its cuts (each prefix's first address, then the one after its last) come in order: one
    // sorted run per group, merged run by run.
    std::vector<Word> cuts{0};
    std::vector<size_t> runs{0};
    auto cut_around = [&](Word first, Word last) {
        cuts.push_back(first);
        if (last != top) cuts.push_back(last + step);
    };
    auto end_run = [&] {
        if (cuts.size() > runs.back()) runs.push_back(cuts.size());
    };
    auto sorted_run = [&] {
        std::sort(cuts.begin() + static_cast<long>(runs.back()), cuts.end());
        end_run();
    };
    end_run();
    for (const Policy* p : policies) {
        for (const auto& g : p->groups) {
            for (const auto& pr : g.prefixes)
                if (pr.family() == f) cut_around(word_of(pr.address), word_of(pr.last()));
            end_run();
        }
        for (const auto& h : p->pinholes)
            for (const auto& a : {h.src, h.dst})
                if (a.family == f) cut_around(word_of(a), word_of(a));
        sorted_run();
    }
    for (const auto& a : named)
        if (a.family == f) cut_around(word_of(a), word_of(a));
    sorted_run();
    bool in_order = true;  // a group built in code may hold unsorted prefixes: then sort it all
    for (size_t r = 0; r + 1 < runs.size() && in_order; ++r)
        in_order = std::is_sorted(cuts.begin() + static_cast<long>(runs[r]), cuts.begin() + static_cast<long>(runs[r + 1]));
    if (in_order) {
        merge_sorted_runs(cuts, std::move(runs), std::less<Word>());
    } else {
        std::sort(cuts.begin(), cuts.end());
    }
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<Atom> out;
    out.reserve(cuts.size());
    for (size_t i = 0; i + 1 < cuts.size(); ++i) out.push_back({address_of(f, cuts[i]), address_of(f, cuts[i + 1] - step)});
    out.push_back({address_of(f, cuts.back()), address_of(f, top)});  // cuts holds 0 at least
    return out;
}

// Atoms a group holds (all of them for a group without an address test), in order. The atoms
// are cut at every prefix's ends, so a prefix holds a run of whole atoms.
std::vector<size_t> atoms_in(const AddressGroup& g, const std::vector<Atom>& atoms) {
    std::vector<size_t> out;
    if (g.any) {
        out.resize(atoms.size());
        for (size_t i = 0; i < atoms.size(); ++i) out[i] = i;
        return out;
    }
    if (atoms.empty()) return out;
    const Family f = atoms.front().first.family;
    for (const auto& pr : g.prefixes) {
        if (pr.family() != f) continue;
        const IpAddress last = pr.last();
        auto it = std::lower_bound(atoms.begin(), atoms.end(), pr.address, [](const Atom& x, const IpAddress& v) { return x.first < v; });
        for (; it != atoms.end() && !(last < it->first); ++it) out.push_back(static_cast<size_t>(it - atoms.begin()));
    }
    return out;
}

// The groups of both policies numbered by the addresses they hold: two groups with one number
// hold the same addresses, whatever their names.
class GroupContents {
public:
    GroupContents(const Policy& before, const Policy& after) : ids_{number(before), number(after)} {}
    size_t id(int side, size_t group) const { return ids_[side][group]; }

private:
    static uint64_t hash(const AddressGroup& g) {
        uint64_t h = g.any ? 0x51ED27 : 0x2545F491;
        for (const auto& pr : g.prefixes) {
            h = (h ^ pr.address.high_word()) * 0x9E3779B97F4A7C15ULL;
            h = (h ^ (pr.address.low_word() + (uint64_t(pr.length) << 1 | (pr.family() == Family::v6)))) * 0xC2B2AE3D27D4EB4FULL;
            h ^= h >> 29;
        }
        return h;
    }
    std::vector<size_t> number(const Policy& p) {
        std::vector<size_t> ids;
        ids.reserve(p.groups.size());
        for (const auto& g : p.groups) {
            auto& same_hash = seen_[hash(g)];
            auto it = std::find_if(same_hash.begin(), same_hash.end(), [&](const auto& e) {
                return e.first->any == g.any && e.first->prefixes == g.prefixes;
            });
            if (it == same_hash.end()) it = same_hash.insert(same_hash.end(), {&g, count_++});
            ids.push_back(it->second);
        }
        return ids;
    }
    std::map<uint64_t, std::vector<std::pair<const AddressGroup*, size_t>>> seen_;
    size_t count_ = 0;
    std::vector<size_t> ids_[2];
};

class Differ {
public:
    Differ(const Policy& before, const Policy& after, const std::vector<IpAddress>& named,
           const std::function<std::string(const IpAddress&)>& name)
        : old_(before), new_(after), named_(named), name_(name), contents_(before, after) {}

    VerdictDiff run() {
        for (int side : {0, 1})
            for (const auto& r : (side == 0 ? old_ : new_).policy().rules) rule_keys_[side].insert(rule_key(side, r));
        for (Family f : {Family::v4, Family::v6}) family(f);
        VerdictDiff d;
        d.newly_allowed = summarise(allowed_);
        d.newly_denied = summarise(denied_);
        return d;
    }

private:
    using Key = std::pair<std::string, std::string>;  // src name, dst name

    // A rule as the traffic it matches: equal keys in both policies match the same packets.
    std::string rule_key(int side, const Rule& r) const {
        std::string key = r.action == Rule::Action::deny ? "deny|" : "allow|";
        key += std::to_string(contents_.id(side, r.src)) + "|" + std::to_string(contents_.id(side, r.dst)) + "|";
        for (const auto& s : r.services) key += s.to_string() + ";";
        return key;
    }

    static std::string pinhole_key(const Pinhole& h) {
        return h.src.to_string() + ">" + h.dst.to_string() + "/" + std::to_string(static_cast<int>(h.protocol)) + "/" +
               std::to_string(h.port);
    }

    // The same rule across an edit: its action, services and the names of its groups. A rule
    // whose group gained or lost a device keeps its identity while its key changes.
    static std::string rule_identity(const Policy& p, const Rule& r) {
        std::string id = r.action == Rule::Action::deny ? "deny|" : "allow|";
        id += p.groups[r.src].name + "|" + p.groups[r.dst].name + "|";
        for (const auto& s : r.services) id += s.to_string() + ";";
        return id;
    }

    static std::vector<size_t> symmetric_difference(const std::vector<size_t>& a, const std::vector<size_t>& b) {
        std::vector<size_t> out;
        std::set_symmetric_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
        return out;
    }
    static std::vector<size_t> set_union(const std::vector<size_t>& a, const std::vector<size_t>& b) {
        std::vector<size_t> out;
        std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
        return out;
    }

    using Pairs = std::set<std::pair<size_t, size_t>>;
    static void add_products(Pairs& pairs, const std::vector<size_t>& src, const std::vector<size_t>& dst) {
        for (size_t s : src)
            for (size_t d : dst) pairs.insert({s, d});
    }

    // Only traffic that a rule or pinhole present in one policy but not the other matches can
    // change its verdict: the pairs of atoms those cover are the candidates. A rule whose
    // groups changed but which both policies hold under one identity (old groups A x B, new
    // A' x B') contributes only the pairs one product holds and the other does not, all inside
    // (A ^ A') x (B | B') and (A | A') x (B ^ B'): a device added to a group of thousands
    // costs a row and a column, not the whole square.
    void family(Family f) {
        auto atoms = atoms_of(f, {&old_.policy(), &new_.policy()}, named_);
        std::multiset<std::string> old_pins, new_pins;
        for (const auto& h : old_.policy().pinholes) old_pins.insert(pinhole_key(h));
        for (const auto& h : new_.policy().pinholes) new_pins.insert(pinhole_key(h));
        // identity -> the rules of each side whose key the other side lacks
        std::map<std::string, std::pair<std::vector<const Rule*>, std::vector<const Rule*>>> changed;
        Pairs pairs;
        for (const Side* side : {&old_, &new_}) {
            const Policy& p = side->policy();
            const int index = side == &old_ ? 0 : 1;
            const auto& other_rules = rule_keys_[1 - index];
            const auto& other_pins = side == &old_ ? new_pins : old_pins;
            for (const auto& r : p.rules) {
                if (other_rules.count(rule_key(index, r))) continue;
                auto& slot = changed[rule_identity(p, r)];
                (side == &old_ ? slot.first : slot.second).push_back(&r);
            }
            for (const auto& h : p.pinholes) {
                if (h.src.family != f || other_pins.count(pinhole_key(h))) continue;
                pairs.insert({index_of(atoms, h.src), index_of(atoms, h.dst)});
            }
        }
        for (const auto& [id, rules] : changed) {
            const auto& [before, after] = rules;
            if (before.size() == 1 && after.size() == 1) {
                const Policy &po = old_.policy(), &pn = new_.policy();
                auto src_old = atoms_in(po.groups[before[0]->src], atoms), src_new = atoms_in(pn.groups[after[0]->src], atoms);
                auto dst_old = atoms_in(po.groups[before[0]->dst], atoms), dst_new = atoms_in(pn.groups[after[0]->dst], atoms);
                add_products(pairs, symmetric_difference(src_old, src_new), set_union(dst_old, dst_new));
                add_products(pairs, set_union(src_old, src_new), symmetric_difference(dst_old, dst_new));
                continue;
            }
            for (const Rule* r : before) add_products(pairs, atoms_in(old_.policy().groups[r->src], atoms), atoms_in(old_.policy().groups[r->dst], atoms));
            for (const Rule* r : after) add_products(pairs, atoms_in(new_.policy().groups[r->src], atoms), atoms_in(new_.policy().groups[r->dst], atoms));
        }
        std::vector<IpAddress> asked;
        for (auto [s, d] : pairs) asked.insert(asked.end(), {atoms[s].first, atoms[d].first});
        std::sort(asked.begin(), asked.end());
        asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
        old_.focus(asked);
        new_.focus(asked);
        for (auto [s, d] : pairs) {
            auto before = old_.allowed(atoms[s], atoms[d]), after = new_.allowed(atoms[s], atoms[d]);
            if (auto more = after.minus(before); !more.empty())
                add(allowed_, label(atoms[s], new_, atoms[s], atoms[d], true), label(atoms[d], new_, atoms[s], atoms[d], false), more);
            if (auto less = before.minus(after); !less.empty())
                add(denied_, label(atoms[s], old_, atoms[s], atoms[d], true), label(atoms[d], old_, atoms[s], atoms[d], false), less);
        }
    }

    static size_t index_of(const std::vector<Atom>& atoms, const IpAddress& a) {
        auto it = std::upper_bound(atoms.begin(), atoms.end(), a, [](const IpAddress& v, const Atom& x) { return v < x.first; });
        return static_cast<size_t>(std::prev(it) - atoms.begin());
    }

    // A single address by its name; a range by the label of the group the deciding rule uses.
    std::string label(const Atom& a, Side& side, const Atom& src, const Atom& dst, bool is_src) {
        if (a.host()) return name_(a.first);
        if (const Rule* r = side.first_rule(src, dst)) return side.policy().groups[is_src ? r->src : r->dst].label;
        return a.first.to_string() + " - " + a.last.to_string();
    }

    static void add(std::map<Key, ServiceSet>& into, const std::string& src, const std::string& dst, const ServiceSet& s) {
        auto& slot = into[{src, dst}];
        for (const auto& svc : s.services()) slot.add(svc);
    }

    static std::string services_key(const std::vector<Service>& services) {
        std::string key;
        for (const auto& s : services) key += s.to_string() + " ";
        return key;
    }

    // Sources that share a destination and services, then destinations that share the same
    // sources and services: "ws-01 -> pump-01, pump-02 tcp/8081" rather than a line per pair.
    static std::vector<VerdictRegion> summarise(const std::map<Key, ServiceSet>& by_pair) {
        std::map<std::pair<std::string, std::string>, VerdictRegion> by_dst;
        for (const auto& [key, set] : by_pair) {
            auto services = set.services();
            auto& r = by_dst[{key.second, services_key(services)}];
            r.dst = {key.second};
            r.services = services;
            r.src.push_back(key.first);
        }
        std::map<std::pair<std::vector<std::string>, std::string>, VerdictRegion> by_src;
        for (auto& [k, r] : by_dst) {
            auto& m = by_src[{r.src, k.second}];
            if (m.src.empty()) {
                m = std::move(r);
                continue;
            }
            m.dst.push_back(r.dst.front());
        }
        std::vector<VerdictRegion> out;
        for (auto& [k, r] : by_src) out.push_back(std::move(r));
        return out;
    }

    Side old_, new_;
    const std::vector<IpAddress>& named_;
    const std::function<std::string(const IpAddress&)>& name_;
    GroupContents contents_;
    std::multiset<std::string> rule_keys_[2];
    std::map<Key, ServiceSet> allowed_, denied_;
};

}  // namespace

VerdictDiff diff_verdicts(const Policy& before, const Policy& after, const std::vector<IpAddress>& named,
                          const std::function<std::string(const IpAddress&)>& host_name) {
    return Differ(before, after, named, host_name).run();
}

}  // namespace wardgate
