// wardgate nac --target ios-access and --target ise: golden files for the example site, and what
// the roles' port access lists must hold: per-device sources where a rule holds only some of a
// role's devices, replies by source port (TCP with established), DHCP and neighbour discovery,
// the final deny; the ISE endpoints file changing only where a device changed; MAC formats;
// the command line.
//     WARDGATE_UPDATE_GOLDEN=1 ./build/tests/wardgate_tests "[nac][golden]"
// rewrites the golden files after an intended change.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/render/nac.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kNacCiscoToday = "2026-11-22";

NacResult nac_cisco_render(const fs::path& dir, const std::string& target, const NacOptions& options = {}) {
    Pipeline p = pipeline_for(dir, kNacCiscoToday);
    return render_nac(*p.site, p.policy, target, default_template_dir(), options);
}

const std::string& nac_cisco_file(const NacResult& r, const std::string& name) {
    for (const auto& f : r.files)
        if (f.filename == name) return f.text;
    FAIL("no file " << name);
    static const std::string none;
    return none;
}

// The lines of one access list in a switch.cfg, from its definition to the "!" after it.
std::vector<std::string> nac_cisco_acl(const std::string& config, const std::string& header) {
    std::vector<std::string> out;
    auto start = config.find("\n" + header + "\n");
    if (start == std::string::npos) return out;
    std::istringstream in(config.substr(start + header.size() + 2));
    std::string line;
    while (std::getline(in, line) && line != "!") out.push_back(line);
    return out;
}

bool nac_cisco_has(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// Two pumps (one dual-stack), a CT, a workstation without MAC; approvals that hold every pump,
// one pump only, and peers that open connections to the pumps; a deny of telnet to pumps.
std::map<std::string, std::string> nac_cisco_site() {
    auto files = small_site_files();
    files["site.toml"] += "\n[nac]\nquarantine_vlan = 999\n";
    files["policy.toml"] = R"([stance.end-of-support]
vlan = 666

[[approval]]
id = "CHG-1"
from = "role:infusion-pump"
to = "endpoint:drug-library"
protocol = "tcp"
ports = [443]
by = "Biomed"
reason = "drug library"

[[approval]]
id = "CHG-2"
from = "device:pump-01"
to = "endpoint:pacs"
protocol = "tcp"
ports = [104]
by = "Biomed"
reason = "one pump only"

[[approval]]
id = "CHG-3"
from = "endpoint:pacs"
to = "role:infusion-pump"
protocol = "tcp"
ports = [8443]
by = "Biomed"
reason = "status"

[[approval]]
id = "CHG-4"
from = "endpoint:pacs"
to = "role:infusion-pump"
protocol = "icmp"
icmp_types = ["echo-request"]
by = "Biomed"
reason = "ping"

[[approval]]
id = "CHG-5"
from = "endpoint:ntp"
to = "role:infusion-pump"
protocol = "udp"
ports = [5000]
by = "Biomed"
reason = "udp service"

[[deny]]
id = "no-telnet-pumps"
from = "any"
to = "role:infusion-pump"
protocol = "tcp"
ports = [23]
reason = "never"
)";
    files["devices.toml"] = R"([[device]]
name = "pump-01"
addresses = ["10.110.0.21", "fd00:110::21"]
mac = "00:0a:f7:41:80:01"
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
lifecycle = "support"

[[device]]
name = "pump-02"
addresses = ["10.110.0.22", "fd00:110::22"]
mac = "00:0a:f7:41:80:02"
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
lifecycle = "support"

[[device]]
name = "ct-01"
addresses = ["10.120.0.11"]
mac = "00:0b:00:00:00:11"
role = "ct-scanner"
vendor = "Imaging Co"
model = "CT 9"
segment = "radiology"
lifecycle = "support"

[[device]]
name = "ws-01"
addresses = ["10.200.0.31"]
role = "workstation"
vendor = "PC Co"
model = "Desk"
segment = "workstations"
lifecycle = "support"
)";
    return files;
}

}  // namespace

