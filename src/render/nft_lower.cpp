// Policy IR -> nftables objects. Rule count follows the number of distinct needs;
// devices only add set elements.
//
// Every accept goes through the chain "accepted", which sends the packet on to the
// counting chain of its source segment, else its destination segment, else "outside";
// the drop chains count the default deny the same way. So per-segment counters cost one
// map lookup per accepted packet and no rules per device.
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>

#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "nft_dns_sets.hpp"

namespace wardgate::nft {

namespace {

constexpr size_t kCommentMax = 127;  // nftables keeps at most 128 bytes of a comment
constexpr size_t kLogPrefixMax = 63;
constexpr const char* kOutside = kNftOutsideSegment;
constexpr const char* kAccepted = "accepted";

std::string family_tag(Family f) { return f == Family::v4 ? "v4" : "v6"; }
KeyType addr_key(Family f) { return f == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr; }
uint8_t icmp_proto(Family f) { return static_cast<uint8_t>(f == Family::v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6}); }

std::string clip(std::string text, size_t max) {
    for (auto& c : text)
        if (c == '"' || c == '\n' || c == '\\') c = '\'';
    if (text.size() > max) {
        text.resize(max - 3);
        text += "...";
    }
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
        forward.rules.push_back(ct_rule({"established", "related"}, accepted(), false));
        // Packets conntrack cannot place in a connection are dropped in every mode: monitor
        // mode is about the default deny of new flows, not about malformed traffic.
        forward.rules.push_back(ct_rule({"invalid"}, {Verdict::Kind::drop, {}}, true));
        for (const auto& r : p_.rules) policy_rule(r, forward.rules);
        baseline(forward.rules);
        for (const auto& [index, f] : used_sets_) out.sets.push_back(address_set(p_.groups[index], f));
        dns_sets_.emit(out.sets);
        out.sets.insert(out.sets.end(), baseline_sets_.begin(), baseline_sets_.end());
        monitored_sets(out);
        Chain accepted_chain{kAccepted, false, {}};
        by_segment(out, accepted_chain.rules, "accept_by", "accepted: the segment whose chain counts it", nft_accept_chain);
        by_segment(out, forward.rules, "segment_by", "default deny: the segment whose chain logs and drops", nft_drop_chain);
        for (const auto& s : p_.segments) out.chains.push_back(accept_chain(s.name));
        out.chains.push_back(accept_chain(kOutside));
        out.chains.push_back(std::move(accepted_chain));
        for (const auto& s : p_.segments) out.chains.push_back(drop_chain(s.name, p_.monitor(s)));
        out.chains.push_back(drop_chain(kOutside, p_.mode == EnforcementMode::monitor));
        out.chains.push_back(std::move(forward));
        return out;
    }

private:
    static Verdict accepted() { return {Verdict::Kind::jump, kAccepted}; }

    static Rule ct_rule(std::vector<std::string> states, Verdict v, bool counter) {
        Rule r;
        Match m;
        m.kind = Match::Kind::ct_state;
        m.states = std::move(states);
        r.matches.push_back(m);
        r.counter = counter;
        r.verdict = std::move(v);
        return r;
    }

    std::optional<Log> log(const std::string& what) const {
        if (!p_.log_drops) return std::nullopt;
        return Log{clip("wardgate " + what, kLogPrefixMax - 2) + ": ", p_.log_group};
    }

    // The sets holding a group's addresses of family f ("" for any: no address test).
    std::vector<std::string> address_sets(const AddressGroup& g, Family f) {
        if (g.any) return {""};
        std::vector<std::string> out;
        if (g.dns.empty() || std::any_of(g.fixed.begin(), g.fixed.end(), [&](const Prefix& p) { return p.family() == f; })) {
            used_sets_.insert({static_cast<size_t>(&g - p_.groups.data()), f});
            out.push_back(nft_group_set(g, f));
        }
        for (const auto& b : g.dns)
            if (auto set = dns_sets_.use(b, f)) out.push_back(*set);
        return out;
    }

    static void set_match(std::vector<Match>& ms, const std::string& set, Family f, AddrDir dir) {
        if (set.empty()) return;
        Match m;
        m.kind = Match::Kind::address_set;
        m.family = f;
        m.dir = dir;
        m.set = set;
        ms.push_back(m);
    }

