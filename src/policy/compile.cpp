#include "wardgate/policy/compile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "baseline.hpp"
#include "peer_groups.hpp"

namespace wardgate {

using namespace policy_detail;

namespace {

std::string where(const Origin& o) { return o.file + ":" + std::to_string(o.line); }

std::string_view short_stage(Lifecycle l) {
    switch (l) {
        case Lifecycle::support: return "sup";
        case Lifecycle::limited_support: return "ltd";
        case Lifecycle::end_of_support: return "eos";
    }
    return "";
}

// One entry per protocol; an entry without ports covers every port of it, an ICMP entry
// without types every message.
std::vector<Service> normalize_services(const std::vector<Service>& in) {
    std::map<Protocol, Service> by_proto;
    std::set<Protocol> every;
    for (const auto& s : in) {
        if (s.protocol == Protocol::icmp ? s.icmp_types.empty() : s.ports.empty()) every.insert(s.protocol);
        auto& merged = by_proto.try_emplace(s.protocol, Service{s.protocol, {}, {}}).first->second;
        merged.ports.insert(merged.ports.end(), s.ports.begin(), s.ports.end());
        merged.icmp_types.insert(merged.icmp_types.end(), s.icmp_types.begin(), s.icmp_types.end());
    }
    std::vector<Service> out;
    for (auto& [proto, s] : by_proto) {
        if (every.count(proto)) {
            s.ports.clear();
            s.icmp_types.clear();
        }
        s.ports = normalize_ports(std::move(s.ports));
        std::sort(s.icmp_types.begin(), s.icmp_types.end());
        s.icmp_types.erase(std::unique(s.icmp_types.begin(), s.icmp_types.end()), s.icmp_types.end());
        out.push_back(std::move(s));
    }
    return out;
}

struct RuleDraft {
    Rule::Action action;
    size_t src, dst;
    std::vector<Service> services;
    std::vector<Provenance> why;
};

class Compiler {
public:
    Compiler(const AddressBook& book, const Date& today, const DnsAnswers* dns, CompileMemo* memo = nullptr)
        : book_(book),
          site_(book.site()),
          today_(today),
          table_(memo ? &memo->groups : nullptr),
          peers_(book, table_, dns),
          dns_(dns),
          memo_(memo ? &memo->baseline : nullptr) {}

    Policy run(const ObservedEdges& observed_edges) {
        policy_.site = site_.name;
        policy_.mode = site_.mode;
        policy_.log_drops = site_.log_drops;
        policy_.log_group = site_.log_group;
        policy_.dns = site_.dns;
        for (const auto& s : site_.segments)
            policy_.segments.push_back({s.name, s.kind, s.vlan, s.subnets, s.gateways, s.monitor});
        // Only a monitored segment, role or device puts one device in monitor (the site's own
        // monitor mode covers all at once): without any, no device need be asked.
        const bool segments_monitored = std::any_of(site_.segments.begin(), site_.segments.end(),
                                                    [](const Segment& s) { return s.monitor; });
        for (const auto& d : site_.devices) {
            if (!d.monitor && !segments_monitored && site_.monitored_roles.empty()) continue;
            if (auto cause = site_.monitor_cause(d); cause && cause->scope != "site")
                policy_.monitored.push_back({d.name, d.segment, d.addresses, *cause});
        }
        std::sort(policy_.monitored.begin(), policy_.monitored.end(),
                  [](const MonitoredDevice& a, const MonitoredDevice& b) { return a.device < b.device; });
        denies();
        declared();
        approvals();
        finish_rules();
        // What the baseline adds to: the policy the declarations and approvals make. The edges
        // are asked for only now (the caller may still be classifying them).
        const ObservedView observed = observed_edges();
        baseline(observed);
        medical_protocols_off_declared_ports(*observed.edges);
        dns_notes();
        approvals_under_denies();
        icmp_messages_not_new();
        for (const auto& w : site_.warnings) note(PolicyNote::Level::warning, w.to_string(), "site-input", w.file);
        emit_notes();
        return std::move(policy_);
    }

private:
    void note(PolicyNote::Level level, std::string message, std::string code, std::string subject = {}) {
        notes_.insert({level, std::move(message), std::move(code), std::move(subject)});
    }

