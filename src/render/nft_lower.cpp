// Policy IR -> nftables objects. Rule count follows the number of distinct needs;
// devices only add set elements.
#include <fmt/format.h>
#include <netinet/in.h>

#include <set>

#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::nft {

namespace {

constexpr size_t kCommentMax = 127;  // nftables keeps at most 128 bytes of a comment
constexpr size_t kLogPrefixMax = 63;
constexpr const char* kOutside = "outside";

std::string family_tag(Family f) { return f == Family::v4 ? "v4" : "v6"; }
KeyType addr_key(Family f) { return f == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr; }
uint8_t icmp_proto(Family f) { return f == Family::v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6; }

std::string clip(std::string text, size_t max) {
    for (auto& c : text)
        if (c == '"' || c == '\n' || c == '\\') c = '\'';
    if (text.size() > max) text = text.substr(0, max - 3) + "...";
    return text;
}

std::string rule_comment(const wardgate::Rule& r) {
    std::set<std::string> kinds;
    std::string first;
    for (const auto& w : r.why) {
        kinds.insert(std::string(to_string(w.kind)));
        if (first.empty()) first = w.source + (w.detail.empty() ? "" : ": " + w.detail);
    }
    std::string k;
    for (const auto& x : kinds) k += (k.empty() ? "" : "+") + x;
    if (r.why.size() > 1) first += fmt::format(" (+{} more)", r.why.size() - 1);
    return clip(k + " - " + first, kCommentMax);
}

ElementPart prefix_part(const Prefix& p) { return {ElementPart::Kind::prefix, p, 0}; }

class Lowering {
public:
    explicit Lowering(const Policy& p) : p_(p) {}

    Ruleset run() {
        Ruleset out;
        out.header = {"wardgate policy for " + p_.site,
                      "Generated: replaces table inet wardgate in one transaction and touches no other table."};
        Chain forward{"forward", true, {}};
        forward.rules.push_back(ct_rule({"established", "related"}, Verdict::Kind::accept, false));
        if (p_.mode == EnforcementMode::enforce)
            forward.rules.push_back(ct_rule({"invalid"}, Verdict::Kind::drop, true));
        for (const auto& r : p_.rules) policy_rule(r, forward.rules);
        baseline(forward.rules);
        for (const auto& [index, f] : used_sets_) out.sets.push_back(address_set(p_.groups[index], f));
        out.sets.insert(out.sets.end(), baseline_sets_.begin(), baseline_sets_.end());
        default_deny(out, forward.rules);
        for (const auto& s : p_.segments) out.chains.push_back(drop_chain(s.name, p_.monitor(s)));
        out.chains.push_back(drop_chain(kOutside, p_.mode == EnforcementMode::monitor));
        out.chains.push_back(std::move(forward));
        return out;
    }

private:
    static Rule ct_rule(std::vector<std::string> states, Verdict::Kind v, bool counter) {
        Rule r;
        Match m;
        m.kind = Match::Kind::ct_state;
        m.states = std::move(states);
        r.matches.push_back(m);
        r.counter = counter;
        r.verdict.kind = v;
        return r;
    }

    std::optional<Log> log(const std::string& what) const {
        if (!p_.log_drops) return std::nullopt;
        return Log{clip("wardgate " + what, kLogPrefixMax - 2) + ": ", p_.log_group};
    }

    void address_match(std::vector<Match>& ms, const AddressGroup& g, Family f, AddrDir dir) {
        if (g.any) return;
        used_sets_.insert({static_cast<size_t>(&g - p_.groups.data()), f});
        Match m;
        m.kind = Match::Kind::address_set;
        m.family = f;
        m.dir = dir;
        m.set = nft_group_set(g, f);
        ms.push_back(m);
    }

    // One match list per service: a rule per protocol keeps each rule a plain lookup.
    static std::vector<std::vector<Match>> service_matches(const std::vector<Service>& services, Family f) {
        std::vector<std::vector<Match>> out;
        if (services.empty()) out.push_back({});
        for (const auto& s : services) {
            Match m;
            m.family = f;
            if (s.protocol == Protocol::icmp) {
                m.kind = Match::Kind::l4proto;
                m.l4proto = icmp_proto(f);
            } else {
                m.kind = s.ports.empty() ? Match::Kind::l4proto : Match::Kind::dport;
                m.l4proto = static_cast<uint8_t>(s.protocol);
                m.ports = s.ports;
            }
            out.push_back({m});
        }
        return out;
    }