    // One match list per service: a rule per protocol keeps each rule a plain lookup. ICMP
    // services naming messages get a rule per message of family f (none when f has none).
    static std::vector<std::vector<Match>> service_matches(const std::vector<Service>& services, Family f) {
        std::vector<std::vector<Match>> out;
        if (services.empty()) out.push_back({});
        for (const auto& s : services) {
            Match m;
            m.family = f;
            if (s.protocol == Protocol::icmp && !s.icmp_types.empty()) {
                m.kind = Match::Kind::icmp_type;
                for (const auto& t : s.icmp_types) {
                    if (t.family != f) continue;
                    m.icmp_type = t.type;
                    m.icmp_code = t.code;
                    out.push_back({m});
                }
                continue;
            }
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
        std::string id = r.why.empty() ? "rule" : r.why.front().source;
        if (auto by = id.find(" by "); by != std::string::npos) id.resize(by);  // "approval X by Y"
        if (r.action == wardgate::Rule::Action::deny && r.trial()) {
            // A deny on trial logs what it would drop, whatever log_drops says (that is what it
            // is for), and the packet goes on to the rules after it.
            base.log = Log{"wardgate " + clip(id, 40) + " (monitor): ", p_.log_group};
        } else if (r.action == wardgate::Rule::Action::deny) {
            // An explicit deny drops in every mode; monitor mode only softens the default deny.
            base.log = log(clip(id, 40));
            base.verdict.kind = Verdict::Kind::drop;
        } else {
            // An approval on trial logs each new connection it lets through.
            if (r.trial()) base.log = Log{"wardgate " + clip(id, 40) + " (trial): ", p_.log_group};
            base.verdict = accepted();
        }
        if (src.any && dst.any) {
            // l4proto icmp only occurs in IPv4 and ipv6-icmp only in IPv6: ICMP gets one rule per family.
            std::vector<std::vector<Match>> matches = service_matches(r.services, Family::v4);
            for (const auto& s : r.services)
                if (s.protocol == Protocol::icmp)
                    for (auto& m : service_matches({s}, Family::v6)) matches.push_back(std::move(m));
            for (auto& svc : matches) {
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
            // A group with DNS names is matched by its own set and one set per name: a rule each.
            for (const auto& src_set : address_sets(src, f))
                for (const auto& dst_set : address_sets(dst, f)) {
                    std::vector<Match> both = addrs;
                    set_match(both, src_set, f, AddrDir::saddr);
                    set_match(both, dst_set, f, AddrDir::daddr);
                    for (auto& svc : service_matches(r.services, f)) {
                        Rule rule = base;
                        rule.matches = both;
                        rule.matches.insert(rule.matches.end(), svc.begin(), svc.end());
                        out.push_back(rule);
                    }
                }
        }
    }

    Set address_set(const AddressGroup& g, Family f) const {
        Set s{nft_group_set(g, f), {addr_key(f)}, false, false, clip(g.label, kCommentMax), {}, {}};
        const auto& prefixes = g.dns.empty() ? g.prefixes : g.fixed;
        s.elements.reserve(static_cast<size_t>(
            std::count_if(prefixes.begin(), prefixes.end(), [f](const Prefix& pr) { return pr.family() == f; })));
        for (const auto& pr : prefixes) {
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
                      false, false, "observed baseline kept by the life-cycle stance", {}, {}};
            Set icmp{"baseline_icmp_" + family_tag(f), {addr_key(f), addr_key(f)}, false, false,
                     "observed ICMP baseline kept by the life-cycle stance", {}, {}};
            Set icmp_typed{"baseline_icmp_type_" + family_tag(f),
                           {addr_key(f), addr_key(f), f == Family::v4 ? KeyType::icmp_type : KeyType::icmpv6_type},
                           false, false, "observed ICMP requests kept by the life-cycle stance", {}, {}};
            Set portless{"baseline_proto_" + family_tag(f), {addr_key(f), addr_key(f), KeyType::inet_proto}, false, false,
                         "observed baseline of protocols without ports kept by the life-cycle stance", {}, {}};
            for (const auto& h : p_.pinholes) {
                if (h.src.family != f) continue;
                ElementParts hosts{prefix_part(Prefix::host(h.src)), prefix_part(Prefix::host(h.dst))};
                if (auto m = h.protocol == Protocol::icmp ? icmp_message(h.port) : std::nullopt) {
                    hosts.push_back({ElementPart::Kind::icmp_type, {}, m->type});
                    icmp_typed.elements.push_back({hosts, {}});
                } else if (h.protocol == Protocol::icmp) {
                    icmp.elements.push_back({hosts, {}});
                } else if (!has_ports(h.protocol)) {
                    hosts.push_back({ElementPart::Kind::protocol, {}, static_cast<uint8_t>(h.protocol)});
                    portless.elements.push_back({hosts, {}});
                } else {
                    hosts.push_back({ElementPart::Kind::protocol, {}, static_cast<uint8_t>(h.protocol)});
                    hosts.push_back({ElementPart::Kind::port, {}, h.port});
                    ports.elements.push_back({hosts, {}});
                }
            }
            // One counted lookup rule per non-empty set; ICMP's also tests the protocol.
            auto lookup = [&](Set& set, ConcatLookup::Key key, std::vector<Match> matches) {
                if (set.elements.empty()) return;
                Rule r;
                r.matches = std::move(matches);
                r.concat = ConcatLookup{f, key, set.name};
                r.counter = true;
                r.verdict = accepted();
                out.push_back(r);
                baseline_sets_.push_back(std::move(set));
            };
            Match icmp_match;
            icmp_match.kind = Match::Kind::l4proto;
            icmp_match.family = f;
            icmp_match.l4proto = icmp_proto(f);
            lookup(ports, ConcatLookup::Key::protocol_port, {});
            lookup(portless, ConcatLookup::Key::protocol, {});
            lookup(icmp_typed, ConcatLookup::Key::icmp_type, {icmp_match});
            lookup(icmp, ConcatLookup::Key::addresses, {icmp_match});
        }
    }

    // Jumps to the chain of the source segment, else of the destination segment, else the
    // outside chain. Used for the default deny (whatever is left is dropped, or in monitor
    // mode accepted, by a chain that logs with a prefix naming its segment) and for the
    // accept counters.
    void by_segment(Ruleset& out, std::vector<Rule>& rules, const std::string& map_prefix, const std::string& comment,
                    std::string (*chain_of)(const std::string&)) const {
        for (AddrDir dir : {AddrDir::saddr, AddrDir::daddr}) {
            for (Family f : {Family::v4, Family::v6}) {
                Set map{fmt::format("{}_{}_{}", map_prefix, dir == AddrDir::saddr ? "src" : "dst", family_tag(f)),
                        {addr_key(f)}, true, true, comment, {}, {}};
                for (const auto& s : p_.segments)
                    for (const auto& pr : s.subnets)
                        if (pr.family() == f) map.elements.push_back({{prefix_part(pr)}, chain_of(s.name)});
                if (map.elements.empty()) continue;
                Rule r;
                r.vmap = VerdictMapLookup{f, dir, map.name};
                rules.push_back(r);
                out.sets.push_back(std::move(map));
            }
        }
        Rule last;
        last.verdict = {Verdict::Kind::jump, chain_of(kOutside)};
        rules.push_back(last);
    }

    static Chain accept_chain(const std::string& segment) {
        Chain c{nft_accept_chain(segment), false, {}};
        Rule verdict;
        verdict.counter = true;
        verdict.verdict.kind = Verdict::Kind::accept;
        c.rules.push_back(verdict);
        return c;
    }

    // The addresses of devices in monitor (by role or on their own), one set per family.
    void monitored_sets(Ruleset& out) {
        for (Family f : {Family::v4, Family::v6}) {
            Set s{"monitored_" + family_tag(f), {addr_key(f)}, false, false,
                  "devices in monitor: their would-be drops are logged and accepted", {}, {}};
            std::set<IpAddress> addresses;
            for (const auto& d : p_.monitored)
                for (const auto& a : d.addresses)
                    if (a.family == f) addresses.insert(a);
            for (const auto& a : addresses) s.elements.push_back({{prefix_part(Prefix::host(a))}, {}});
            if (s.elements.empty()) continue;
            monitored_families_.push_back(f);
            out.sets.push_back(std::move(s));
        }
    }

    Chain drop_chain(const std::string& segment, bool monitor) const {
        Chain c{nft_drop_chain(segment), false, {}};
        // A device in monitor, at either end, is let through by every enforcing drop chain:
        // two rules per family, whatever the number of devices.
        if (!monitor)
            for (Family f : monitored_families_)
                for (AddrDir dir : {AddrDir::saddr, AddrDir::daddr}) {
                    Rule r;
                    set_match(r.matches, "monitored_" + family_tag(f), f, dir);
                    if (p_.log_drops) r.log = Log{nft_log_prefix(segment, true), p_.log_group};
                    r.counter = true;
                    r.verdict.kind = Verdict::Kind::accept;
                    c.rules.push_back(std::move(r));
                }
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
    DnsSets dns_sets_;
    std::vector<Set> baseline_sets_;
    std::vector<Family> monitored_families_;
};

}  // namespace

Ruleset lower_policy(const Policy& policy) { return Lowering(policy).run(); }

}  // namespace wardgate::nft