TEST_CASE("nac ios-access and ise files of the example site match their golden files", "[nac][golden]") {
    for (const std::string target : {"ios-access", "ise"}) {
        DYNAMIC_SECTION(target) {
            NacOptions options;
            if (target == "ios-access") options.coa_client = IpAddress::parse("10.50.0.70");
            auto r = nac_cisco_render(kExampleSite, target, options);
            REQUIRE_FALSE(r.files.empty());
            for (const auto& f : r.files) {
                auto path = fs::path(kSourceDir) / "tests" / "golden" / "nac" / "example-hospital" / f.filename;
                const char* update = std::getenv("WARDGATE_UPDATE_GOLDEN");
                if (update && std::string(update) == "1") {
                    fs::create_directories(path.parent_path());
                    std::ofstream(path, std::ios::binary) << f.text;
                    continue;
                }
                INFO(path.string());
                REQUIRE(fs::exists(path));
                CHECK(read_text(path) == f.text);
            }
            // Same inputs, byte-identical files.
            auto again = nac_cisco_render(kExampleSite, target, options);
            REQUIRE(again.files.size() == r.files.size());
            for (size_t i = 0; i < r.files.size(); ++i) {
                CHECK(again.files[i].filename == r.files[i].filename);
                CHECK(again.files[i].text == r.files[i].text);
            }
        }
    }
}

TEST_CASE("a pinhole for one device of a role opens the port list only from that device's address", "[nac]") {
    TempSite site(nac_cisco_site());
    auto r = nac_cisco_render(site.dir(), "ios-access");
    const auto& config = nac_cisco_file(r, "ios-access/switch.cfg");
    auto pumps = nac_cisco_acl(config, "ip access-list extended wg-infusion-pump");
    REQUIRE_FALSE(pumps.empty());
    // CHG-2 holds pump-01 only: its own address, never its sibling's nor any.
    CHECK(nac_cisco_has(pumps, " permit tcp host 10.110.0.21 host 10.50.0.10 eq 104"));
    for (const auto& l : pumps) {
        CHECK_FALSE((l.find("10.110.0.22") != std::string::npos && l.find("eq 104") != std::string::npos));
        CHECK_FALSE((l.find("permit tcp any") == 1 && l.find("eq 104") != std::string::npos));
    }
    // CHG-1 holds every pump: the source is any.
    CHECK(nac_cisco_has(pumps, " permit tcp any host 10.50.0.20 eq 443"));
    // The CT's list has none of the pumps' rules.
    auto ct = nac_cisco_acl(config, "ip access-list extended wg-ct-scanner");
    REQUIRE_FALSE(ct.empty());
    for (const auto& l : ct) CHECK(l.find("10.50.0.20") == std::string::npos);
    // A peer that is the outside world (the internet endpoint) is any, not dozens of prefixes.
    CHECK(nac_cisco_has(pumps, " permit tcp any any eq 443"));
}

TEST_CASE("port lists pass replies by source port, TCP with established, and deny first", "[nac]") {
    TempSite site(nac_cisco_site());
    auto r = nac_cisco_render(site.dir(), "ios-access");
    const auto& config = nac_cisco_file(r, "ios-access/switch.cfg");
    auto pumps = nac_cisco_acl(config, "ip access-list extended wg-infusion-pump");
    CHECK(nac_cisco_has(pumps, " permit tcp any eq 8443 host 10.50.0.10 established"));
    CHECK(nac_cisco_has(pumps, " permit udp any eq 5000 host 10.50.0.5"));
    CHECK(nac_cisco_has(pumps, " permit icmp any host 10.50.0.10 echo-reply"));
    // Every TCP permit from a source port is a reply: established.
    size_t replies = 0;
    for (const auto& l : pumps) {
        std::istringstream in(l);
        std::vector<std::string> words;
        for (std::string w; in >> w;) words.push_back(w);
        if (words.size() < 4 || words[0] != "permit" || words[1] != "tcp") continue;
        size_t after_source = words[2] == "host" ? 4 : 3;
        if (after_source < words.size() && (words[after_source] == "eq" || words[after_source] == "range")) {
            ++replies;
            CHECK(words.back() == "established");
        }
    }
    CHECK(replies > 0);
    // The explicit deny comes before every permit, both ways.
    auto deny = std::find(pumps.begin(), pumps.end(), " deny tcp any host 10.110.0.22 eq 23 log");
    auto deny_reply = std::find(pumps.begin(), pumps.end(), " deny tcp any eq 23 any log");
    auto first_permit = std::find_if(pumps.begin(), pumps.end(), [](const std::string& l) { return l.rfind(" permit", 0) == 0; });
    REQUIRE(deny != pumps.end());
    REQUIRE(deny_reply != pumps.end());
    CHECK(deny < first_permit);
    CHECK(deny_reply < first_permit);
}

