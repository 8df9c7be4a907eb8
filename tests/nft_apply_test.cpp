// The netlink applier against the real kernel, each test in namespaces of its own.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "support/gateway_fixture.hpp"
#include "support/netns.hpp"
#include "support/test_paths.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
using wardgate::testing::kExampleSite;
using wardgate::testing::kGatewaySite;
using wardgate::testing::live_state;
using wardgate::testing::Netns;

namespace {

nft::Ruleset site_ruleset(const std::string& dir) {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    return nft::lower_policy(run_pipeline(dir, o).policy);
}

// The ruleset as `nft -f` input, in a file that goes away with the test.
struct ScriptFile {
    std::filesystem::path path;
    explicit ScriptFile(const std::string& text)
        : path(std::filesystem::temp_directory_path() / (wardgate::testing::unique_name("script") + ".nft")) {
        std::ofstream(path) << text;
    }
    ~ScriptFile() { std::filesystem::remove(path); }
};

std::string describe(const netlink::ApplyResult& r) {
    return fmt::format("committed={} incremental={} unchanged={} added={} removed={} errors={}", int(r.committed),
                       int(r.incremental), int(r.unchanged), r.elements_added, r.elements_removed, r.errors.size());
}

// Applies inside ns; "committed=..." on success, "refused concurrent=N: message..." on ApplyError.
std::string apply_and_describe(const Netns& ns, const nft::Ruleset& rs, netlink::ApplyOptions o = {}) {
    return ns.run([&] {
        try {
            auto r = netlink::apply_ruleset(rs, o);
            std::string out = describe(r);
            for (const auto& e : r.errors) out += "\n" + e.message;
            return out;
        } catch (const netlink::ApplyError& e) {
            std::string out = fmt::format("refused concurrent={}", e.concurrent_change() ? 1 : 0);
            for (const auto& k : e.errors()) out += "\n" + k.message;
            return out;
        }
    });
}

nft::ElementPart host(const std::string& addr) {
    return {nft::ElementPart::Kind::prefix, Prefix::host(*IpAddress::parse(addr)), 0};
}
nft::ElementPart net(const std::string& prefix) { return {nft::ElementPart::Kind::prefix, *Prefix::parse(prefix), 0}; }

nft::Set* find_set(nft::Ruleset& rs, const std::string& name) {
    for (auto& s : rs.sets)
        if (s.name == name) return &s;
    return nullptr;
}

// A small hand-made ruleset: a host set, an interval set, a rule using both.
nft::Ruleset small_ruleset() {
    nft::Ruleset rs;
    rs.sets.push_back({"hosts_v4", {nft::KeyType::ipv4_addr}, false, false, "hosts", {{{host("10.1.0.1")}, {}}, {{host("10.1.0.2")}, {}}}});
    rs.sets.push_back({"nets_v4", {nft::KeyType::ipv4_addr}, true, false, "networks", {{{net("10.2.0.0/24")}, {}}, {{net("10.3.0.0/25")}, {}}}});
    nft::Chain fwd{"forward", true, {}};
    nft::Rule r;
    nft::Match m;
    m.kind = nft::Match::Kind::address_set;
    m.family = Family::v4;
    m.dir = nft::AddrDir::saddr;
    m.set = "hosts_v4";
    r.matches.push_back(m);
    m.dir = nft::AddrDir::daddr;
    m.set = "nets_v4";
    r.matches.push_back(m);
    r.counter = true;
    r.verdict.kind = nft::Verdict::Kind::accept;
    r.comment = "hand-made";
    fwd.rules.push_back(r);
    rs.chains.push_back(fwd);
    return rs;
}

}  // namespace

TEST_CASE("netlink apply of the example site gives the kernel state nft -f of its text gives", "[kernel]") {
    auto rs = site_ruleset(kExampleSite);
    ScriptFile script(nft::print_ruleset(rs));
    Netns ours("eq-nl"), theirs("eq-nft");

    auto t0 = std::chrono::steady_clock::now();
    CHECK(apply_and_describe(ours, rs).rfind("committed=1 incremental=0", 0) == 0);
    auto t1 = std::chrono::steady_clock::now();
    theirs.exec("nft -f " + script.path.string());
    auto t2 = std::chrono::steady_clock::now();
    WARN(fmt::format("example site: netlink apply {:.1f} ms (forked child), nft -f {:.1f} ms (process)",
                     std::chrono::duration<double, std::milli>(t1 - t0).count(),
                     std::chrono::duration<double, std::milli>(t2 - t1).count()));

    std::string listed = ours.nft_list("wardgate", true);
    REQUIRE_FALSE(listed.empty());
    CHECK(listed == theirs.nft_list("wardgate", true));   // same text, handles included
    CHECK(live_state(ours) == live_state(theirs));          // same userdata, element encoding, expressions
    // Our encoding of the desired ruleset matches what nft made of the text.
    CHECK(theirs.run([&] { return std::to_string(netlink::check_drift(rs).any()); }) == "0");
}