    void declared() {
        struct Need {
            Direction dir;
            size_t peer;
            const DeclaredFlow* flow;
            const Profile* profile;
        };
        struct Builder {
            std::vector<Need> needs;
            std::vector<uint32_t> devices;
        };
        // What a device's declarations give depends on its profile and its stage only: worked
        // out once for each pair, not for each of a hundred thousand devices.
        struct Declarations {
            std::vector<Need> needs;
            std::string signature;
            std::vector<std::string> refused;
            Builder* builder = nullptr;  // the group of every device whose declarations are these
            size_t devices = 0;
        };
        std::map<std::pair<const Profile*, Lifecycle>, Declarations> by_profile_stage;
        std::map<std::pair<std::string_view, std::string_view>, const Profile*> profile_of;
        std::map<std::string, Builder> by_signature;
        std::map<std::string, size_t> missing_profiles;
        const Device* previous = nullptr;  // devices of one model tend to come together
        const Profile* profile = nullptr;
        for (uint32_t i = 0; i < site_.devices.size(); ++i) {
            const Device& d = site_.devices[i];
            if (!previous || d.vendor != previous->vendor || d.model != previous->model) {
                auto known = profile_of.try_emplace({d.vendor, d.model}, nullptr);
                if (known.second) known.first->second = site_.find_profile(d.vendor, d.model);
                profile = known.first->second;
            }
            previous = &d;
            if (!profile) {
                ++missing_profiles[d.vendor + " " + d.model];
                continue;
            }
            auto [it, fresh] = by_profile_stage.try_emplace({profile, d.lifecycle});
            Declarations& decl = it->second;
            if (fresh) {
                const Stance& stance = site_.stance(d.lifecycle);
                for (size_t fi = 0; fi < profile->flows.size(); ++fi) {
                    const DeclaredFlow& f = profile->flows[fi];
                    auto peer = peers_.resolve(f.peer, stance.internet, broad_exclusions(f.peer));
                    if (!peer) {
                        decl.refused.push_back(fmt::format(
                            "{} declaration {} {} {} ({}) refused for {} devices: the stance allows no internet access",
                            profile->label(), to_string(f.direction), f.peer.to_string(), f.service.to_string(),
                            where(f.origin), to_string(d.lifecycle)));
                        continue;
                    }
                    decl.needs.push_back({f.direction, *peer, &f, profile});
                    decl.signature +=
                        fmt::format("{}|{}|{}#{};", static_cast<int>(f.direction), *peer, profile->origin.file, fi);
                }
                if (!decl.needs.empty()) {
                    decl.builder = &by_signature[decl.signature];
                    decl.builder->needs = decl.needs;
                }
            }
            ++decl.devices;
            if (decl.builder) decl.builder->devices.push_back(i);
        }
        for (const auto& [key, decl] : by_profile_stage)
            for (const auto& r : decl.refused) refused_[r] += decl.devices;
        for (const auto& profile : site_.profiles)
            for (const auto& n : profile.notes)
                note(PolicyNote::Level::warning, profile.label() + " (" + profile.origin.file + "): " + n, "profile",
                     profile.origin.file);
        for (const auto& [label, count] : missing_profiles)
            note(PolicyNote::Level::warning,
                 fmt::format("no manufacturer profile for {} ({} device{}): only approved flows and, where the stance "
                             "allows, the observed baseline are allowed",
                             label, count, count == 1 ? "" : "s"),
                 "no-profile", label);
        for (const auto& [signature, b] : by_signature) {
            const Device& first = site_.devices[b.devices.front()];
            AddressGroup g;
            g.kind = AddressGroup::Kind::devices;
            // Stage first: no other group and no internal set name starts with sup_, ltd_ or eos_.
            g.name = std::string(short_stage(first.lifecycle)) + "_" + identifier(first.role);
            std::set<std::string> models;
            const Device* last = nullptr;
            g.members.reserve(b.devices.size());
            g.prefixes.reserve(b.devices.size());
            for (uint32_t i : b.devices) {
                const Device& d = site_.devices[i];
                if (!last || d.vendor != last->vendor || d.model != last->model) models.insert(d.vendor + " " + d.model);
                last = &d;
                g.members.push_back(d.name);
                for (const auto& a : d.addresses) g.prefixes.push_back(Prefix::host(a));
            }
            std::string model_list;
            for (const auto& m : models) model_list += (model_list.empty() ? "" : ", ") + m;
            g.label = fmt::format("{} ({}, {})", first.role, to_string(first.lifecycle), model_list);
            size_t id = table_.intern("devices:" + signature, std::move(g));
            for (const auto& n : b.needs) {
                Provenance why{Provenance::Kind::declared, n.flow->service, n.profile->label() + " profile",
                               n.flow->purpose + (n.flow->required ? "" : " (optional)"), where(n.flow->origin), {},
                               n.profile->source == n.profile->origin.file ? "" : n.profile->source};
                bool out = n.dir == Direction::device_initiated;
                drafts_.push_back({Rule::Action::allow, out ? id : n.peer, out ? n.peer : id, {n.flow->service}, {why}});
            }
        }
    }

