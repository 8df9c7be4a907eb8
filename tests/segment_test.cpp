// wardgate segment --propose: the rules of the proposal, the addresses it hands out, what it
// says the moves change, and an inventory patch that GNU patch applies to a site that then
// loads, compiles to what the proposal said, and has nothing left to move.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/segment_proposal.hpp"
#include "wardgate/site/inventory_patch.hpp"
#include "wardgate/site/load.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

void replace_once(std::string& text, const std::string& from, const std::string& to, size_t after = 0) {
    auto at = text.find(from, after);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
}

// The example hospital with a segment for its end-of-support pumps (IPv4 only), pump-icu-01
// given an IPv6 address that segment cannot hold, the CT scanner plugged into the workstation
// VLAN, and flows that the moves change: a pump talking to the central station inside icu, a
// workstation reaching the CT inside the workstation VLAN, the CT's observed baseline to the EHR,
// and an unmanaged host already using the legacy segment's first address.
struct ProposalSite {
    TempDir tmp{"segment"};
    std::filesystem::path dir = tmp.path / "site";
    std::string flows;

    ProposalSite() {
        std::filesystem::copy(kExampleSite, dir, std::filesystem::copy_options::recursive);
        std::string site = read_text(dir / "site.toml");
        site += R"(
[[segment]]
name = "infusion-pump-legacy"
kind = "devices"
vlan = 111
ipv4 = ["10.111.0.0/24"]
gateway4 = "10.111.0.1"
description = "End-of-support infusion pumps"
)";
        tmp.write("site/site.toml", site);
        std::string devices = read_text(dir / "devices.toml");
        replace_once(devices, R"(addresses = ["10.110.0.21"])", R"(addresses = ["10.110.0.21", "fd00:110::21"])");
        replace_once(devices, R"(addresses = ["10.120.0.11", "fd00:120::11"])", R"(addresses = ["10.200.0.77", "fd00:200::77"])");
        replace_once(devices, R"(segment = "radiology")", R"(segment = "workstations")", devices.find("\"ct-rad-01\""));
        tmp.write("site/devices.toml", devices);
        flows = tmp.write("extra.csv", R"(initiator,responder,protocol,port,start,established,connections
10.110.0.22,10.110.0.10,tcp,5000,2026-11-01T10:00:00Z,true,5
10.110.0.22,10.110.0.10,tcp,5000,2026-11-02T10:00:00Z,true,5
10.200.0.31,10.200.0.77,tcp,3389,2026-11-01T10:00:00Z,true,4
10.200.0.31,10.200.0.77,tcp,3389,2026-11-02T10:00:00Z,true,4
10.200.0.77,10.50.0.25,tcp,8443,2026-11-01T10:00:00Z,true,6
10.200.0.77,10.50.0.25,tcp,8443,2026-11-02T10:00:00Z,true,6
10.200.0.77,10.50.0.10,tcp,104,2026-11-02T10:00:00Z,true,6
10.111.0.2,10.50.0.5,udp,123,2026-11-02T10:00:00Z,false,1
)");
    }

    Pipeline pipeline() const {
        PipelineOptions opts;
        opts.today = *parse_date("2026-12-04");
        opts.extra_flows = {flows};
        return run_pipeline(dir, opts);
    }
    std::string args() const { return dir.string() + " --today 2026-12-04 --flows " + flows; }
};

const SegmentMove* move_of(const SegmentProposal& p, const std::string& device) {
    auto it = std::find_if(p.moves.begin(), p.moves.end(), [&](const SegmentMove& m) { return m.device == device; });
    return it == p.moves.end() ? nullptr : &*it;
}

std::vector<std::string> addresses(const std::vector<IpAddress>& list) {
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(a.to_string());
    return out;
}

int run_shell(const std::string& command) {
    int status = std::system(command.c_str());  // NOLINT(cert-env33-c): a test running GNU patch
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("segment --propose on the example hospital names the segment its end-of-support pumps need", "[segment]") {
    auto r = run_wardgate("segment " + kExampleSite + " --propose --today 2026-12-04");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("  infusion-pump-legacy (end-of-support-apart): end-of-support infusion-pump devices, now among "
                     "other devices\n    8 devices: pump-icu-01, pump-icu-02, pump-icu-03, pump-icu-04, pump-icu-05, "
                     "pump-icu-06, pump-icu-07, pump-icu-08\n") != std::string::npos);
    CHECK(r.out.find("    # ipv4 = [...]     room for 8 devices\n") != std::string::npos);
    CHECK(r.out.find("# ipv6") == std::string::npos);  // none of the eight has an IPv6 address
    CHECK(r.out.find("Moves (") == std::string::npos);  // nothing moves until the segment exists
}