TEST_CASE("every port list has DHCP, neighbour discovery and ends in the final deny", "[nac]") {
    TempSite site(nac_cisco_site());
    auto r = nac_cisco_render(site.dir(), "ios-access");
    const auto& config = nac_cisco_file(r, "ios-access/switch.cfg");
    for (const std::string role : {"infusion-pump", "ct-scanner"}) {
        auto v4 = nac_cisco_acl(config, "ip access-list extended wg-" + role);
        auto v6 = nac_cisco_acl(config, "ipv6 access-list wg-" + role + "-v6");
        REQUIRE_FALSE(v4.empty());
        REQUIRE_FALSE(v6.empty());
        CHECK(nac_cisco_has(v4, " permit udp any eq bootpc any eq bootps"));
        CHECK(v4.back() == " deny ip any any log");
        for (const char* nd : {" permit icmp any any nd-ns", " permit icmp any any nd-na",
                               " permit icmp any any router-solicitation", " permit udp any eq 546 any eq 547"})
            CHECK(nac_cisco_has(v6, nd));
        CHECK(v6.back() == " deny ipv6 any any log");
    }
    // The IPv6 list of the dual-stack pumps carries their rules in IPv6 too.
    auto v6 = nac_cisco_acl(config, "ipv6 access-list wg-infusion-pump-v6");
    CHECK(nac_cisco_has(v6, " permit tcp any host fd00:50::20 eq 443"));
    // The workstation has no MAC: no entry, no list.
    CHECK(config.find("wg-workstation") == std::string::npos);
    // The VLANs the replies name: the segments', the stance's and the quarantine VLAN.
    for (const char* vlan : {"vlan 110\n name icu\n", "vlan 666\n name wg-end-of-support\n", "vlan 999\n name wg-quarantine\n"})
        CHECK_THAT(config, Catch::Contains(vlan));
}

TEST_CASE("ise: the dACLs take any as the source, the profiles name VLAN and dACLs", "[nac]") {
    TempSite site(nac_cisco_site());
    auto r = nac_cisco_render(site.dir(), "ise");
    const auto& dacl = nac_cisco_file(r, "ise/downloadableacl/wg-infusion-pump.json");
    CHECK_THAT(dacl, Catch::Contains("\"daclType\": \"IPV4\"") &&
                         Catch::Contains("permit tcp any host 10.50.0.10 eq 104\\n") &&
                         Catch::Contains("permit udp any eq bootpc any eq bootps\\n") &&
                         Catch::EndsWith("deny ip any any\",\n    \"daclType\": \"IPV4\"\n  }\n}\n"));
    CHECK(dacl.find("permit tcp host 10.110.0.21") == std::string::npos);
    CHECK_THAT(nac_cisco_file(r, "ise/downloadableacl/wg-infusion-pump-v6.json"), Catch::Contains("\"daclType\": \"IPV6\""));
    const auto& profile = nac_cisco_file(r, "ise/authorizationprofile/wardgate-infusion-pump-vlan110.json");
    CHECK_THAT(profile, Catch::Contains("\"accessType\": \"ACCESS_ACCEPT\"") &&
                            Catch::Contains("\"nameID\": \"110\",\n      \"tagID\": 1") &&
                            Catch::Contains("\"daclName\": \"wg-infusion-pump\"") &&
                            Catch::Contains("\"ipv6DaclName\": \"wg-infusion-pump-v6\""));
    CHECK_THAT(nac_cisco_file(r, "ise/authorizationprofile/wardgate-quarantine.json"),
               Catch::Contains("\"nameID\": \"999\""));
    CHECK_THAT(nac_cisco_file(r, "ise/authorization-policy.txt"),
               Catch::Contains("Endpoint Identity Groups:wardgate-infusion-pump-vlan110") &&
                   Catch::Contains("Profile:   wardgate-quarantine (VLAN 999"));
}

TEST_CASE("ise: unknown = reject needs no quarantine profile and ends in DenyAccess", "[nac]") {
    auto files = nac_cisco_site();
    auto& text = files["site.toml"];
    text.replace(text.find("quarantine_vlan = 999"), 21, "unknown = \"reject\"");
    TempSite site(files);
    auto r = nac_cisco_render(site.dir(), "ise");
    for (const auto& f : r.files) CHECK(f.filename.find("quarantine") == std::string::npos);
    CHECK_THAT(nac_cisco_file(r, "ise/authorization-policy.txt"), Catch::Contains("Profile:   DenyAccess"));
}