    std::vector<uint32_t> devices_covered(const PeerRef& ref) const {
        if (ref.kind == PeerRef::Kind::role) return peers_.devices_with_role(ref.name);
        std::vector<uint32_t> out;
        for (uint32_t i = 0; i < site_.devices.size(); ++i) {
            const Device& d = site_.devices[i];
            bool covered = false;
            switch (ref.kind) {
                case PeerRef::Kind::any: covered = true; break;
                case PeerRef::Kind::role: covered = d.role == ref.name; break;
                case PeerRef::Kind::tag: covered = d.has_tag(ref.name); break;
                case PeerRef::Kind::device: covered = d.name == ref.name; break;
                case PeerRef::Kind::segment: covered = d.segment == ref.name; break;
                case PeerRef::Kind::cidr:
                    covered = std::any_of(d.addresses.begin(), d.addresses.end(),
                                          [&](const IpAddress& a) { return ref.cidr.contains(a); });
                    break;
                case PeerRef::Kind::endpoint: break;
            }
            if (covered) out.push_back(i);
        }
        return out;
    }

    // The devices a peer reference covers whose stance refuses a rule they did not declare:
    // no approvals at their stage, or no internet while the other side reaches it.
    std::vector<uint32_t> ineligible(const PeerRef& ref, std::optional<size_t> other) const {
        std::vector<uint32_t> out;
        const auto covered = devices_covered(ref);
        // Once, not per device: the other side's group can hold tens of thousands of prefixes.
        const bool other_reaches_internet = other && !covered.empty() && peers_.reaches_internet(*other);
        for (uint32_t i : covered) {
            const Stance& s = site_.stance(site_.devices[i].lifecycle);
            if (!s.approvals || (!s.internet && other_reaches_internet)) out.push_back(i);
        }
        return out;
    }

    // A declaration names its own device's needs; a broad peer in it (any address, a
    // segment, a network) reaches other devices only where their stance accepts approvals.
    const std::vector<uint32_t>& broad_exclusions(const PeerRef& ref) {
        static const std::vector<uint32_t> none;
        if (ref.kind != PeerRef::Kind::any && ref.kind != PeerRef::Kind::segment && ref.kind != PeerRef::Kind::cidr)
            return none;
        auto key = ref.to_string();
        auto it = broad_exclusions_.find(key);
        if (it == broad_exclusions_.end()) it = broad_exclusions_.emplace(key, ineligible(ref, std::nullopt)).first;
        return it->second;
    }

