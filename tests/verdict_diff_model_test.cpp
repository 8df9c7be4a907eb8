// The plan's verdict diff against the Evaluator, pair by pair: random policies over a dozen
// hosts and random edits (a host joining or leaving a group, a rule added, removed, given
// other ports or another group, a pinhole added or removed). Every (source, destination,
// port) whose verdict flips must be in the diff, and nothing else.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <tuple>

#include "wardgate/policy/evaluate.hpp"
#include "wardgate/policy/verdict_diff.hpp"

using namespace wardgate;

namespace {

constexpr int kHosts = 12;
const std::vector<uint16_t> kPorts = {22, 80, 443, 8080};

IpAddress model_host(int i) { return *IpAddress::parse("10.9.0." + std::to_string(i + 1)); }
IpAddress model_outsider() { return *IpAddress::parse("10.9.1.1"); }

struct ModelRule {
    bool deny = false;
    size_t src = 0, dst = 0;
    std::vector<uint16_t> ports;  // empty: every protocol
    auto operator<=>(const ModelRule&) const = default;
};

struct Model {
    std::vector<std::set<int>> groups;  // the last one holds every address
    std::vector<ModelRule> rules;
    std::set<std::tuple<int, int, uint16_t>> pinholes;
};

Policy policy_of(const Model& m) {
    Policy p;
    p.site = "model";
    for (size_t g = 0; g < m.groups.size(); ++g) {
        AddressGroup group;
        group.kind = AddressGroup::Kind::network;
        group.name = "g" + std::to_string(g);
        group.label = group.name;
        group.any = g + 1 == m.groups.size();
        std::vector<Prefix> prefixes;
        for (int h : m.groups[g]) prefixes.push_back({model_host(h), 32});
        group.prefixes = collapse_prefixes(std::move(prefixes));
        p.groups.push_back(std::move(group));
    }
    auto rules = m.rules;
    std::stable_sort(rules.begin(), rules.end(), [](const ModelRule& a, const ModelRule& b) { return a.deny > b.deny; });
    for (const auto& r : rules) {
        Rule rule;
        rule.action = r.deny ? Rule::Action::deny : Rule::Action::allow;
        rule.src = r.src;
        rule.dst = r.dst;
        if (!r.ports.empty()) {
            Service s{Protocol::tcp, {}, {}};
            for (auto port : r.ports) s.ports.push_back({port, port});
            rule.services.push_back(s);
        }
        rule.why.push_back({});
        p.rules.push_back(std::move(rule));
    }
    for (const auto& [s, d, port] : m.pinholes) {
        Pinhole h;
        h.src = model_host(s);
        h.dst = model_host(d);
        h.port = port;
        p.pinholes.push_back(h);
    }
    return p;
}

std::vector<uint16_t> random_ports(std::mt19937& rng) {
    std::vector<uint16_t> out;
    for (auto port : kPorts)
        if (rng() % 2) out.push_back(port);
    return out;  // empty: every protocol, one time in sixteen
}

ModelRule random_rule(std::mt19937& rng, size_t groups) {
    return {rng() % 5 == 0, rng() % groups, rng() % groups, random_ports(rng)};
}

void edit(Model& m, std::mt19937& rng) {
    const size_t groups = m.groups.size();
    switch (rng() % 6) {
        case 0:
        case 1: {  // the edit the plan sees most: a device joins or leaves a group
            auto& g = m.groups[rng() % (groups - 1)];
            int h = static_cast<int>(rng() % kHosts);
            if (!g.erase(h)) g.insert(h);
            break;
        }
        case 2: m.rules.push_back(random_rule(rng, groups)); break;
        case 3:
            if (!m.rules.empty()) m.rules.erase(m.rules.begin() + static_cast<long>(rng() % m.rules.size()));
            break;
        case 4:
            if (!m.rules.empty()) {
                auto& r = m.rules[rng() % m.rules.size()];
                if (rng() % 2) r.ports = random_ports(rng);
                else (rng() % 2 ? r.src : r.dst) = rng() % groups;
            }
            break;
        default: {
            std::tuple<int, int, uint16_t> h{static_cast<int>(rng() % kHosts), static_cast<int>(rng() % kHosts),
                                             kPorts[rng() % kPorts.size()]};
            if (!m.pinholes.erase(h)) m.pinholes.insert(h);
        }
    }
}

using Flip = std::string;  // "source > destination tcp/port"
Flip flip(const std::string& s, const std::string& d, uint16_t port) { return s + " > " + d + " tcp/" + std::to_string(port); }

std::vector<Flip> flips_by_evaluation(const Policy& before, const Policy& after, bool to_allowed) {
    Evaluator b(before), a(after);
    std::vector<IpAddress> hosts;
    for (int h = 0; h < kHosts; ++h) hosts.push_back(model_host(h));
    hosts.push_back(model_outsider());
    std::set<Flip> out;
    for (const auto& s : hosts)
        for (const auto& d : hosts)
            for (auto port : kPorts) {
                bool was = b.evaluate(s, d, Protocol::tcp, port).allowed, is = a.evaluate(s, d, Protocol::tcp, port).allowed;
                if (was != is && is == to_allowed) out.insert(flip(s.to_string(), d.to_string(), port));
            }
    return {out.begin(), out.end()};
}

// The diff's regions spelled out on the named hosts and the model's ports.
std::vector<Flip> flips_in(const std::vector<VerdictRegion>& regions) {
    std::set<Flip> out;
    for (const auto& r : regions)
        for (const auto& s : r.src)
            for (const auto& d : r.dst) {
                if (!IpAddress::parse(s) || !IpAddress::parse(d)) continue;  // a range between the named hosts
                for (const auto& svc : r.services)
                    for (auto port : kPorts)
                        if (svc.matches(Protocol::tcp, port, Family::v4)) out.insert(flip(s, d, port));
            }
    return {out.begin(), out.end()};
}

}  // namespace

TEST_CASE("the verdict diff names exactly the flips the evaluator sees, over random edits", "[plan][verdicts]") {
    std::mt19937 rng(20261205);
    std::vector<IpAddress> named;
    for (int h = 0; h < kHosts; ++h) named.push_back(model_host(h));
    named.push_back(model_outsider());
    auto name = [](const IpAddress& a) { return a.to_string(); };
    for (int round = 0; round < 1500; ++round) {
        Model m;
        m.groups.resize(5);
        for (size_t g = 0; g + 1 < m.groups.size(); ++g)
            for (int h = 0; h < kHosts; ++h)
                if (rng() % 3 == 0) m.groups[g].insert(h);
        for (int r = 0; r < 6; ++r) m.rules.push_back(random_rule(rng, m.groups.size()));
        for (int k = 0; k < 3; ++k) edit(m, rng);
        Model changed = m;
        for (int k = 0, edits = 1 + static_cast<int>(rng() % 3); k < edits; ++k) edit(changed, rng);
        Policy before = policy_of(m), after = policy_of(changed);
        auto diff = diff_verdicts(before, after, named, name);
        INFO("round " << round);
        CHECK(flips_in(diff.newly_allowed) == flips_by_evaluation(before, after, true));
        CHECK(flips_in(diff.newly_denied) == flips_by_evaluation(before, after, false));
    }
}