TEST_CASE("segment proposal: each rule's moves, the addresses handed out and what the moves change", "[segment]") {
    ProposalSite site;
    auto p = site.pipeline();
    auto proposal = propose_segments(p);

    SECTION("end-of-support pumps go apart, the CT leaves the workstation VLAN, nothing else moves") {
        REQUIRE(proposal.moves.size() == 8);
        for (int n = 2; n <= 8; ++n) {
            const auto* m = move_of(proposal, "pump-icu-0" + std::to_string(n));
            REQUIRE(m);
            CHECK(m->from == "icu");
            CHECK(m->to == "infusion-pump-legacy");
            CHECK(m->rule == PlacementRule::end_of_support_apart);
            // 10.111.0.1 is the gateway's, 10.111.0.2 an unmanaged host's in the flows.
            CHECK(addresses(m->after) == std::vector<std::string>{"10.111.0." + std::to_string(n + 1)});
        }
        const auto* ct = move_of(proposal, "ct-rad-01");
        REQUIRE(ct);
        CHECK(ct->from == "workstations");
        CHECK(ct->to == "radiology");
        CHECK(ct->rule == PlacementRule::clinical_in_device_segment);
        CHECK(addresses(ct->after) == std::vector<std::string>{"10.120.0.2", "fd00:120::2"});
        CHECK(ct->why == "clinical (FDA class II) in workstations, a workstations segment; radiology holds 2 "
                         "imaging-modality devices");
        // Highest risk first.
        for (size_t i = 1; i < proposal.moves.size(); ++i)
            CHECK(proposal.moves[i - 1].risk_before >= proposal.moves[i].risk_before);
    }

    SECTION("a move that would cost a device its IPv6 address is held, not made") {
        REQUIRE(proposal.held.size() == 1);
        CHECK(proposal.held[0].device == "pump-icu-01");
        CHECK(proposal.held[0].why ==
              "infusion-pump-legacy has no IPv6 subnet for its address fd00:110::21 (add one to the segment)");
        CHECK_FALSE(move_of(proposal, "pump-icu-01"));
    }

    SECTION("the flows whose path changes, and the baseline the moves leave behind") {
        REQUIRE(proposal.paths.size() == 3);
        // Blocked ones first.
        const auto& p0 = proposal.paths[0];
        CHECK(p0.blocked_after);
        CHECK(p0.initiator == "pump-icu-02");
        CHECK(p0.initiator_ip == "10.111.0.3");
        CHECK(p0.responder == "cs-icu-01");
        CHECK(p0.service == "tcp/5000");
        CHECK(p0.connections == 10);
        CHECK(p0.before == "inside icu: never reaches the gateway");
        CHECK(p0.after == "blocked by the default deny of infusion-pump-legacy");
        const auto& p1 = proposal.paths[1];
        CHECK(p1.blocked_after);
        CHECK(p1.initiator == "ws-rad-01");
        CHECK(p1.responder == "ct-rad-01");
        CHECK(p1.responder_ip == "10.120.0.2");
        CHECK(p1.before == "inside workstations: never reaches the gateway");
        CHECK(p1.after == "blocked by the default deny of workstations");
        const auto& p2 = proposal.paths[2];
        CHECK(p2.blocked_after);
        CHECK(p2.initiator == "ct-rad-01");
        CHECK(p2.responder == "ehr");
        CHECK(p2.service == "tcp/8443");
        CHECK(p2.before == "allowed by the observed baseline");
        CHECK(p2.after == "blocked by the default deny of radiology");
        // The CT's PACS traffic is declared by its profile: allowed before and after, not listed.
        REQUIRE(proposal.pinholes_lost.size() == 1);
        CHECK(proposal.pinholes_lost[0].src == "ct-rad-01");
        CHECK(proposal.pinholes_lost[0].src_ip == "10.200.0.77");
        CHECK(proposal.pinholes_lost[0].dst == "ehr");
        CHECK(proposal.pinholes_before == proposal.pinholes_after + 1);
    }

    SECTION("the same site gives byte-identical text and patch") {
        auto again = propose_segments(site.pipeline());
        CHECK(render_segment_proposal(again) == render_segment_proposal(proposal));
        CHECK(again.patch.diff == proposal.patch.diff);
    }
}