    // The segment holding every address of both groups, when one does.
    std::optional<std::string> one_segment(const AddressGroup& a, const AddressGroup& b) const {
        int segment = -1;
        for (const AddressGroup* g : {&a, &b}) {
            if (g->any || g->prefixes.empty() || !g->dns.empty()) return std::nullopt;
            for (const auto& p : g->prefixes) {
                int s = book_.segment_of(p.address);
                if (s < 0 || book_.segment_of(p.last()) != s || (segment >= 0 && s != segment)) return std::nullopt;
                segment = s;
            }
        }
        return site_.segments[static_cast<size_t>(segment)].name;
    }

    void approvals() {
        for (const auto& a : site_.approvals) {
            if (a.expired(today_)) {
                note(PolicyNote::Level::warning,
                     fmt::format("approval {} ({} -> {} {}, by {}) expired on {}: no longer applied", a.id,
                                 a.from.to_string(), a.to.to_string(), a.service.to_string(), a.by,
                                 to_string(*a.expires)),
                     "approval-expired", a.id);
                continue;
            }
            auto from_all = peers_.resolve(a.from, true);
            auto to_all = peers_.resolve(a.to, true);
            if (!from_all || !to_all) {
                note(PolicyNote::Level::warning, fmt::format("approval {} covers no address: not applied", a.id),
                     "approval-no-address", a.id);
                continue;
            }
            auto skip_from = ineligible(a.from, *to_all);
            auto skip_to = ineligible(a.to, *from_all);
            auto from = peers_.resolve(a.from, true, skip_from);
            auto to = peers_.resolve(a.to, true, skip_to);
            size_t skipped = skip_from.size() + skip_to.size();
            if (skipped)
                note(PolicyNote::Level::info,
                     fmt::format("approval {} is not applied to {} device{} whose life-cycle stance excludes it", a.id,
                                 skipped, skipped == 1 ? "" : "s"),
                     "approval-stance-excluded", a.id);
            if (!from || !to) {
                note(PolicyNote::Level::warning,
                     fmt::format("approval {} ({}) opens nothing: every device it names is at a stage whose stance "
                                 "takes no approvals",
                                 a.id, where(a.origin)),
                     "approval-opens-nothing", a.id);
                continue;
            }
            if (auto segment = one_segment(table_.at(*from), table_.at(*to)))
                note(PolicyNote::Level::warning,
                     fmt::format("approval {} ({}) is between addresses of one segment ({}): that traffic stays inside "
                                 "the VLAN and never reaches the gateway, so this approval neither opens nor blocks it",
                                 a.id, where(a.origin), *segment),
                     "approval-one-segment", a.id);
            Provenance why{Provenance::Kind::approved, a.service, "approval " + a.id + " by " + a.by, a.reason,
                           where(a.origin), a.expires, "", a.ticket, a.owner, a.monitor};
            drafts_.push_back({Rule::Action::allow, *from, *to, {a.service}, {why}});
        }
    }

    void denies() {
        for (const auto& d : site_.denies) {
            auto from = peers_.resolve(d.from, true);
            auto to = peers_.resolve(d.to, true);
            if (!from || !to) continue;
            Service shown = d.service.value_or(Service{});
            Provenance why{Provenance::Kind::denied, shown, "deny " + d.id, d.reason, where(d.origin), {}, "", d.ticket,
                           d.owner, d.monitor};
            std::vector<Service> services;
            if (d.service) services.push_back(*d.service);
            deny_drafts_.push_back({Rule::Action::deny, *from, *to, services, {why}});
        }
    }