TEST_CASE("the gateway test site in enforce and monitor mode encodes like nft -f", "[kernel]") {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    auto p = run_pipeline(kGatewaySite, o);
    for (auto mode : {EnforcementMode::enforce, EnforcementMode::monitor}) {
        p.policy.mode = mode;
        auto rs = nft::lower_policy(p.policy);
        ScriptFile script(nft::print_ruleset(rs));
        Netns ours("gs-nl"), theirs("gs-nft");
        CHECK(apply_and_describe(ours, rs).rfind("committed=1", 0) == 0);
        theirs.exec("nft -f " + script.path.string());
        CHECK(ours.nft_list("wardgate", true) == theirs.nft_list("wardgate", true));
        CHECK(live_state(ours) == live_state(theirs));
    }
}

TEST_CASE("unusual sets encode like nft -f: ranges at the ends, concatenated intervals, hash maps", "[kernel]") {
    using K = nft::KeyType;
    nft::Ruleset rs = small_ruleset();
    auto port = [](uint16_t p) { return nft::ElementPart{nft::ElementPart::Kind::port, {}, p}; };
    auto proto = [](uint16_t p) { return nft::ElementPart{nft::ElementPart::Kind::protocol, {}, p}; };
    // From address zero (no leading end element) to the top (no end element, marked open).
    rs.sets.push_back({"ends_v4", {K::ipv4_addr}, true, false, "", {{{net("0.0.0.0/8")}, {}}, {{net("255.255.255.0/24")}, {}}}});
    rs.sets.push_back({"ends_v6", {K::ipv6_addr}, true, false, "", {{{net("::/0")}, {}}}});
    // A concatenation with intervals (the kernel's pipapo set).
    rs.sets.push_back({"pipapo_v4", {K::ipv4_addr, K::inet_service}, true, false, "net and port",
                       {{{net("10.0.0.0/24"), port(80)}, {}}, {{host("10.1.1.1"), port(443)}, {}}}});
    rs.sets.push_back({"concat_v6", {K::ipv6_addr, K::ipv6_addr, K::inet_proto, K::inet_service}, false, false, "",
                       {{{host("fd00::1"), host("fd00::2"), proto(6), port(22)}, {}}}});
    // A verdict map without intervals, and an empty set.
    rs.sets.push_back({"hosts_map", {K::ipv4_addr}, false, true, "per host", {{{host("10.7.0.1")}, "forward_x"}}});
    rs.sets.push_back({"empty_v4", {K::ipv4_addr}, true, false, "nothing yet", {}});
    rs.chains.insert(rs.chains.begin(), nft::Chain{"forward_x", false, {}});
    nft::Rule r;
    r.vmap = nft::VerdictMapLookup{Family::v4, nft::AddrDir::daddr, "hosts_map"};
    rs.chains.back().rules.push_back(r);

    ScriptFile script(nft::print_ruleset(rs));
    Netns ours("odd-nl"), theirs("odd-nft");
    CHECK(apply_and_describe(ours, rs).rfind("committed=1", 0) == 0);
    theirs.exec("nft -f " + script.path.string());
    CHECK(ours.nft_list("wardgate", true) == theirs.nft_list("wardgate", true));
    CHECK(live_state(ours) == live_state(theirs));
    CHECK(theirs.run([&] { return std::to_string(netlink::check_drift(rs).any()); }) == "0");

    // Element changes in each of them go as a delta and end where a full apply ends.
    auto changed = rs;
    find_set(changed, "ends_v4")->elements.erase(find_set(changed, "ends_v4")->elements.begin());  // now a leading end
    find_set(changed, "pipapo_v4")->elements.push_back({{net("10.2.0.0/16"), port(8080)}, {}});
    find_set(changed, "hosts_map")->elements = {{{host("10.7.0.1")}, "drop_x"}, {{host("10.7.0.2")}, "forward_x"}};
    find_set(changed, "empty_v4")->elements.push_back({{net("10.8.0.0/16")}, {}});
    changed.chains.insert(changed.chains.begin(), nft::Chain{"drop_x", false, {}});
    auto drop = changed;  // the map now jumps to a new chain: not element-only
    CHECK(apply_and_describe(ours, drop).rfind("committed=1 incremental=0", 0) == 0);
    auto again = drop;
    find_set(again, "ends_v4")->elements.push_back({{net("0.0.0.0/8")}, {}});  // the leading end goes again
    find_set(again, "hosts_map")->elements.pop_back();
    find_set(again, "concat_v6")->elements.push_back({{host("fd00::1"), host("fd00::3"), proto(17), port(53)}, {}});
    CHECK(apply_and_describe(ours, again) == "committed=1 incremental=1 unchanged=0 added=2 removed=1 errors=0");
    Netns full("odd-full");
    apply_and_describe(full, again);
    CHECK(live_state(ours) == live_state(full));
    CHECK(apply_and_describe(ours, drop) == "committed=1 incremental=1 unchanged=0 added=1 removed=2 errors=0");
    Netns full2("odd-full2");
    apply_and_describe(full2, drop);
    CHECK(live_state(ours) == live_state(full2));
}