TEST_CASE("segment --propose --patch: GNU patch applies it, and the patched site compiles to the proposed policy and "
          "has nothing left to move",
          "[segment]") {
    ProposalSite site;
    const auto before = site.pipeline();
    const auto proposal = propose_segments(before);
    const std::string patch_file = (site.tmp.path / "moves.diff").string();
    auto r = run_wardgate("segment " + site.args() + " --propose --patch " + patch_file);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 2);
    CHECK(r.out == render_segment_proposal(proposal) + "\nInventory patch: " + patch_file + " (apply with: patch -d " +
                       site.dir.string() + " -p1 < " + patch_file + ")\n");
    const std::string diff = read_text(patch_file);
    CHECK(diff == proposal.patch.diff);
    CHECK(diff.find("-segment = \"workstations\"\n+segment = \"radiology\"\n") != std::string::npos);
    CHECK(diff.find("-addresses = [\"10.200.0.77\", \"fd00:200::77\"]\n+addresses = [\"10.120.0.2\", \"fd00:120::2\"]\n") !=
          std::string::npos);
    const std::string old_devices = read_text(site.dir / "devices.toml");

    REQUIRE(run_shell("patch -s -d " + site.dir.string() + " -p1 < " + patch_file) == 0);
    // Only the moved devices' segment and addresses lines changed.
    const std::string new_devices = read_text(site.dir / "devices.toml");
    auto lines = [](const std::string& text) {
        std::vector<std::string> out;
        size_t start = 0;
        for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(text.substr(start, nl - start));
        return out;
    };
    const auto old_lines = lines(old_devices), new_lines = lines(new_devices);
    REQUIRE(old_lines.size() == new_lines.size());
    size_t changed = 0;
    for (size_t i = 0; i < old_lines.size(); ++i)
        if (old_lines[i] != new_lines[i]) {
            ++changed;
            CHECK((new_lines[i].starts_with("segment = ") || new_lines[i].starts_with("addresses = ")));
        }
    CHECK(changed == 16);  // seven pumps and the CT, two lines each

    auto check = run_wardgate("check " + site.dir.string() + " --today 2026-12-04");
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);

    // The patched site, compiled on the same observations, is the policy the proposal described.
    const auto after = site.pipeline();
    CHECK(after.policy.rules.size() == proposal.rules_after);
    CHECK(after.policy.pinholes.size() == proposal.pinholes_after);
    std::set<std::string> expected, got;
    for (const auto& rule : before.policy.rules) expected.insert(rule_id(before.policy, rule));
    for (const auto& c : proposal.rules) {
        if (c.kind == RuleChange::Kind::removed) expected.erase(c.rule.id);
        if (c.kind == RuleChange::Kind::added) expected.insert(c.rule.id);
    }
    for (const auto& rule : after.policy.rules) got.insert(rule_id(after.policy, rule));
    CHECK(got == expected);
    for (const auto* name : {"pump-icu-02", "ct-rad-01"}) {
        const Device* d = after.site->find_device(name);
        REQUIRE(d);
        CHECK(d->segment == move_of(proposal, name)->to);
        CHECK(d->addresses == move_of(proposal, name)->after);
    }

    // Nothing left to move; the held pump still wants its IPv6 subnet.
    const auto again = propose_segments(after);
    CHECK(again.moves.empty());
    CHECK(again.needed.empty());
    REQUIRE(again.held.size() == 1);
    CHECK(again.held[0].device == "pump-icu-01");
}

