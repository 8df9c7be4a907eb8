// The proposal in four steps: each rule places the devices it is about (a segment the site
// has, or one it would need), the moves get free addresses in their new segments, the site
// with the moves is compiled against the same observations, and the two policies and the
// observed flows under each are compared.
#include "wardgate/plan/segment_proposal.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "wardgate/assess/risk.hpp"
#include "wardgate/policy/evaluate.hpp"

namespace wardgate {

std::string_view to_string(PlacementRule r) {
    switch (r) {
        case PlacementRule::end_of_support_apart: return "end-of-support-apart";
        case PlacementRule::clinical_in_device_segment: return "clinical-in-device-segment";
        case PlacementRule::same_needs_together: return "same-needs-together";
    }
    return "?";
}

std::string_view rule_text(PlacementRule r) {
    switch (r) {
        case PlacementRule::end_of_support_apart:
            return "end-of-support devices of one role get a segment of their own (the VLAN of the end-of-support "
                   "stance when it names one)";
        case PlacementRule::clinical_in_device_segment:
            return "a clinical device (fda_class set) is never in a workstation, server, management or external "
                   "segment";
        case PlacementRule::same_needs_together:
            return "devices of one role, vendor, model, department and stage share a segment";
    }
    return "?";
}

namespace {

bool end_of_support(const Device& d) { return d.lifecycle == Lifecycle::end_of_support; }

// What a rule decided for one device: a segment the site has, or one it needs.
struct Placement {
    std::string segment;
    PlacementRule rule = PlacementRule::same_needs_together;
    std::string why;
    bool needs_new = false;
};

// A segment name ([a-z0-9_-]) from a role, which the inventory may write freely ("Infusion Pump").
std::string segment_name_for(const std::string& role) {
    std::string out;
    for (char c : role) {
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-';
        if (ok)
            out += l;
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "devices" : out;
}

std::string plural(size_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

class Placer {
public:
    explicit Placer(const Site& site) : site_(site) {
        for (const auto& d : site.devices) members_[d.segment].push_back(&d);
    }

    void end_of_support_apart();
    void clinical_in_device_segment();
    void same_needs_together();

    std::map<std::string, Placement> placed;  // device -> where it goes (only devices that change)
    std::vector<NeededSegment> needed;

private:
    const std::vector<const Device*>& members(const std::string& segment) const {
        static const std::vector<const Device*> none;
        auto it = members_.find(segment);
        return it == members_.end() ? none : it->second;
    }
    // Every device of the segment is at end of support and of `role` (an empty role: any).
    bool legacy_only(const std::string& segment, const std::string& role) const {
        const auto& m = members(segment);
        return !m.empty() && std::all_of(m.begin(), m.end(), [&](const Device* d) {
            return end_of_support(*d) && (role.empty() || d->role == role);
        });
    }
    void need(const std::string& name, const Device& d, PlacementRule rule, std::string why,
              std::optional<uint16_t> vlan = std::nullopt) {
        auto it = std::find_if(needed.begin(), needed.end(), [&](const NeededSegment& n) { return n.name == name; });
        if (it == needed.end()) {
            needed.push_back({name, SegmentKind::devices, vlan, rule, std::move(why), {}, 0, 0});
            it = needed.end() - 1;
        }
        it->devices.push_back(d.name);
        bool v4 = false, v6 = false;
        for (const auto& a : d.addresses) (a.family == Family::v4 ? v4 : v6) = true;
        it->with_ipv4 += v4 ? 1 : 0;
        it->with_ipv6 += v6 ? 1 : 0;
        placed[d.name] = {name, rule, {}, true};
    }
    std::string where(const Device& d) const {
        auto it = placed.find(d.name);
        return it == placed.end() ? d.segment : it->second.segment;
    }

    const Site& site_;
    std::map<std::string, std::vector<const Device*>> members_;  // segment -> its devices, in inventory order
};

void Placer::end_of_support_apart() {
    const Stance& stance = site_.stance(Lifecycle::end_of_support);
    const Segment* stance_segment = nullptr;
    if (stance.vlan)
        for (const auto& s : site_.segments)
            if (s.vlan == stance.vlan) stance_segment = &s;
    for (const auto& d : site_.devices) {
        if (!end_of_support(d)) continue;
        const std::string since = d.eos ? " since " + to_string(*d.eos) : "";
        if (stance.vlan) {
            if (!stance_segment) {
                need("end-of-support", d, PlacementRule::end_of_support_apart,
                     "the end-of-support stance puts their ports in VLAN " + std::to_string(*stance.vlan) +
                         ", and no segment of the site has that VLAN",
                     stance.vlan);
            } else if (d.segment != stance_segment->name) {
                placed[d.name] = {stance_segment->name, PlacementRule::end_of_support_apart,
                                  "end of support" + since + "; the end-of-support stance puts its port in VLAN " +
                                      std::to_string(*stance.vlan) + ", segment " + stance_segment->name};
            }
            continue;
        }
        if (legacy_only(d.segment, d.role)) continue;
        // A segment already holding only end-of-support devices of the role (the most of them),
        // else one named for the role's legacy devices.
        const Segment* target = nullptr;
        for (const auto& s : site_.segments)
            if (s.kind == SegmentKind::devices && s.name != d.segment && legacy_only(s.name, d.role) &&
                (!target || members(s.name).size() > members(target->name).size()))
                target = &s;
        const std::string name = segment_name_for(d.role) + "-legacy";
        if (!target) target = site_.find_segment(name);
        if (target && target->name == d.segment) continue;  // already in the segment named for them
        const size_t others = members(d.segment).size() - 1;
        if (!target) {
            need(name, d, PlacementRule::end_of_support_apart,
                 "end-of-support " + d.role + " devices, now among other devices");
        } else {
            placed[d.name] = {target->name, PlacementRule::end_of_support_apart,
                              "end of support" + since + "; " + d.segment + " also holds " +
                                  plural(others, "other device")};
        }
    }
}

void Placer::clinical_in_device_segment() {
    for (const auto& d : site_.devices) {
        const Segment* current = site_.find_segment(d.segment);
        if (!d.clinical() || end_of_support(d) || !current || current->kind == SegmentKind::devices) continue;
        // The device segment with the most devices of the same model, then of the same role,
        // then of the same department; a segment of legacy devices only is not a home for it.
        const Segment* best = nullptr;
        std::tuple<size_t, size_t, size_t> best_score{0, 0, 0};
        for (const auto& s : site_.segments) {
            if (s.kind != SegmentKind::devices || legacy_only(s.name, "")) continue;
            std::tuple<size_t, size_t, size_t> score{0, 0, 0};
            for (const Device* m : members(s.name)) {
                if (end_of_support(*m)) continue;
                if (m->role == d.role && m->vendor == d.vendor && m->model == d.model) ++std::get<0>(score);
                if (m->role == d.role) ++std::get<1>(score);
                if (!d.department.empty() && m->department == d.department) ++std::get<2>(score);
            }
            if (std::get<1>(score) > 0 && score > best_score) {
                best = &s;
                best_score = score;
            }
        }
        const std::string why = "clinical (FDA class " + std::string(to_string(d.fda_class)) + ") in " + d.segment +
                                ", a " + std::string(to_string(current->kind)) + " segment";
        const std::string named = segment_name_for(d.role);
        if (!best && site_.find_segment(named) && site_.find_segment(named)->kind == SegmentKind::devices)
            best = site_.find_segment(named);
        if (!best || best->kind != SegmentKind::devices) {
            const Segment* taken = site_.find_segment(named);
            need(taken ? named + "-devices" : named, d, PlacementRule::clinical_in_device_segment,
                 "clinical " + d.role + " devices outside every device segment, and no device segment holds their role");
            continue;
        }
        placed[d.name] = {best->name, PlacementRule::clinical_in_device_segment,
                          why + "; " + best->name +
                              (std::get<1>(best_score) ? " holds " + plural(std::get<1>(best_score), d.role + " device")
                                                       : " is named for its role")};
    }
}

void Placer::same_needs_together() {
    // Role, vendor, model, department and stage: the same profile, the same peers, the same rules.
    using Key = std::tuple<std::string, std::string, std::string, std::string, bool>;
    std::map<Key, std::vector<const Device*>> groups;
    for (const auto& d : site_.devices) {
        auto it = placed.find(d.name);
        if (it != placed.end() && it->second.needs_new) continue;
        groups[{d.role, d.vendor, d.model, d.department, end_of_support(d)}].push_back(&d);
    }
    for (const auto& [key, devices] : groups) {
        std::map<std::string, size_t> count;
        for (const Device* d : devices) ++count[where(*d)];
        if (count.size() < 2) continue;
        // The segment holding most of them; on a tie, the one the site declares first.
        const Segment* target = nullptr;
        for (const auto& s : site_.segments)
            if (count.count(s.name) && (!target || count[s.name] > count[target->name])) target = &s;
        if (!target) continue;
        for (const Device* d : devices) {
            if (where(*d) == target->name) continue;
            if (placed.count(d->name)) continue;  // an earlier rule moves it already
            placed[d->name] = {target->name, PlacementRule::same_needs_together,
                               target->name + " holds " + std::to_string(count[target->name]) + " of the " +
                                   std::to_string(devices.size()) + " " + d->vendor + " " + d->model + " " + d->role +
                                   " devices" + (d->department.empty() ? "" : " of " + d->department) + ", " +
                                   where(*d) + " " + std::to_string(count[where(*d)])};
        }
    }
}

IpAddress next_address(IpAddress a) {
    for (int i = a.bit_width() / 8 - 1; i >= 0; --i)
        if (++a.bytes[static_cast<size_t>(i)] != 0) break;
    return a;
}

// Addresses nobody may be given: every device's and gateway's, those inside an endpoint, and
// every address the flows show (an unmanaged host may hold it).
class AddressPool {
public:
    AddressPool(const Site& site, const std::vector<ClassifiedEdge>& edges) : site_(site) {
        for (const auto& d : site.devices) used_.insert(d.addresses.begin(), d.addresses.end());
        for (const auto& s : site.segments) used_.insert(s.gateways.begin(), s.gateways.end());
        for (const auto& c : edges) {
            used_.insert(c.observed.key.initiator);
            used_.insert(c.observed.key.responder);
        }
    }

    // The lowest free address of the segment's subnets of that family.
    std::optional<IpAddress> take(const Segment& s, Family f) {
        constexpr int kTries = 1 << 16;
        for (const auto& subnet : s.subnets) {
            if (subnet.family() != f) continue;
            // Neither the network address nor the first host, which routers take by custom.
            const bool room = subnet.length <= (f == Family::v4 ? 30 : 126);
            IpAddress a = room ? next_address(next_address(subnet.address)) : subnet.address;
            const IpAddress last = subnet.last();
            for (int i = 0; i < kTries && a <= last; ++i, a = next_address(a)) {
                if (f == Family::v4 && room && a == last) break;  // the broadcast address
                if (used_.count(a) || inside_endpoint(a)) continue;
                used_.insert(a);
                return a;
            }
        }
        return std::nullopt;
    }
    // An address taken for a move that is not made after all.
    void give_back(const IpAddress& a) { used_.erase(a); }

private:
    bool inside_endpoint(const IpAddress& a) const {
        return std::any_of(site_.endpoints.begin(), site_.endpoints.end(), [&](const Endpoint& e) {
            return !e.is_internet() &&
                   std::any_of(e.prefixes.begin(), e.prefixes.end(), [&](const Prefix& p) { return p.contains(a); });
        });
    }
    const Site& site_;
    std::set<IpAddress> used_;
};

std::string flow_state(bool inside, const std::string& segment, const Verdict& v, const Policy& policy) {
    if (inside) return "inside " + segment + ": never reaches the gateway";
    switch (v.by) {
        case Verdict::By::allow_rule: {
            const Rule& r = policy.rules[v.rule];
            std::string text = "allowed by " + rule_id(policy, r);
            if (!r.why.empty()) text += " (" + std::string(to_string(r.why.front().kind)) + ": " + r.why.front().source + ")";
            return text;
        }
        case Verdict::By::pinhole: return "allowed by the observed baseline";
        case Verdict::By::deny_rule: {
            const Rule& r = policy.rules[v.rule];
            return "blocked by " + (r.why.empty() ? rule_id(policy, r) : r.why.front().source);
        }
        case Verdict::By::default_deny:
            return "blocked by the default deny" + (v.segment.empty() ? std::string() : " of " + v.segment) +
                   (v.monitored ? " (in monitor: logged and let through until enforced)" : "");
        case Verdict::By::not_new: return "not a new connection";
    }
    return "?";
}

}  // namespace

SegmentProposal propose_segments(const Pipeline& p) {
    const Site& site = *p.site;
    SegmentProposal out;
    out.site = site.name;
    out.today = to_string(p.today);

    Placer placer(site);
    placer.end_of_support_apart();
    placer.clinical_in_device_segment();
    placer.same_needs_together();
    out.needed = placer.needed;

    // Addresses for every move, in inventory order, so that the same site gets the same ones.
    AddressPool pool(site, p.edges);
    Site after_site = site;
    std::map<IpAddress, IpAddress> renumbered;
    for (size_t i = 0; i < site.devices.size(); ++i) {
        const Device& d = site.devices[i];
        auto it = placer.placed.find(d.name);
        if (it == placer.placed.end() || it->second.needs_new) continue;
        const Segment& target = *site.find_segment(it->second.segment);
        std::vector<IpAddress> fresh;
        std::string missing;
        for (const auto& a : d.addresses) {
            if (auto n = pool.take(target, a.family)) {
                fresh.push_back(*n);
            } else {
                const bool has_family = std::any_of(target.subnets.begin(), target.subnets.end(),
                                                    [&](const Prefix& s) { return s.family() == a.family; });
                missing = has_family ? "no free address left in " + target.name + "'s subnets for " + a.to_string()
                                     : target.name + " has no " + (a.family == Family::v4 ? "IPv4" : "IPv6") +
                                           " subnet for its address " + a.to_string() + " (add one to the segment)";
                break;
            }
        }
        if (!missing.empty()) {
            for (const auto& a : fresh) pool.give_back(a);
            out.held.push_back({d.name, target.name, missing});
            continue;
        }
        for (size_t k = 0; k < fresh.size(); ++k) renumbered[d.addresses[k]] = fresh[k];
        out.moves.push_back({d.name, d.role, d.segment, target.name, d.addresses, fresh, it->second.rule, it->second.why, 0, 0});
        after_site.devices[i].segment = target.name;
        after_site.devices[i].addresses = fresh;
    }

    Pipeline after = recompile_with(p, std::move(after_site));

    // The observations as they would be with the moved devices at their new addresses.
    auto renumber = [&](const IpAddress& a) {
        auto it = renumbered.find(a);
        return it == renumbered.end() ? a : it->second;
    };
    std::vector<ObservedEdge> carried;
    carried.reserve(p.edges.size());
    for (const auto& c : p.edges) {
        ObservedEdge e = c.observed;
        e.key.initiator = renumber(e.key.initiator);
        e.key.responder = renumber(e.key.responder);
        carried.push_back(std::move(e));
    }
    auto carried_edges = classify_edges(carried, *after.book, p.today);

    std::map<std::string, int> risk_before, risk_after;
    for (const auto& r : assess_risk(*p.book, p.edges)) risk_before[r.device] = r.score;
    for (const auto& r : assess_risk(*after.book, carried_edges)) risk_after[r.device] = r.score;
    for (auto& m : out.moves) {
        m.risk_before = risk_before[m.device];
        m.risk_after = risk_after[m.device];
    }
    std::sort(out.moves.begin(), out.moves.end(), [](const SegmentMove& a, const SegmentMove& b) {
        return std::tie(b.risk_before, a.device) < std::tie(a.risk_before, b.device);
    });

    out.rules_before = p.policy.rules.size();
    out.rules_after = after.policy.rules.size();
    out.pinholes_before = p.policy.pinholes.size();
    out.pinholes_after = after.policy.pinholes.size();
    Plan change = make_plan(after.policy, snapshot_of(p.policy), carried_edges, *after.book);
    out.rules = change.rules;
    out.pinholes_lost = change.pinholes_removed;

    const Evaluator before_eval(p.policy), after_eval(after.policy);
    for (size_t i = 0; i < p.edges.size(); ++i) {
        const auto& c = p.edges[i];
        if (c.unrouted) continue;
        const EdgeKey& o = c.observed.key;
        const EdgeKey& t = carried[i].key;
        const int bi = p.book->segment_of(o.initiator), br = p.book->segment_of(o.responder);
        const int ai = after.book->segment_of(t.initiator), ar = after.book->segment_of(t.responder);
        const bool inside_before = bi >= 0 && bi == br, inside_after = ai >= 0 && ai == ar;
        const Verdict vb = before_eval.evaluate(o.initiator, o.responder, o.protocol, o.responder_port);
        const Verdict va = after_eval.evaluate(t.initiator, t.responder, t.protocol, t.responder_port);
        const bool ok_before = inside_before || vb.allowed, ok_after = inside_after || va.allowed;
        if (inside_before == inside_after && ok_before == ok_after) continue;
        PathChange pc;
        pc.initiator = after.book->name(after.book->resolve(t.initiator));
        pc.responder = after.book->name(after.book->resolve(t.responder));
        pc.initiator_ip = t.initiator.to_string();
        pc.responder_ip = t.responder.to_string();
        pc.service = flow_service_text(t.protocol, t.responder_port, t.initiator.family);
        pc.connections = c.observed.stats.connections;
        pc.before = flow_state(inside_before, inside_before ? site.segments[static_cast<size_t>(bi)].name : "", vb, p.policy);
        pc.after = flow_state(inside_after, inside_after ? after.site->segments[static_cast<size_t>(ai)].name : "", va,
                              after.policy);
        pc.blocked_after = ok_before && !ok_after;
        out.paths.push_back(std::move(pc));
    }
    std::stable_sort(out.paths.begin(), out.paths.end(),
                     [](const PathChange& a, const PathChange& b) { return a.blocked_after && !b.blocked_after; });

    // The patch in inventory order (the moves are in risk order).
    std::map<std::string, const SegmentMove*> moved;
    for (const auto& m : out.moves) moved[m.device] = &m;
    std::vector<DeviceEdit> edits;
    for (const auto& d : site.devices)
        if (auto it = moved.find(d.name); it != moved.end()) edits.push_back({d.name, it->second->to, it->second->after});
    out.patch = inventory_patch(site, edits);
    return out;
}

}  // namespace wardgate
