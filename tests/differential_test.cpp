// The explainer and the kernel agree: random sites are compiled, applied to a gateway
// namespace (by netlink, or as the printed ruleset with nft -f), and single packets with random addresses, protocols and ports are sent through
// it. Each packet passes the gateway exactly when Evaluator says the connection is allowed
// (or monitored: the default deny of a monitor segment accepts it).
//
// WARDGATE_DIFF_SITES (default 50) and WARDGATE_DIFF_TUPLES (default 1000) set the size,
// WARDGATE_DIFF_SEED the first site's seed (site i uses seed + i); WARDGATE_DIFF_KEEP=DIR keeps
// each site's files in DIR/site-SEED for `wardgate explain`. scripts/differential runs it.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "support/gateway_fixture.hpp"
#include "support/packet_probe.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/random_site.hpp"
#include "support/temp_site.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

uint64_t env_number(const char* name, uint64_t fallback) {
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    return std::strtoull(text, nullptr, 10);
}

std::string describe(const Policy& p, const Verdict& v) {
    std::string by;
    switch (v.by) {
        case Verdict::By::deny_rule:
        case Verdict::By::allow_rule: {
            const Rule& r = p.rules[v.rule];
            by = fmt::format("{} rule {} ({} -> {}", v.by == Verdict::By::deny_rule ? "deny" : "allow", v.rule,
                             p.group(r.src).label, p.group(r.dst).label);
            for (const auto& s : r.services) by += " " + s.to_string();
            by += r.why.empty() ? ")" : "; " + r.why.front().source + ")";
            break;
        }
        case Verdict::By::pinhole: by = fmt::format("pinhole {}", v.pinhole); break;
        case Verdict::By::default_deny:
            by = fmt::format("default deny of {}{}", v.segment.empty() ? "outside" : v.segment,
                             v.monitored ? " (monitored)" : "");
            break;
    }
    return std::string(v.allowed ? "allowed" : "not allowed") + " by " + by;
}

struct Totals {
    size_t sites = 0;
    size_t tuples = 0;
    size_t passed = 0;     // what the kernel let through
    size_t monitored = 0;  // of those, what only a monitor segment's default deny accepted
    size_t rules = 0;
    size_t pinholes = 0;
    size_t dns_groups = 0;  // groups with addresses from DNS names
    size_t resent = 0;  // passed only when sent again: frames lost on the way, not drops
    size_t disagreements = 0;
    // Per kind of probe: sent, and let through by a rule or pinhole (not by monitor mode).
    std::map<std::string, std::pair<size_t, size_t>> kinds;
    size_t not_new = 0;  // ICMP answers and errors the explainer says no rule can open
};

std::string probe_kind(const Probe& p) {
    if (p.proto != Protocol::icmp) return to_string(p.proto);
    auto m = icmp_message(p.port);
    return m && icmp_starts_connection(p.src.family, m->type) ? "icmp-request" : "icmp-answer-or-error";
}