TEST_CASE("a batch the kernel refuses leaves the old ruleset untouched", "[kernel]") {
    Netns ns("bad");
    auto good = site_ruleset(kGatewaySite);
    REQUIRE(apply_and_describe(ns, good).rfind("committed=1", 0) == 0);
    const std::string before = ns.nft_list();
    const std::string state_before = live_state(ns);

    auto bad = good;
    // One bad element: overlapping intervals, which only the kernel checks here.
    bad.sets.push_back({"overlap_v4", {nft::KeyType::ipv4_addr}, true, false, "", {{{net("10.9.0.0/24")}, {}}, {{net("10.9.0.128/25")}, {}}}});
    // One bad rule: a lookup in a set that does not exist.
    nft::Rule r;
    nft::Match m;
    m.kind = nft::Match::Kind::address_set;
    m.family = Family::v4;
    m.set = "does_not_exist";
    r.matches.push_back(m);
    r.verdict.kind = nft::Verdict::Kind::accept;
    bad.chains.back().rules.insert(bad.chains.back().rules.begin(), r);

    SECTION("commit") {
        std::string out = apply_and_describe(ns, bad);
        INFO(out);
        CHECK(out.rfind("refused concurrent=0", 0) == 0);
        CHECK(out.find("set overlap_v4, element 10.9.0.128") != std::string::npos);
        CHECK(out.find("rule 1 in chain forward") != std::string::npos);
        CHECK(out.find("does_not_exist") != std::string::npos);
    }
    SECTION("dry run reports the same without throwing") {
        netlink::ApplyOptions o;
        o.dry_run = true;
        std::string out = apply_and_describe(ns, bad, o);
        INFO(out);
        CHECK(out.rfind("committed=0 incremental=0 unchanged=0 added=0 removed=0 errors=", 0) == 0);
        CHECK(out.find("errors=0") == std::string::npos);
        CHECK(out.find("does_not_exist") != std::string::npos);
    }
    SECTION("dry run of a valid change commits nothing") {
        netlink::ApplyOptions o;
        o.dry_run = true;
        auto changed = good;
        find_set(changed, "ep_pacs_v4")->elements.push_back({{host("10.50.0.11")}, {}});
        o.allow_incremental = false;
        CHECK(apply_and_describe(ns, changed, o) == "committed=0 incremental=0 unchanged=0 added=0 removed=0 errors=0");
    }
    CHECK(ns.nft_list() == before);
    CHECK(live_state(ns) == state_before);
}