    void finish_rules() {
        // An approval on trial gets a rule of its own: merged with a rule that is not, its
        // connections would go unlogged, and its removal would not be what the plan says.
        std::map<std::tuple<size_t, size_t, bool>, RuleDraft> merged;
        for (auto& d : drafts_) {
            bool trial = std::all_of(d.why.begin(), d.why.end(), [](const Provenance& w) { return w.trial; });
            auto [it, fresh] = merged.try_emplace({d.src, d.dst, trial}, d);
            if (fresh) continue;
            auto& m = it->second;
            m.services.insert(m.services.end(), d.services.begin(), d.services.end());
            m.why.insert(m.why.end(), d.why.begin(), d.why.end());
        }
        auto remap = std::move(table_).finish(policy_.groups);
        auto to_rule = [&](const RuleDraft& d) {
            Rule r{d.action, remap[d.src], remap[d.dst],
                   d.action == Rule::Action::deny ? d.services : normalize_services(d.services), d.why};
            std::stable_sort(r.why.begin(), r.why.end(),
                             [](const Provenance& a, const Provenance& b) { return a.kind < b.kind; });
            return r;
        };
        for (const auto& d : deny_drafts_) policy_.rules.push_back(to_rule(d));
        std::vector<Rule> allows;
        for (const auto& [key, d] : merged) allows.push_back(to_rule(d));
        std::sort(allows.begin(), allows.end(), [&](const Rule& a, const Rule& b) {
            const bool ta = a.trial(), tb = b.trial();
            return std::tie(policy_.groups[a.src].name, policy_.groups[a.dst].name, ta) <
                   std::tie(policy_.groups[b.src].name, policy_.groups[b.dst].name, tb);
        });
        policy_.rules.insert(policy_.rules.end(), allows.begin(), allows.end());
    }

    void baseline(const ObservedView& observed) {
        BaselineOutcome outcome = judge_baseline(book_, policy_, *observed.edges, observed.lineage, today_, memo_);
        policy_.pinholes = std::move(outcome.pinholes);
        policy_.refused = std::move(outcome.refused);
        policy_.unrouted_flows += outcome.unrouted;
    }

    // DICOM or HL7 recognised in the traffic on a port nothing declares or approves between
    // its two parties: usually a device set up on another port than its profile says, whose
    // traffic enforcement will block. Names the ports declared between the same two parties.
    void medical_protocols_off_declared_ports(const std::vector<ClassifiedEdge>& observed) {
        constexpr std::pair<Application, std::string_view> kMedical[] = {{Application::dicom, "DICOM"},
                                                                         {Application::hl7, "HL7"}};
        for (const auto& c : observed) {
            const auto& k = c.observed.key;
            if (c.unrouted || c.explained()) continue;
            for (auto [application, name] : kMedical) {
                if (!contains(c.observed.stats.applications, application)) continue;
                std::set<std::string> declared;
                for (const Entity* end : {&c.initiator, &c.responder}) {
                    if (end->kind != Entity::Kind::device) continue;
                    const Device& d = site_.devices[end->index];
                    const Profile* profile = site_.find_profile(d.vendor, d.model);
                    if (!profile) continue;
                    for (const auto& f : profile->flows)
                        for (const auto& r : f.service.ports)
                            if (declaration_covers(f, *end, c.initiator, c.responder, k.protocol, r.first,
                                                   k.initiator.family, book_))
                                declared.insert(f.service.to_string());
                }
                const std::string from = book_.name(c.initiator), to = book_.name(c.responder);
                const std::string seen = flow_service_text(k.protocol, k.responder_port, k.initiator.family);
                note(PolicyNote::Level::warning,
                     declared.empty()
                         ? fmt::format("{} -> {}: {} seen on {}, which nothing declares or approves between them",
                                       from, to, name, seen)
                         : fmt::format("{} -> {}: {} seen on {}, declared {}: the device may be set up on another port "
                                       "than its profile says, and enforcement will block it",
                                       from, to, name, seen, fmt::join(declared, ", ")),
                     "application-port", from);
            }
        }
    }