// One site: generate, compile, apply in a fresh topology, send, compare. Returns the
// disagreements, described. `control`: first send every probe through a topology without a
// ruleset, where all must arrive.
std::vector<std::string> check_site(uint64_t seed, size_t tuples, bool control, Totals& totals) {
    INFO("site seed " << seed);
    std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
    RandomSite generated = random_site(rng);
    TempSite site(generated.files, false);
    if (const char* keep = std::getenv("WARDGATE_DIFF_KEEP"); keep && *keep) {
        std::filesystem::path dir = std::filesystem::path(keep) / fmt::format("site-{}", seed);
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        std::filesystem::copy(site.dir(), dir, std::filesystem::copy_options::recursive);
    }
    Pipeline pipeline;
    try {
        PipelineOptions options;
        options.today = *parse_date(kRandomSiteToday);
        options.dns.offline = true;  // DNS-only endpoints take their addresses from the site's cache
        options.dns.write_cache = false;
        pipeline = run_pipeline(site.dir(), options);
    } catch (const std::exception& e) {
        FAIL("site seed " << seed << " does not load: " << e.what());
    }
    const Policy& policy = pipeline.policy;
    auto probes = random_probes(generated, rng, tuples - tuples / 3);
    auto aimed = rule_probes(policy, rng, tuples - probes.size());
    probes.insert(probes.end(), aimed.begin(), aimed.end());
    if (probes.size() < tuples) {  // a site without rules: random ones make up the count
        auto more = random_probes(generated, rng, tuples - probes.size());
        probes.insert(probes.end(), more.begin(), more.end());
    }
    // Connection tracking knows a protocol without ports (ESP, GRE) by its two addresses alone:
    // once one probe between two hosts passed, the next one between them, either way, is part
    // of that connection, whatever the rules say about it as a new one. One probe per pair.
    std::set<std::tuple<IpAddress, IpAddress, Protocol>> pairs;
    std::erase_if(probes, [&](const Probe& p) {
        if (has_ports(p.proto) || p.proto == Protocol::icmp) return false;
        auto [a, b] = std::minmax(p.src, p.dst);
        return !pairs.insert({a, b, p.proto}).second;
    });

    if (control) {
        // Without a ruleset the topology carries every probe: a drop below is the policy's.
        ProbeTopology open;
        std::vector<size_t> all(probes.size());
        for (size_t i = 0; i < all.size(); ++i) all[i] = i;
        std::vector<std::string> strays;
        auto arrived = open.send(probes, all, 0, strays);
        for (uint16_t attempt = 1; attempt <= 2 && arrived.size() < probes.size(); ++attempt) {
            std::vector<size_t> missing;
            for (size_t i : all)
                if (!arrived.count(i)) missing.push_back(i);
            for (size_t i : open.send(probes, missing, attempt, strays, 300)) arrived.insert(i);
        }
        for (size_t i : all)
            if (!arrived.count(i)) FAIL_CHECK("without a ruleset, " << probes[i].text() << " did not reach the sink");
        CHECK(strays.empty());
    }

    // Odd seeds load the printed ruleset with `nft -f` (what `wardgate compile` hands over),
    // even seeds send it as one netlink transaction (what `wardgate apply` does).
    ProbeTopology topology;
    bool by_text = seed % 2 == 1;
    if (by_text) {
        auto script = site.dir() / "ruleset.nft";
        std::ofstream(script) << render_nft(policy);
        topology.gateway().exec("nft -f " + script.string());
    } else {
        apply_in(topology.gateway(), policy);
    }

    Evaluator evaluator(policy);
    std::vector<Verdict> verdicts;
    std::vector<size_t> all;
    for (size_t i = 0; i < probes.size(); ++i) {
        verdicts.push_back(evaluator.evaluate(probes[i].src, probes[i].dst, probes[i].proto, probes[i].port));
        all.push_back(i);
    }
    auto expected = [&](size_t i) { return verdicts[i].allowed || verdicts[i].monitored; };

    std::vector<std::string> strays;
    auto arrived = topology.send(probes, all, 0, strays);
    // A frame lost on a busy machine would read as a drop: what should have passed gets two more tries.
    for (uint16_t attempt = 1; attempt <= 2; ++attempt) {
        std::vector<size_t> missing;
        for (size_t i = 0; i < probes.size(); ++i)
            if (expected(i) && !arrived.count(i)) missing.push_back(i);
        if (missing.empty()) break;
        for (size_t i : topology.send(probes, missing, attempt, strays, 300)) {
            arrived.insert(i);
            totals.resent += 1;
        }
    }

    std::vector<std::string> found;
    for (const auto& s : strays) found.push_back(fmt::format("site seed {}: a frame no probe sent reached the sink: {}", seed, s));
    for (size_t i = 0; i < probes.size(); ++i) {
        bool passed = arrived.count(i) > 0;
        totals.passed += passed;
        totals.monitored += passed && !verdicts[i].allowed && verdicts[i].monitored;
        auto& kind = totals.kinds[probe_kind(probes[i])];
        kind.first += 1;
        kind.second += passed && verdicts[i].allowed;
        totals.not_new += verdicts[i].by == Verdict::By::not_new;
        if (passed == expected(i)) continue;
        found.push_back(fmt::format("site seed {}: {} {} in the kernel ({}), explainer: {}", seed, probes[i].text(),
                                    passed ? "passed" : "dropped", by_text ? "nft -f" : "netlink",
                                    describe(policy, verdicts[i])));
    }
    totals.sites += 1;
    totals.rules += policy.rules.size();
    totals.pinholes += policy.pinholes.size();
    for (const auto& g : policy.groups) totals.dns_groups += !g.dns.empty();
    totals.tuples += probes.size();
    totals.disagreements += found.size();
    return found;
}

}  // namespace

TEST_CASE("explain and the kernel agree on random sites, packet by packet", "[kernel][differential]") {
    uint64_t sites = env_number("WARDGATE_DIFF_SITES", 50);
    uint64_t tuples = env_number("WARDGATE_DIFF_TUPLES", 1000);
    uint64_t seed = env_number("WARDGATE_DIFF_SEED", std::random_device{}());
    std::cout << fmt::format("differential: {} sites x {} tuples from seed {}\n", sites, tuples, seed) << std::flush;
    REQUIRE(tuples <= ProbeTopology::kMaxProbes);

    auto start = std::chrono::steady_clock::now();
    Totals totals;
    std::vector<std::string> disagreements;
    for (uint64_t s = 0; s < sites; ++s) {
        auto found = check_site(seed + s, tuples, s == 0, totals);
        for (const auto& d : found) {
            std::cout << d << "\n";
            if (disagreements.size() < 50) disagreements.push_back(d);
        }
    }
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string summary = fmt::format(
        "differential: {} sites ({} rules, {} pinholes, {} groups from DNS), {} tuples, {} passed the gateway ({} by monitor mode), "
        "{} disagreements, {:.1f} s (seed {}; {} frames passed only when sent again)",
        totals.sites, totals.rules, totals.pinholes, totals.dns_groups, totals.tuples, totals.passed, totals.monitored,
        totals.disagreements, seconds, seed, totals.resent);
    std::string kinds;
    for (const auto& [kind, counts] : totals.kinds)
        kinds += fmt::format("{}{} {} sent, {} allowed", kinds.empty() ? "" : "; ", kind, counts.first, counts.second);
    summary += fmt::format("\nby kind: {}; {} ICMP answers or errors no rule can open", kinds, totals.not_new);
    std::cout << summary << std::endl;
    WARN(summary);
    for (const auto& d : disagreements) FAIL_CHECK(d);
    CHECK(totals.disagreements == 0);
    // Both outcomes happen, or the comparison proves nothing.
    CHECK(totals.passed > 0);
    CHECK(totals.passed < totals.tuples);
}