TEST_CASE("a concurrent change between reading the generation and the commit is refused", "[kernel]") {
    Netns ns("genid");
    auto rs = site_ruleset(kGatewaySite);
    auto changed = rs;
    find_set(changed, "ep_pacs_v4")->elements.push_back({{host("10.50.0.11")}, {}});

    for (bool reuse : {true, false}) {
        REQUIRE(apply_and_describe(ns, rs).rfind("committed=1", 0) == 0);
        const std::string before = ns.nft_list();
        std::string out = ns.run([&] {
            uint32_t genid = netlink::ruleset_genid();
            wardgate::testing::shell_ok("nft add table inet other");  // runs in this namespace
            netlink::ApplyOptions o;
            o.expected_genid = genid;
            o.reuse_last_commit = reuse;
            try {
                netlink::apply_ruleset(changed, o);
                return std::string("applied");
            } catch (const netlink::ApplyError& e) {
                return fmt::format("refused concurrent={} {}", e.concurrent_change() ? 1 : 0, e.what());
            }
        });
        INFO(out);
        CHECK(out.rfind("refused concurrent=1", 0) == 0);
        CHECK(ns.nft_list() == before);
        ns.exec("nft delete table inet other");
        // Without an expected generation the applier reads it itself and succeeds.
        CHECK(apply_and_describe(ns, changed).rfind("committed=1 incremental=1", 0) == 0);
    }
}

TEST_CASE("other tables survive apply and remove untouched", "[kernel]") {
    Netns ns("other");
    ns.exec("nft add table inet other");
    ns.exec("nft add set inet other keep '{ type ipv4_addr; elements = { 192.0.2.1 } }'");
    ns.exec("nft add chain inet other input '{ type filter hook input priority 0; policy accept; }'");
    ns.exec("nft add rule inet other input tcp dport 9 counter accept comment '\"not wardgate\"'");
    const std::string other = ns.nft_list("other", true);
    REQUIRE_FALSE(other.empty());

    auto rs = site_ruleset(kExampleSite);
    CHECK(apply_and_describe(ns, rs).rfind("committed=1", 0) == 0);
    CHECK(ns.nft_list("other", true) == other);
    CHECK(apply_and_describe(ns, rs, {.allow_incremental = false}).rfind("committed=1", 0) == 0);
    CHECK(ns.nft_list("other", true) == other);
    ns.run([] {
        netlink::remove_table();
        netlink::remove_table();  // absent: no-op
        return std::string();
    });
    CHECK(ns.nft_list("wardgate").empty());
    CHECK(ns.nft_list("other", true) == other);
}

TEST_CASE("drift lists elements and rules changed by hand", "[kernel]") {
    Netns ns("drift");
    auto rs = site_ruleset(kGatewaySite);
    auto drift = [&] {
        return ns.run([&] {
            auto d = netlink::check_drift(rs);
            std::string out = d.table_missing ? "table missing\n" : "";
            for (const auto& line : d.differences) out += line + "\n";
            return out;
        });
    };
    CHECK(drift() == "table missing\n");
    REQUIRE(apply_and_describe(ns, rs).rfind("committed=1", 0) == 0);
    CHECK(drift().empty());

    ns.exec("nft add element inet wardgate ep_pacs_v4 '{ 10.9.9.9 }'");
    ns.exec("nft add element inet wardgate segment_by_dst_v4 '{ 10.9.9.0/24 : jump drop_icu }'");
    ns.exec("nft delete element inet wardgate segment_by_src_v6 '{ fd00:50::/64 }'");
    std::string listing = ns.exec("nft -a list chain inet wardgate forward");
    auto at = listing.find("udp dport 123");
    REQUIRE(at != std::string::npos);
    auto h = listing.find("# handle ", at);
    ns.exec("nft delete rule inet wardgate forward handle " + listing.substr(h + 9, listing.find('\n', h) - h - 9));

    std::string out = drift();
    INFO(out);
    CHECK(out.find("set ep_pacs_v4: 10.9.9.9 not in the policy\n") != std::string::npos);
    CHECK(out.find("map segment_by_dst_v4: 10.9.9.0/24 : jump drop_icu not in the policy\n") != std::string::npos);
    CHECK(out.find("map segment_by_src_v6: fd00:50::/64 : jump drop_servers missing\n") != std::string::npos);
    CHECK(out.find("chain forward: rule 5 missing: `ip saddr @sup_patient_monitor_v4 ip daddr @ep_ntp_v4 udp dport 123") !=
          std::string::npos);

    REQUIRE(apply_and_describe(ns, rs).rfind("committed=1 incremental=0", 0) == 0);  // a rule differs: whole table
    CHECK(drift().empty());
}