TEST_CASE("ise: a device that moves segment changes only its own endpoint row", "[nac]") {
    auto files = nac_cisco_site();
    TempSite before(files);
    std::string& devices = files["devices.toml"];
    devices.replace(devices.find("10.110.0.22"), 11, "10.200.0.22");
    devices.replace(devices.find(", \"fd00:110::22\""), 16, "");
    devices.replace(devices.find("segment = \"icu\"", devices.find("pump-02")), 15, "segment = \"workstations\"");
    TempSite after(files);
    auto split = [](const std::string& text) {
        std::vector<std::string> lines;
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        return lines;
    };
    auto a = split(nac_cisco_file(nac_cisco_render(before.dir(), "ise"), "ise/endpoints.csv"));
    auto b = split(nac_cisco_file(nac_cisco_render(after.dir(), "ise"), "ise/endpoints.csv"));
    REQUIRE(a.size() == b.size());
    CHECK(a.front() == "MACAddress,EndPointPolicy,IdentityGroup,Description,StaticAssignment,StaticGroupAssignment");
    size_t changed = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == b[i]) continue;
        ++changed;
        CHECK_THAT(a[i], Catch::StartsWith("00:0A:F7:41:80:02,,wardgate-infusion-pump-vlan110,"));
        CHECK_THAT(b[i], Catch::StartsWith("00:0A:F7:41:80:02,,wardgate-infusion-pump-vlan200,"));
    }
    CHECK(changed == 1);
}

TEST_CASE("each target writes MACs in its platform's form, and Filter-Id as Cisco reads it", "[nac]") {
    TempSite site(nac_cisco_site());
    Pipeline p = pipeline_for(site.dir(), kNacCiscoToday);
    auto radius = render_nac(*p.site, p.policy, "freeradius", default_template_dir());
    CHECK_THAT(nac_cisco_file(radius, "mods-config/files/authorize"),
               Catch::Contains("000af7418001\tCleartext-Password := \"000af7418001\"") &&
                   Catch::Contains("Filter-Id = \"wg-infusion-pump.in\""));
    auto ise = render_nac(*p.site, p.policy, "ise", default_template_dir());
    CHECK_THAT(nac_cisco_file(ise, "ise/endpoints.csv"), Catch::Contains("\n00:0A:F7:41:80:01,,") &&
                                                             Catch::Contains("\n00:0B:00:00:00:11,,"));
    auto ios = render_nac(*p.site, p.policy, "ios-access", default_template_dir());
    const auto& config = nac_cisco_file(ios, "ios-access/switch.cfg");
    CHECK_THAT(config, Catch::Contains("Filter-Id wg-infusion-pump.in"));
    CHECK(config.find("000af7418001") == std::string::npos);
    CHECK_THROWS_AS(render_nac(*p.site, "ise", default_template_dir()), std::invalid_argument);
    CHECK_THROWS_AS(render_nac(*p.site, p.policy, "aruba", default_template_dir()), std::invalid_argument);
}

TEST_CASE("nac command: the Cisco targets, their options, unknown targets and --out", "[nac]") {
    TempSite site(nac_cisco_site());
    const std::string dir = site.dir().string();
    auto unknown = run_wardgate("nac " + dir + " --target aruba");
    CHECK(unknown.exit_code != 0);
    CHECK_THAT(unknown.err, Catch::Contains("aruba"));
    auto bad = run_wardgate("nac " + dir + " --target ios-access --coa-client 10.50.0.999");
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Catch::Contains("--coa-client") && Catch::Contains("expected an IP address"));

    auto ios = run_wardgate("nac " + dir + " --target ios-access --radius-group ise-psn --coa-client 10.50.0.70 --today " +
                            kNacCiscoToday);
    CHECK(ios.exit_code == 0);
    CHECK_THAT(ios.out, Catch::Contains("# ==> ios-access/switch.cfg <==") &&
                            Catch::Contains("aaa authentication dot1x default group ise-psn\n") &&
                            Catch::Contains("aaa server radius dynamic-author\n client 10.50.0.70\n"));
    CHECK_THAT(ios.err, Catch::Contains("warning: device \"ws-01\" has no MAC"));
    auto no_coa = run_wardgate("nac " + dir + " --target ios-access --today " + std::string(kNacCiscoToday));
    CHECK_THAT(no_coa.err, Catch::Contains("no --coa-client"));
    CHECK(no_coa.out.find("dynamic-author") == std::string::npos);

    for (const std::string target : {"ios-access", "ise"}) {
        TempDir out("nac-cisco-out");
        auto written = run_wardgate("nac " + dir + " --target " + target + " --today " + kNacCiscoToday + " --out " +
                                    out.path.string());
        CHECK(written.exit_code == 0);
        auto expected = nac_cisco_render(site.dir(), target);
        for (const auto& f : expected.files) {
            INFO(f.filename);
            REQUIRE(fs::exists(out.path / f.filename));
            if (target == "ise") CHECK(read_text(out.path / f.filename) == f.text);
            CHECK((fs::status(out.path / f.filename).permissions() & fs::perms::all) ==
                  (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
        }
    }
}