    // An approval whose traffic an explicit deny also matches is (partly) dead: denies win.
    // Connection tracking opens connections only for ICMP requests. Errors pass as related to a
    // connection the policy allowed, replies as its answers, and the rest is invalid, which every
    // mode drops: allowing any of them as a message of its own opens nothing.
    void icmp_messages_not_new() {
        std::set<std::string> said;
        for (const auto& r : policy_.rules) {
            if (r.action != Rule::Action::allow) continue;
            for (const auto& w : r.why) {
                std::vector<std::string> errors, others;
                for (const auto& t : w.service.icmp_types) {
                    if (icmp_starts_connection(t.family, t.type)) continue;
                    std::string text = std::string(t.family == Family::v4 ? "icmp " : "icmpv6 ") + t.to_string();
                    (icmp_is_error(t.family, t.type) ? errors : others).push_back(text);
                }
                if ((errors.empty() && others.empty()) || !said.insert(w.source + w.origin).second) continue;
                if (!errors.empty())
                    note(PolicyNote::Level::warning,
                         fmt::format("{} ({}) allows the ICMP error message{} {}: the gateway passes ICMP errors that "
                                     "belong to an allowed connection anyway and drops all others as invalid, so this "
                                     "opens nothing",
                                     w.source, w.origin, errors.size() == 1 ? "" : "s", fmt::join(errors, ", ")),
                         "icmp-error-allowed", w.source);
                if (!others.empty())
                    note(PolicyNote::Level::warning,
                         fmt::format("{} ({}) allows the ICMP message{} {}, which cannot start a connection: the "
                                     "gateway passes {} only as the answer to a request it allowed and drops {} "
                                     "otherwise as invalid, so this opens nothing",
                                     w.source, w.origin, others.size() == 1 ? "" : "s", fmt::join(others, ", "),
                                     others.size() == 1 ? "it" : "them", others.size() == 1 ? "it" : "them"),
                         "icmp-reply-allowed", w.source);
            }
        }
    }

    void approvals_under_denies() {
        // Both lists are collapsed and sorted (IPv4 before IPv6), so their prefixes are disjoint
        // ranges in address order: one pass, not every pair (groups of scattered devices hold
        // tens of thousands of prefixes).
        auto overlap = [](const AddressGroup& a, const AddressGroup& b) {
            if (a.any || b.any) return true;
            size_t i = 0, j = 0;
            while (i < a.prefixes.size() && j < b.prefixes.size()) {
                const Prefix& p = a.prefixes[i];
                const Prefix& q = b.prefixes[j];
                if (p.contains(q) || q.contains(p)) return true;
                if (p.last() < q.last())
                    ++i;
                else
                    ++j;
            }
            return false;
        };
        auto services_meet = [](const std::vector<Service>& deny, const std::vector<Service>& allow) {
            if (deny.empty()) return true;
            for (const auto& d : deny)
                for (const auto& a : allow) {
                    if (d.protocol != a.protocol) continue;
                    if (d.protocol == Protocol::icmp) {
                        if (d.icmp_types.empty() || a.icmp_types.empty()) return true;
                        for (const auto& x : d.icmp_types)
                            for (const auto& y : a.icmp_types)
                                if (x.family == y.family && x.type == y.type &&
                                    (x.code < 0 || y.code < 0 || x.code == y.code))
                                    return true;
                        continue;
                    }
                    if (d.ports.empty() || a.ports.empty()) return true;
                    for (const auto& x : d.ports)
                        for (const auto& y : a.ports)
                            if (x.first <= y.last && y.first <= x.last) return true;
                }
            return false;
        };
        for (const auto& allow : policy_.rules) {
            if (allow.action != Rule::Action::allow) continue;
            for (const auto& deny : policy_.rules) {
                if (deny.action != Rule::Action::deny) continue;
                // The services first: groups can hold tens of thousands of prefixes each.
                auto meets = [&](const Provenance& w) {
                    return w.kind == Provenance::Kind::approved && services_meet(deny.services, {w.service});
                };
                if (std::none_of(allow.why.begin(), allow.why.end(), meets) ||
                    !overlap(policy_.groups[allow.src], policy_.groups[deny.src]) ||
                    !overlap(policy_.groups[allow.dst], policy_.groups[deny.dst]))
                    continue;
                for (const auto& w : allow.why) {
                    if (!meets(w)) continue;
                    note(PolicyNote::Level::warning,
                         fmt::format("{} ({}) is overridden where it meets {} ({}): explicit denies win", w.source,
                                     w.origin, deny.why.empty() ? "a deny" : deny.why.front().source,
                                     deny.why.empty() ? "" : deny.why.front().origin),
                         "approval-overridden", w.source);
                }
            }
        }
    }