    void policy_rule(const wardgate::Rule& r, std::vector<Rule>& out) {
        const auto& src = p_.groups[r.src];
        const auto& dst = p_.groups[r.dst];
        Rule base;
        base.counter = true;
        base.comment = rule_comment(r);
        if (r.action == wardgate::Rule::Action::deny) {
            bool monitor = p_.mode == EnforcementMode::monitor;
            std::string id = r.why.empty() ? "deny" : r.why.front().source;
            base.log = log(clip(id, 40) + (monitor ? " (monitor)" : ""));
            base.verdict.kind = monitor ? Verdict::Kind::accept : Verdict::Kind::drop;
        } else {
            base.verdict.kind = Verdict::Kind::accept;
        }
        if (src.any && dst.any) {
            for (auto& svc : service_matches(r.services, Family::v4)) {
                if (!svc.empty() && svc[0].l4proto == IPPROTO_ICMP) continue;  // ICMP needs a family
                Rule rule = base;
                rule.matches = svc;
                out.push_back(rule);
            }
            return;
        }
        for (Family f : {Family::v4, Family::v6}) {
            if (!src.has(f) || !dst.has(f)) continue;
            std::vector<Match> addrs;
            if (src.any || dst.any) {
                Match nf;
                nf.kind = Match::Kind::nfproto;
                nf.family = f;
                addrs.push_back(nf);
            }
            address_match(addrs, src, f, AddrDir::saddr);
            address_match(addrs, dst, f, AddrDir::daddr);
            for (auto& svc : service_matches(r.services, f)) {
                Rule rule = base;
                rule.matches = addrs;
                rule.matches.insert(rule.matches.end(), svc.begin(), svc.end());
                out.push_back(rule);
            }
        }
    }

    Set address_set(const AddressGroup& g, Family f) const {
        Set s{nft_group_set(g, f), {addr_key(f)}, false, false, clip(g.label, kCommentMax), {}};
        for (const auto& pr : g.prefixes) {
            if (pr.family() != f) continue;
            s.interval = s.interval || !pr.is_host();
            s.elements.push_back({{prefix_part(pr)}, {}});
        }
        return s;
    }

    void baseline(std::vector<Rule>& out) {
        for (Family f : {Family::v4, Family::v6}) {
            Set ports{"baseline_" + family_tag(f),
                      {addr_key(f), addr_key(f), KeyType::inet_proto, KeyType::inet_service},
                      false, false, "observed baseline kept by the life-cycle stance", {}};
            Set icmp{"baseline_icmp_" + family_tag(f), {addr_key(f), addr_key(f)}, false, false,
                     "observed ICMP baseline kept by the life-cycle stance", {}};
            for (const auto& h : p_.pinholes) {
                if (h.src.family != f) continue;
                if (h.protocol == Protocol::icmp) {
                    icmp.elements.push_back({{prefix_part(Prefix::host(h.src)), prefix_part(Prefix::host(h.dst))}, {}});
                } else {
                    ports.elements.push_back({{prefix_part(Prefix::host(h.src)), prefix_part(Prefix::host(h.dst)),
                                               {ElementPart::Kind::protocol, {}, static_cast<uint8_t>(h.protocol)},
                                               {ElementPart::Kind::port, {}, h.port}},
                                              {}});
                }
            }
            if (!ports.elements.empty()) {
                Rule r;
                r.concat = ConcatLookup{f, true, ports.name};
                r.counter = true;
                r.verdict.kind = Verdict::Kind::accept;
                out.push_back(r);
                baseline_sets_.push_back(std::move(ports));
            }
            if (!icmp.elements.empty()) {
                Rule r;
                Match m;
                m.kind = Match::Kind::l4proto;
                m.family = f;
                m.l4proto = icmp_proto(f);
                r.matches.push_back(m);
                r.concat = ConcatLookup{f, false, icmp.name};
                r.counter = true;
                r.verdict.kind = Verdict::Kind::accept;
                out.push_back(r);
                baseline_sets_.push_back(std::move(icmp));
            }
        }
    }

    // Whatever is left is dropped (or, in monitor mode, accepted) by the chain of the
    // source segment, else of the destination segment, else the outside chain; each logs
    // with a prefix naming its segment.
    void default_deny(Ruleset& out, std::vector<Rule>& rules) const {
        for (AddrDir dir : {AddrDir::saddr, AddrDir::daddr}) {
            for (Family f : {Family::v4, Family::v6}) {
                Set map{fmt::format("segment_by_{}_{}", dir == AddrDir::saddr ? "src" : "dst", family_tag(f)),
                        {addr_key(f)}, true, true, "default deny: the segment whose chain logs and drops", {}};
                for (const auto& s : p_.segments)
                    for (const auto& pr : s.subnets)
                        if (pr.family() == f) map.elements.push_back({{prefix_part(pr)}, nft_drop_chain(s.name)});
                if (map.elements.empty()) continue;
                Rule r;
                r.vmap = VerdictMapLookup{f, dir, map.name};
                rules.push_back(r);
                out.sets.push_back(std::move(map));
            }
        }
        Rule last;
        last.verdict = {Verdict::Kind::jump, nft_drop_chain(kOutside)};
        rules.push_back(last);
    }

    Chain drop_chain(const std::string& segment, bool monitor) const {
        Chain c{nft_drop_chain(segment), false, {}};
        if (p_.log_drops) {
            Rule log_rule;
            log_rule.log = Log{nft_log_prefix(segment, monitor), p_.log_group};
            c.rules.push_back(log_rule);
        }
        Rule verdict;
        verdict.counter = true;
        verdict.verdict.kind = monitor ? Verdict::Kind::accept : Verdict::Kind::drop;
        c.rules.push_back(verdict);
        return c;
    }

    const Policy& p_;
    std::set<std::pair<size_t, Family>> used_sets_;
    std::vector<Set> baseline_sets_;
};

}  // namespace

Ruleset lower_policy(const Policy& policy) { return Lowering(policy).run(); }

}  // namespace wardgate::nft
