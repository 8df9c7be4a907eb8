// The Evaluator answers as the rendered ruleset does.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "support/pipeline_fixture.hpp"
#include "wardgate/policy/evaluate.hpp"

using namespace wardgate;
using namespace wardgate::testing;

TEST_CASE("an ICMP pinhole holds whatever port explain is asked with", "[explain][baseline]") {
    // The kernel's ICMP baseline set holds the two hosts alone, so `explain ... icmp/8` must
    // find the pinhole as `explain ... icmp` does, for every message that starts a connection.
    auto files = small_site_files();
    auto& site_toml = files["site.toml"];
    site_toml.replace(site_toml.find("flows = [\"flows/conn.log\"]"), 26, "flows = [\"flows/conn.log\", \"flows/icmp.csv\"]");
    files["flows/icmp.csv"] =
        "initiator,responder,protocol,port,established,connections\n10.200.0.31,10.110.0.23,icmp,0,true,4\n";
    TempSite site(files);
    auto p = pipeline_for(site.dir());
    REQUIRE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, 0).by == Verdict::By::pinhole);
    for (uint16_t port : {icmp_port(8, 0), icmp_port(13, 0), icmp_port(17, 0)}) {
        INFO("icmp message " << port);
        auto v = verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, port);
        CHECK(v.allowed);
        CHECK(v.by == Verdict::By::pinhole);
    }
    // A reply starts no connection, pinhole or not: the kernel drops it on its own as invalid.
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, icmp_port(0, 0)).by == Verdict::By::not_new);
    auto r = run_wardgate("explain " + site.dir().string() + " 10.200.0.31 10.110.0.23 icmp/8");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ALLOWED") != std::string::npos);
}

TEST_CASE("the evaluator finds an address's groups and segment as a scan of every prefix does", "[explain]") {
    // Prefixes from /8 to hosts, scattered and nested, some crossing /16 boundaries, some
    // IPv6; addresses at the edges of each prefix and of /16s: the indexed lookups must agree
    // with testing every prefix of every group and subnet of every segment in order.
    std::mt19937 rng(20261206);
    auto v4 = [](uint32_t value) { return IpAddress::v4(value); };
    auto aligned = [&](uint32_t value, uint8_t length) {
        const uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
        return Prefix{v4(value & mask), length};
    };
    for (int round = 0; round < 40; ++round) {
        Policy policy;
        std::vector<IpAddress> probes;
        auto probe_edges = [&](const Prefix& p) {
            probes.push_back(p.address);
            probes.push_back(p.last());
            if (p.family() == Family::v4) {
                probes.push_back(v4(p.address.v4_value() - 1));
                probes.push_back(v4(p.last().v4_value() + 1));
            }
        };
        const int groups = 1 + static_cast<int>(rng() % 6);
        for (int g = 0; g < groups; ++g) {
            AddressGroup group;
            group.name = "g" + std::to_string(g);
            std::vector<Prefix> prefixes;
            const int n = 1 + static_cast<int>(rng() % 300);
            for (int i = 0; i < n; ++i) {
                const uint32_t value = 0x0a000000u | (rng() & 0x00ffffffu);
                const uint8_t length = static_cast<uint8_t>(rng() % 10 == 0 ? 8 + rng() % 24 : 32);
                prefixes.push_back(aligned(value, length));
            }
            if (g == 0) prefixes.push_back(*Prefix::parse("fd00::/64"));
            group.prefixes = collapse_prefixes(prefixes);
            for (const auto& p : group.prefixes) probe_edges(p);
            policy.groups.push_back(std::move(group));
        }
        const int segments = 1 + static_cast<int>(rng() % 5);
        for (int s = 0; s < segments; ++s) {
            SegmentIR segment;
            segment.name = "s" + std::to_string(s);
            for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) {
                segment.subnets.push_back(aligned(0x0a000000u | (rng() & 0x00ffffffu), static_cast<uint8_t>(12 + rng() % 17)));
                probe_edges(segment.subnets.back());
            }
            policy.segments.push_back(std::move(segment));
        }
        for (int i = 0; i < 200; ++i) probes.push_back(v4(0x0a000000u | (rng() & 0x00ffffffu)));
        probes.push_back(*IpAddress::parse("fd00::1"));
        probes.push_back(*IpAddress::parse("fd01::1"));
        Evaluator eval(policy);
        INFO("round " << round);
        for (const auto& a : probes) {
            INFO("address " << a.to_string());
            std::vector<uint32_t> expected;
            for (uint32_t g = 0; g < policy.groups.size(); ++g)
                if (std::any_of(policy.groups[g].prefixes.begin(), policy.groups[g].prefixes.end(),
                                [&](const Prefix& p) { return p.contains(a); }))
                    expected.push_back(g);
            REQUIRE(eval.groups_of(a) == expected);
            std::string segment;
            for (const auto& s : policy.segments)
                if (segment.empty() && std::any_of(s.subnets.begin(), s.subnets.end(), [&](const Prefix& p) { return p.contains(a); }))
                    segment = s.name;
            // No rule in the policy: every address falls to the default deny of its segment.
            REQUIRE(eval.evaluate(a, a, Protocol::tcp, 443).segment == segment);
        }
        // An evaluator for a few of the addresses answers for them what the whole one does: with
        // the groups as compiled (sorted, disjoint), and with a group's prefixes out of order
        // and overlapping, as a group built by hand may hold them.
        std::vector<IpAddress> few;
        for (size_t i = 0; i < probes.size(); i += 1 + rng() % 7) few.push_back(probes[i]);
        std::sort(few.begin(), few.end());
        few.erase(std::unique(few.begin(), few.end()), few.end());
        for (bool shuffled : {false, true}) {
            Policy p = policy;
            if (shuffled) {
                auto& prefixes = p.groups.front().prefixes;
                prefixes.push_back(aligned(0x0a000000u | (rng() & 0x00ffffffu), 12));
                std::shuffle(prefixes.begin(), prefixes.end(), rng);
            }
            const Evaluator whole(p), part(p, few);
            for (const auto& a : few) REQUIRE(part.groups_of(a) == whole.groups_of(a));
        }
    }
}