TEST_CASE("segment proposal: a clinical device whose role no device segment holds needs a segment named for it",
          "[segment]") {
    auto files = small_site_files();
    files["devices.toml"] += R"(
[[device]]
name = "dialysis-01"
addresses = ["10.200.0.40"]
role = "Dialysis Machine"
vendor = "Renal Co"
model = "D5"
segment = "workstations"
fda_class = "II"
lifecycle = "support"
)";
    TempSite site(files, false);
    auto proposal = propose_segments(pipeline_for(site.dir()));
    REQUIRE(proposal.needed.size() == 2);
    // The small site's two end-of-support pumps share icu with a supported one.
    CHECK(proposal.needed[0].name == "infusion-pump-legacy");
    CHECK(proposal.needed[0].devices == std::vector<std::string>{"pump-01", "pump-02"});
    CHECK(proposal.needed[0].with_ipv6 == 1);
    CHECK(proposal.needed[1].name == "dialysis-machine");  // a segment name from a role written freely
    CHECK(proposal.needed[1].rule == PlacementRule::clinical_in_device_segment);
    CHECK(proposal.needed[1].devices == std::vector<std::string>{"dialysis-01"});
    CHECK(proposal.moves.empty());
}

TEST_CASE("segment proposal: the end-of-support stance's VLAN decides where legacy devices go", "[segment]") {
    auto files = small_site_files();
    files["policy.toml"] = "[stance.end-of-support]\nvlan = 666\n";
    SECTION("no segment has the VLAN: one is needed, with it") {
        TempSite site(files, false);
        auto proposal = propose_segments(pipeline_for(site.dir()));
        REQUIRE(proposal.needed.size() == 1);
        CHECK(proposal.needed[0].name == "end-of-support");
        CHECK(proposal.needed[0].vlan == 666);
        CHECK(render_segment_proposal(proposal).find("    vlan = 666\n") != std::string::npos);
    }
    SECTION("a segment has it: the pumps move there, whatever its name") {
        files["site.toml"] += "\n[[segment]]\nname = \"quarantine\"\nkind = \"devices\"\nvlan = 666\nipv4 = "
                              "[\"10.66.0.0/24\"]\nipv6 = [\"fd00:66::/64\"]\n";
        TempSite site(files, false);
        auto proposal = propose_segments(pipeline_for(site.dir()));
        CHECK(proposal.needed.empty());
        REQUIRE(proposal.moves.size() == 2);
        for (const auto& m : proposal.moves) CHECK(m.to == "quarantine");
        CHECK(addresses(move_of(proposal, "pump-01")->after) == std::vector<std::string>{"10.66.0.2", "fd00:66::2"});
    }
}