TEST_CASE("element-only changes go as a delta and end in the state a full apply gives", "[kernel]") {
    auto rs = small_ruleset();
    auto changed = rs;
    auto& hosts = find_set(changed, "hosts_v4")->elements;
    hosts.erase(hosts.begin());                                   // a device removed
    hosts.push_back({{host("10.1.0.9")}, {}});                    // a device added
    // A range split in two, and one more range: interval elements change in place.
    find_set(changed, "nets_v4")->elements = {{{net("10.2.0.0/25")}, {}}, {{net("10.2.0.192/26")}, {}},
                                              {{net("10.3.0.0/25")}, {}}, {{net("10.4.0.0/16")}, {}}};

    Netns full("full");
    REQUIRE(apply_and_describe(full, changed).rfind("committed=1 incremental=0", 0) == 0);
    const std::string expected = live_state(full);

    for (bool reuse : {true, false}) {
        Netns ns("delta");
        netlink::ApplyOptions o;
        o.reuse_last_commit = reuse;
        REQUIRE(apply_and_describe(ns, rs, o).rfind("committed=1 incremental=0", 0) == 0);
        CHECK(apply_and_describe(ns, changed, o) == "committed=1 incremental=1 unchanged=0 added=4 removed=2 errors=0");
        CHECK(live_state(ns) == expected);
        CHECK(apply_and_describe(ns, changed, o) == "committed=0 incremental=1 unchanged=1 added=0 removed=0 errors=0");
        // And back again.
        CHECK(apply_and_describe(ns, rs, o) == "committed=1 incremental=1 unchanged=0 added=2 removed=4 errors=0");
        CHECK(apply_and_describe(ns, rs, o).find("unchanged=1") != std::string::npos);
    }
}

TEST_CASE("a record of the last commit lets a new process send a delta without reading back", "[kernel]") {
    Netns ns("record");
    auto record = std::filesystem::temp_directory_path() / (wardgate::testing::unique_name("record") + ".commit");
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() { std::filesystem::remove(p); }
    } cleanup{record};
    netlink::ApplyOptions o;
    o.commit_record = record.string();
    auto rs = small_ruleset();
    auto changed = rs;
    find_set(changed, "hosts_v4")->elements.push_back({{host("10.1.0.9")}, {}});
    auto again = changed;
    find_set(again, "nets_v4")->elements.push_back({{net("10.5.0.0/16")}, {}});
    // Each run is a new child process: nothing is remembered in memory between them.
    auto run = [&](const nft::Ruleset& r) {
        return ns.run([&] {
            auto res = netlink::apply_ruleset(r, o);
            return describe(res) + (res.read_back ? " read_back" : "");
        });
    };
    CHECK(run(rs) == "committed=1 incremental=0 unchanged=0 added=0 removed=0 errors=0 read_back");
    REQUIRE(std::filesystem::exists(record));
    CHECK(run(changed) == "committed=1 incremental=1 unchanged=0 added=1 removed=0 errors=0");
    // A change by hand moves the generation on: the record no longer counts.
    ns.exec("nft add element inet wardgate hosts_v4 '{ 10.1.0.77 }'");
    CHECK(run(again) == "committed=1 incremental=1 unchanged=0 added=1 removed=1 errors=0 read_back");
    Netns full("record-full");
    apply_and_describe(full, again);
    CHECK(live_state(ns) == live_state(full));
    // A damaged record is ignored.
    std::ofstream(record, std::ios::binary | std::ios::trunc) << "WGNLREC1 garbage";
    CHECK(run(rs).find("read_back") != std::string::npos);
}