    void dns_notes() {
        for (const auto& e : site_.endpoints) {
            if (!e.dns_only()) continue;
            for (const auto& n : e.dns_names) {
                auto name = normalize_dns_name(n);
                auto it = dns_ ? dns_->find(name) : DnsAnswers::const_iterator{};
                if (!dns_ || it == dns_->end()) {
                    note(PolicyNote::Level::warning,
                         fmt::format("endpoint {}: {} is not resolved: rules to it match no address", e.name, name),
                         "dns-unresolved", e.name);
                    continue;
                }
                std::string addresses;
                for (const auto& a : it->second.addresses) addresses += (addresses.empty() ? "" : ", ") + a.to_string();
                note(PolicyNote::Level::info, fmt::format("endpoint {}: {} resolved {} to {} (TTL {} s)", e.name, name,
                                                          resolution_minute(it->second.resolved), addresses,
                                                          it->second.ttl),
                     "dns-resolved", e.name);
            }
        }
    }

    void emit_notes() {
        for (const auto& prefix : peers_.carved())
            note(PolicyNote::Level::warning,
                 fmt::format("{} reaches beyond the site and covers its segments or endpoints: it stands only for the "
                             "addresses outside them; name segments, roles or endpoints to reach inside",
                             prefix),
                 "outside-part-only", prefix);
        for (const auto& [message, count] : refused_)
            note(PolicyNote::Level::warning, fmt::format("{} ({} device{})", message, count, count == 1 ? "" : "s"),
                 "declaration-refused");
        for (const auto& n : notes_) policy_.notes.push_back(n);
    }

    struct NoteLess {
        bool operator()(const PolicyNote& a, const PolicyNote& b) const {
            if (a.level != b.level) return a.level > b.level;  // warnings first
            return a.message < b.message;
        }
    };

    const AddressBook& book_;
    const Site& site_;
    Date today_;
    GroupTable table_;
    PeerGroups peers_;
    const DnsAnswers* dns_;
    BaselineMemo* memo_;
    Policy policy_;
    std::vector<RuleDraft> drafts_, deny_drafts_;
    std::map<std::string, size_t> refused_;
    std::map<std::string, std::vector<uint32_t>> broad_exclusions_;
    std::set<PolicyNote, NoteLess> notes_;
};

}  // namespace

Policy compile_policy(const AddressBook& book, const std::vector<ClassifiedEdge>& observed, const Date& today) {
    return Compiler(book, today, nullptr).run([&] { return ObservedView{&observed}; });
}

Policy compile_policy(const AddressBook& book, const std::vector<ClassifiedEdge>& observed, const Date& today,
                      const DnsAnswers& dns) {
    return Compiler(book, today, &dns).run([&] { return ObservedView{&observed}; });
}

Policy compile_policy(const AddressBook& book, const ObservedEdges& observed, const Date& today, const DnsAnswers& dns,
                      CompileMemo* memo) {
    return Compiler(book, today, &dns, memo).run(observed);
}

}  // namespace wardgate