TEST_CASE("segment proposal: devices of one model and department are gathered where most of them are", "[segment]") {
    auto files = small_site_files();
    // pump-03 (supported) has a twin in radiology.
    files["devices.toml"] += R"(
[[device]]
name = "pump-04"
addresses = ["10.120.0.24"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "radiology"
fda_class = "II"
lifecycle = "support"

[[device]]
name = "pump-05"
addresses = ["10.120.0.25"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "radiology"
fda_class = "II"
lifecycle = "support"
)";
    TempSite site(files, false);
    // pump-03 tries ct-01 across the gateway, which blocks it (ct-01's stage keeps no baseline); in
    // radiology the flow would never reach the gateway, so nothing would block it.
    TempDir tmp("segment-gather");
    PipelineOptions opts;
    opts.today = *parse_date("2026-11-22");
    opts.extra_flows = {tmp.write("extra.csv", "initiator,responder,protocol,port,start,established,connections\n"
                                               "10.110.0.23,10.120.0.11,tcp,9999,2026-11-01T10:00:00Z,true,5\n"
                                               "10.110.0.23,10.120.0.11,tcp,9999,2026-11-02T10:00:00Z,true,5\n")};
    auto proposal = propose_segments(run_pipeline(site.dir(), opts));
    REQUIRE(proposal.paths.size() == 1);
    CHECK(proposal.paths[0].initiator == "pump-03");
    CHECK(proposal.paths[0].initiator_ip == "10.120.0.2");
    CHECK(proposal.paths[0].before == "blocked by the default deny of icu");
    CHECK(proposal.paths[0].after == "inside radiology: never reaches the gateway");
    CHECK_FALSE(proposal.paths[0].blocked_after);
    const auto* m = move_of(proposal, "pump-03");
    REQUIRE(m);
    CHECK(m->to == "radiology");
    CHECK(m->rule == PlacementRule::same_needs_together);
    CHECK(m->why == "radiology holds 2 of the 3 Acme Pump 1 infusion-pump devices, icu 1");
    CHECK_FALSE(move_of(proposal, "pump-04"));
}

TEST_CASE("inventory patch: only the values change, in TOML however it is written and in a semicolon CSV", "[segment]") {
    auto files = small_site_files();
    replace_once(files["site.toml"], R"(devices = ["devices.toml"])", R"(devices = ["devices.toml", "more.toml", "assets.csv"])");
    files["devices.toml"] = R"(# Station 3 – Pümpen
[[device]]
name = "pump-01"   # bed 1
addresses = [
  "10.110.0.21",   # IPv4
  "fd00:110::21",
]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = 'icu'  # ward 3
fda_class = "II"
lifecycle = "support"
)";
    files["more.toml"] = "device = [{ name = \"ct-01\", department = \"Radiologie – Süd\", segment = \"radiology\", "
                         "addresses = [\"10.120.0.11\"], role = \"ct-scanner\", vendor = \"Imaging Co\", model = \"CT 9\", "
                         "lifecycle = \"support\" }]\n";
    files["assets.csv"] = "name;ip;role;vendor;model;department;segment;lifecycle\r\n"
                          "ws-01;10.200.0.31;workstation;PC Co;Desk;\"ICU; Bett 4\";workstations;support\r\n"
                          "pump-02;10.110.0.22 fd00:110::22;infusion-pump;Acme;Pump 1;\"ICU; Bett 5\";icu;support";
    TempSite site(files, false);
    const Site loaded = load_site(site.dir());
    auto patch = inventory_patch(loaded, {{"pump-01", "radiology", {*IpAddress::parse("10.120.0.50")}},
                                          {"ct-01", "icu", {*IpAddress::parse("10.110.0.60")}},
                                          {"pump-02", "radiology", {*IpAddress::parse("10.120.0.51")}}});
    INFO(patch.diff);
    CHECK(patch.by_hand.empty());
    TempDir tmp("inventory-patch");
    const std::string diff = tmp.write("p.diff", patch.diff);
    REQUIRE(run_shell("patch -s -d " + site.dir().string() + " -p1 < " + diff) == 0);

    CHECK(read_text(site.dir() / "devices.toml") == R"(# Station 3 – Pümpen
[[device]]
name = "pump-01"   # bed 1
addresses = ["10.120.0.50"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "radiology"  # ward 3
fda_class = "II"
lifecycle = "support"
)");
    CHECK(read_text(site.dir() / "more.toml") ==
          "device = [{ name = \"ct-01\", department = \"Radiologie – Süd\", segment = \"icu\", addresses = "
          "[\"10.110.0.60\"], role = \"ct-scanner\", vendor = \"Imaging Co\", model = \"CT 9\", lifecycle = \"support\" }]\n");
    CHECK(read_text(site.dir() / "assets.csv") ==
          "name;ip;role;vendor;model;department;segment;lifecycle\r\n"
          "ws-01;10.200.0.31;workstation;PC Co;Desk;\"ICU; Bett 4\";workstations;support\r\n"
          "pump-02;10.120.0.51;infusion-pump;Acme;Pump 1;\"ICU; Bett 5\";radiology;support");
    const Site patched = load_site(site.dir());
    CHECK(patched.find_device("pump-01")->segment == "radiology");
    CHECK(patched.find_device("ct-01")->department == "Radiologie – Süd");
    CHECK(patched.find_device("pump-02")->addresses == std::vector<IpAddress>{*IpAddress::parse("10.120.0.51")});
}

TEST_CASE("segment proposal: an end-of-support device already in the segment named for its role stays", "[segment]") {
    auto files = small_site_files();
    // icu is renamed infusion-pump-legacy: pump-01 and pump-02 (end of support) share it with
    // pump-03 (supported). They are where the rule sends them; nothing moves to where it is.
    for (const std::string file : {"site.toml", "devices.toml"}) {
        std::string& text = files[file];
        for (size_t at; (at = text.find("\"icu\"")) != std::string::npos;) text.replace(at, 5, "\"infusion-pump-legacy\"");
    }
    TempSite site(files, false);
    auto proposal = propose_segments(pipeline_for(site.dir()));
    CHECK_FALSE(move_of(proposal, "pump-01"));
    CHECK_FALSE(move_of(proposal, "pump-02"));
    CHECK(proposal.needed.empty());
    for (const auto& m : proposal.moves) CHECK(m.from != m.to);
}