TEST_CASE("a set of 20000 IPv6 hosts (far more than 64 KiB) applies in one transaction", "[kernel]") {
    nft::Ruleset rs = small_ruleset();
    nft::Set big{"big_v6", {nft::KeyType::ipv6_addr}, false, false, "20000 hosts", {}};
    for (int i = 0; i < 20000; ++i) {
        IpAddress a = *IpAddress::parse("fd00:99::");
        a.bytes[12] = static_cast<uint8_t>(i >> 24);
        a.bytes[13] = static_cast<uint8_t>(i >> 16);
        a.bytes[14] = static_cast<uint8_t>(i >> 8);
        a.bytes[15] = static_cast<uint8_t>(i);
        big.elements.push_back({{{nft::ElementPart::Kind::prefix, Prefix::host(a), 0}}, {}});
    }
    rs.sets.push_back(big);
    nft::Rule r;
    nft::Match m;
    m.kind = nft::Match::Kind::address_set;
    m.family = Family::v6;
    m.set = "big_v6";
    r.matches.push_back(m);
    r.counter = true;
    r.verdict.kind = nft::Verdict::Kind::accept;
    rs.chains.back().rules.push_back(r);
    ScriptFile script(nft::print_ruleset(rs));

    Netns ours("big-nl"), theirs("big-nft");
    std::string timing = ours.run([&] {
        auto t0 = std::chrono::steady_clock::now();
        auto res = netlink::apply_ruleset(rs);
        auto t1 = std::chrono::steady_clock::now();
        auto one = rs;
        find_set(one, "big_v6")->elements.pop_back();
        auto inc = netlink::apply_ruleset(one);
        auto t2 = std::chrono::steady_clock::now();
        netlink::apply_ruleset(rs);  // back to the full set for the comparison
        return fmt::format("{} {} {} full {:.1f} ms, one-element delta {:.1f} ms", int(res.committed), res.messages,
                           int(inc.incremental), std::chrono::duration<double, std::milli>(t1 - t0).count(),
                           std::chrono::duration<double, std::milli>(t2 - t1).count());
    });
    auto t0 = std::chrono::steady_clock::now();
    theirs.exec("nft -f " + script.path.string());
    auto t1 = std::chrono::steady_clock::now();
    WARN(fmt::format("20000 IPv6 hosts: {}; nft -f {:.1f} ms", timing,
                     std::chrono::duration<double, std::milli>(t1 - t0).count()));
    CHECK(timing.rfind("1 ", 0) == 0);
    CHECK(timing.find(" 1 full") != std::string::npos);  // the delta went incremental
    CHECK(std::stoi(timing.substr(2)) > 10);  // the elements were split over many messages
    CHECK(live_state(ours) == live_state(theirs));
}

TEST_CASE("drop chain counters are read per chain", "[kernel]") {
    Netns ns("counters");
    REQUIRE(apply_and_describe(ns, site_ruleset(kGatewaySite)).rfind("committed=1", 0) == 0);
    std::string out = ns.run([] {
        std::string s;
        for (const auto& c : netlink::read_drop_counters()) s += fmt::format("{} {} {}\n", c.chain, c.packets, c.bytes);
        return s;
    });
    CHECK(out == "drop_icu 0 0\ndrop_servers 0 0\ndrop_outside 0 0\n");
}

TEST_CASE("sets kept in the kernel's encoding between applies install what encoding them afresh installs", "[kernel]") {
    Netns ns("kept-encodings");
    const auto base = site_ruleset(kGatewaySite);
    std::string out = ns.run([&] {
        netlink::SetEncodings kept;
        netlink::ApplyOptions o;
        o.encodings = &kept;
        nft::Ruleset rs = base;
        std::mt19937 rng(20261206);
        std::string wrong;
        size_t reused = 0, encoded = 0, deltas = 0;
        for (int round = 0; round < 40; ++round) {
            // One address set of single addresses or prefixes edited: an address added, one
            // removed, or one replaced by another (same size, new content), now and then a comment.
            std::vector<nft::Set*> plain;
            for (auto& s : rs.sets)
                if (s.key.size() == 1 && !s.verdict_map && !s.elements.empty()) plain.push_back(&s);
            nft::Set& s = *plain[rng() % plain.size()];
            const bool v4 = s.key.front() == nft::KeyType::ipv4_addr;
            const std::string fresh = v4 ? fmt::format("10.200.{}.{}", round, 1 + rng() % 200) : fmt::format("fd99::{:x}", round * 256 + rng() % 200);
            switch (round % 5) {
                case 0:
                case 1: s.elements.push_back({{host(fresh)}, {}}); break;
                case 2:
                    if (s.elements.size() > 1) s.elements.erase(s.elements.begin() + static_cast<long>(rng() % s.elements.size()));
                    break;
                case 3: s.elements.back() = {{host(fresh)}, {}}; break;
                case 4: s.comment += "."; break;
            }
            auto r = netlink::apply_ruleset(rs, o);
            reused += kept.reused();
            encoded += kept.encoded();
            deltas += r.incremental;
            for (auto* encodings : {static_cast<netlink::SetEncodings*>(nullptr), &kept}) {
                auto d = netlink::check_drift(rs, encodings);
                if (d.any())
                    wrong += fmt::format("round {} ({}): {}\n", round, encodings ? "kept" : "afresh",
                                         d.table_missing ? "table missing" : d.differences.front());
            }
        }
        return wrong + fmt::format("reused>encoded {} deltas>=30 {}", reused > 2 * encoded, deltas >= 30);
    });
    CHECK(out == "reused>encoded true deltas>=30 true");
}
