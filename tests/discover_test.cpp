// wardgate discover: the hosts a capture shows that the inventory does not have, what they
// say about themselves, which profiles their behaviour matches, and the inventory's devices
// the capture never shows.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <filesystem>
#include <sstream>
#include <string>

#include "support/application_payloads.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/assess/discover.hpp"
#include "wardgate/core/csv.hpp"
#include "wardgate/plan/discover_report.hpp"
#include "wardgate/store/baseline_store.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

const char* kLuminaireMud = "https://luminaire.example.com/Luminaire_150";

// The small site, a lighting segment whose luminaires Cisco's MUD example describes, and one
// luminaire in the inventory.
std::map<std::string, std::string> discover_site_files() {
    auto files = small_site_files();
    files["site.toml"] += R"(
[[segment]]
name = "lighting"
kind = "devices"
vlan = 300
ipv4 = ["10.30.0.0/24"]

[[endpoint]]
name = "lighting-controller"
kind = "server"
role = "light-controller"
addresses = ["10.31.0.10"]

[[endpoint]]
name = "luminaire-cloud"
kind = "vendor-support"
addresses = ["203.0.113.0/28"]
vendor = "Cisco"
dns_names = ["fw-update.luminaire.example.com"]

[[mud]]
file = "mud/luminaire.json"
vendor = "Cisco"
model = "Luminaire"
[mud.map]
my-controller = "endpoint:lighting-controller"
local-networks = ["segment:lighting"]
)";
    files["devices.toml"] += R"(
[[device]]
name = "lum-01"
addresses = ["10.30.0.21"]
mac = "00:17:88:aa:00:01"
role = "luminaire"
vendor = "Cisco"
model = "Luminaire"
segment = "lighting"
lifecycle = "support"
)";
    return files;
}

Bytes dhcp_request(const std::array<uint8_t, 6>& mac, const std::string& hostname, const char* requested) {
    std::vector<Bytes> options{option(53, {3}), option(12, bytes_of(hostname)), option(55, {1, 3, 6, 15, 42}),
                               option(161, bytes_of(kLuminaireMud))};
    if (requested) options.push_back(option(50, address_bytes(requested)));
    return dhcp(1, options, mac);
}

// What the capture holds:
//  10.110.0.40  a pump the inventory lacks: drug library over HTTPS (answered) and NTP;
//  10.110.0.41  the same HTTPS, never answered: attempts are not behaviour;
//  10.120.0.50  a CT: a DICOM association to the PACS, calling itself CT07;
//  10.200.0.77  a remote desktop to a server no profile mentions, and a telnet probe to 10.110.0.99;
//  a luminaire asking DHCP for 10.30.0.40 with the MUD URL of the site's MUD file, and one
//  more luminaire's DHCPDISCOVER, before it has any address.
void write_capture(const fs::path& file) {
    std::vector<Frame> frames;
    auto add = [&](std::vector<Frame> more) { frames.insert(frames.end(), more.begin(), more.end()); };
    const Bytes hello = bytes_of("\x16\x03\x01 hello");
    add(tcp_exchange(443, hello, hello, true, 1000, "10.110.0.40", "10.50.0.20"));
    frames.push_back(udp_frame(1001, "10.110.0.40", 123, "10.50.0.5", 123, Bytes(48, 0x23)));
    frames.push_back(udp_frame(1001.01, "10.50.0.5", 123, "10.110.0.40", 123, Bytes(48, 0x24)));
    add(tcp_exchange(443, {}, {}, false, 1002, "10.110.0.41", "10.50.0.20"));
    add(tcp_exchange(104, associate(1, "PACS", "CT07", {"1.2.840.10008.5.1.4.1.1.2"}), associate(2, "PACS", "CT07", {}),
                     true, 1003, "10.120.0.50", "10.50.0.10"));
    add(tcp_exchange(3389, bytes_of("rdp?"), bytes_of("rdp!"), true, 1004, "10.200.0.77", "10.50.0.99"));
    add(tcp_exchange(23, {}, {}, false, 1005, "10.200.0.77", "10.110.0.99"));
    // A DICOM request to an address nobody answers from: the AE title it calls names nothing.
    add(tcp_exchange(104, associate(1, "GHOST", "CT07", {"1.2.840.10008.1.1"}), {}, false, 1005.5, "10.120.0.50",
                     "10.120.0.98"));
    frames.push_back(udp_frame(1006, "0.0.0.0", 68, "255.255.255.255", 67,
                               dhcp_request({0x00, 0x17, 0x88, 0x01, 0x02, 0x03}, "Lobby Light 3", "10.30.0.40")));
    frames.push_back(udp_frame(1007, "0.0.0.0", 68, "255.255.255.255", 67,
                               dhcp_request({0x00, 0x17, 0x88, 0x01, 0x02, 0x04}, "lobby-light-4", nullptr)));
    // The pump's own frames carry its MAC; every other frame the same locally administered
    // one, as a router's would: a MAC with that many addresses names none of them.
    set_source_mac(frames, "10.110.0.40", {0x00, 0x1b, 0x21, 0x00, 0x00, 0x40});
    std::sort(frames.begin(), frames.end(), [](const Frame& a, const Frame& b) { return a.time < b.time; });
    write_pcap(file, 1, frames);
}

struct DiscoverSite {
    TempSite site{discover_site_files()};
    DiscoverSite() {
        fs::create_directories(site.dir() / "mud");
        fs::copy_file(kSharedData + "/mud/cisco-luminaire.json", site.dir() / "mud/luminaire.json");
        fs::create_directories(site.dir() / "capture");
        write_capture(site.dir() / "capture/ward.pcap");
    }
    fs::path capture() const { return site.dir() / "capture/ward.pcap"; }
};

const DiscoveredHost* find_host(const Discovery& d, const char* address) {
    auto a = IpAddress::parse(address).value();
    for (const auto& h : d.hosts)
        if (h.address == a) return &h;
    return nullptr;
}

std::string site_segment_name(const Site& site, int segment) { return segment >= 0 ? site.segments[segment].name : ""; }

}  // namespace

TEST_CASE("discover: unknown hosts, the profiles their behaviour matches, and devices never seen", "[discover]") {
    DiscoverSite s;
    PipelineOptions opts;
    opts.today = *parse_date("2026-11-22");
    opts.extra_flows = {s.capture()};
    auto p = run_pipeline(s.site.dir(), opts);
    MacVendors vendors;
    vendors.add("001788", "Philips Lighting BV");
    vendors.add("001B21", "Intel Corporate");
    DiscoverOptions options;
    options.vendors = &vendors;
    const Discovery d = discover(*p.book, p.edges, p.sightings, p.macs, options);

    SECTION("a host that behaves like a known profile is proposed as one, with the role its peers have") {
        const auto* pump = find_host(d, "10.110.0.40");
        REQUIRE(pump);
        CHECK(pump->segment >= 0);
        REQUIRE(!pump->matches.empty());
        CHECK(pump->matches.front().profile->label() == "Acme Pump 1");
        CHECK(pump->matches.front().seen == 2);
        CHECK(pump->matches.front().required_seen == 2);
        CHECK(pump->matches.front().declared == 4);
        CHECK(pump->undeclared_by_any == 0);
        REQUIRE(pump->proposal.profile);
        CHECK(pump->proposal.vendor == "Acme");
        CHECK(pump->proposal.model == "Pump 1");
        CHECK(pump->proposal.role == "infusion-pump");
        CHECK(pump->proposal.segment == "icu");
        CHECK(pump->proposal.why == "did 2 of the 4 flows Acme Pump 1 declares (2 of 2 required)");
        CHECK(pump->identity.mac == "00:1b:21:00:00:40");  // from its frames
        CHECK(pump->identity.mac_from_frames);
    }
    SECTION("the same flows never answered are attempts: no profile, whatever a forged SYN claims") {
        const auto* attempt = find_host(d, "10.110.0.41");
        REQUIRE(attempt);
        CHECK(attempt->matches.empty());
        CHECK(attempt->proposal.profile == nullptr);
        CHECK(attempt->proposal.why == "matches no profile");
        REQUIRE(attempt->flows.size() == 1);
        CHECK_FALSE(attempt->flows[0].answered);
    }
    SECTION("a DICOM modality: its AE title names it, the CT profile fits") {
        const auto* ct = find_host(d, "10.120.0.50");
        REQUIRE(ct);
        CHECK(ct->identity.ae_titles == std::vector<std::string>{"CT07"});
        REQUIRE(ct->proposal.profile);
        CHECK(ct->proposal.profile->label() == "Imaging Co CT 9");
        CHECK(ct->proposal.role == "ct-scanner");
        CHECK(ct->proposal.name == "ct07");
        REQUIRE(ct->flows.size() == 2);  // to 10.120.0.98, never answered; to the PACS, answered (by peer name)
        CHECK(ct->flows[0].peer == "10.120.0.98");
        CHECK_FALSE(ct->flows[0].answered);
        CHECK(ct->flows[1].peer == "pacs");
        CHECK(ct->flows[1].answered);
        CHECK(ct->flows[1].applications == application_bit(Application::dicom));
    }
    SECTION("a host that matches no profile says so, and lists what it did") {
        const auto* ws = find_host(d, "10.200.0.77");
        REQUIRE(ws);
        CHECK(ws->matches.empty());
        CHECK(ws->proposal.profile == nullptr);
        CHECK(ws->undeclared_by_any == 1);  // the answered RDP; the telnet probe was never answered
        CHECK(ws->proposal.name == "host-10-200-0-77");
        CHECK(ws->proposal.segment == "workstations");
        CHECK(ws->identity.mac.empty());  // its frames came with the router-like MAC
    }
    SECTION("a luminaire announcing its MUD URL by DHCP is matched to the site's MUD profile") {
        const auto* lum = find_host(d, "10.30.0.40");
        REQUIRE(lum);
        CHECK(lum->identity.mud_url == kLuminaireMud);
        CHECK(lum->identity.hostname == "Lobby Light 3");
        CHECK(lum->identity.mac == "00:17:88:01:02:03");
        CHECK(lum->identity.mac_vendor == "Philips Lighting BV");
        CHECK(lum->identity.dhcp_parameters == "1,3,6,15,42");
        REQUIRE(lum->proposal.profile);
        CHECK(lum->proposal.profile->label() == "Cisco Luminaire");
        CHECK(lum->proposal.role == "luminaire");
        CHECK(lum->proposal.name == "lobby-light-3");
        CHECK(lum->proposal.segment == "lighting");
        CHECK(lum->proposal.why.starts_with("announces the MUD URL of the site's profile Cisco Luminaire"));
        REQUIRE(!lum->matches.empty());
        CHECK(lum->matches.front().announced);
    }
    SECTION("a DHCP client without an address yet is listed by its MAC") {
        REQUIRE(d.unaddressed.size() == 1);
        CHECK(d.unaddressed[0].identity.mac == "00:17:88:01:02:04");
        CHECK(d.unaddressed[0].identity.hostname == "lobby-light-4");
    }
    SECTION("an address only ever probed is not a host, whatever AE title a request called it by") {
        CHECK_FALSE(find_host(d, "10.110.0.99"));
        CHECK_FALSE(find_host(d, "10.120.0.98"));
        REQUIRE(d.silent.size() == 2);
        CHECK(d.silent[0] == IpAddress::parse("10.110.0.99").value());
        CHECK(d.silent[1] == IpAddress::parse("10.120.0.98").value());
    }
    SECTION("the inventory's devices the flows never show") {
        REQUIRE(d.unseen.size() == 1);
        CHECK(d.unseen[0]->name == "lum-01");
    }
    SECTION("known devices, endpoints and the internet are not proposed") {
        for (const char* known : {"10.110.0.21", "10.50.0.20", "10.50.0.10", "192.0.2.44", "255.255.255.255", "0.0.0.0"})
            CHECK_FALSE(find_host(d, known));
        CHECK(find_host(d, "10.50.0.99"));  // a server the site never named (also in the site's own flow log)
    }
    SECTION("the proposals load as devices.toml only once a person has filled the life-cycle stage") {
        const std::string proposed = discovery_toml(d, *p.site);
        auto table = toml::parse(proposed);
        auto* devices = table["device"].as_array();
        REQUIRE(devices);
        CHECK(devices->size() == d.hosts.size());
        s.site.write("proposed.toml", proposed);
        auto site_toml = read_text(s.site.dir() / "site.toml");
        site_toml.replace(site_toml.find("devices = [\"devices.toml\"]"), 26, "devices = [\"devices.toml\", \"proposed.toml\"]");
        s.site.write("site.toml", site_toml);
        auto r = run_wardgate("check " + s.site.dir().string());
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("proposed.toml") != std::string::npos);
        CHECK(r.err.find("lifecycle: missing") != std::string::npos);
    }
}

TEST_CASE("discover: the command's review table, TOML and CSV", "[discover][cli]") {
    DiscoverSite s;
    const std::string base = "discover " + s.site.dir().string() + " --today 2026-11-22 --flows " + s.capture().string();
    auto text = run_wardgate(base + " --ieee-data /nonexistent");
    REQUIRE(text.exit_code == 0);
    INFO(text.out);
    CHECK(text.out.starts_with("6 addresses the inventory does not have; 1 inventory device never seen\n"));
    CHECK(text.out.find("10.110.0.40 in segment icu, seen 1970-01-01T00:16:40Z to 1970-01-01T00:16:41Z\n"
                        "  says     MAC 00:1b:21:00:00:40 from its frames\n"
                        "  opens    tcp/443 to drug-library (1 connection)\n"
                        "           udp/123 to ntp (1 connection)\n"
                        "  profiles Acme Pump 1: 2 of 4 declared flows (2 of 2 required)\n"
                        "  propose  host-10-110-0-40: role infusion-pump, Acme Pump 1, segment icu; lifecycle to fill\n"
                        "           why: did 2 of the 4 flows Acme Pump 1 declares (2 of 2 required)\n") !=
          std::string::npos);
    CHECK(text.out.find("  opens    tcp/23 to 10.110.0.99 (1 connection, never answered)\n") != std::string::npos);
    CHECK(text.out.find("Never heard from (2): only sent to, never answered, so nothing shows a host there\n"
                        "  10.110.0.99 10.120.0.98\n") != std::string::npos);
    CHECK(text.out.find("  lum-01           10.30.0.21") != std::string::npos);
    CHECK(text.err.find("no IEEE MAC registry in /nonexistent") != std::string::npos);

    auto csv = run_wardgate(base + " --format csv");
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out.starts_with("name,addresses,mac,role,vendor,model,segment,lifecycle,evidence\n"));
    CHECK(csv.out.find("\nlobby-light-3,10.30.0.40,00:17:88:01:02:03,luminaire,Cisco,Luminaire,lighting,,") !=
          std::string::npos);

    auto again = run_wardgate(base + " --format csv");
    CHECK(again.out == csv.out);  // deterministic

    SECTION("JSON that its schema accepts") {
        auto json = run_wardgate(base + " --format json");
        REQUIRE(json.exit_code == 0);
        const auto file = s.site.dir() / "discover.json";
        s.site.write("discover.json", json.out);
        const std::string validate = "python3 " + kSourceDir + "/tests/support/validate_json.py " + kSourceDir +
                                     "/docs/schema/discover.schema.json " + file.string();
        CHECK(std::system(validate.c_str()) == 0);
        const auto j = nlohmann::json::parse(json.out);
        std::map<std::string, nlohmann::json> by_address;
        for (const auto& h : j["hosts"]) by_address[h["address"]] = h;
        REQUIRE(by_address.contains("10.110.0.40"));
        CHECK(by_address["10.110.0.40"]["identity"]["mac_source"] == "frames");
        CHECK(by_address["10.110.0.40"]["proposal"]["vendor"] == "Acme");
        CHECK(by_address["10.110.0.40"]["proposal"]["lifecycle"].is_null());
        CHECK(by_address["10.110.0.40"]["profiles"][0]["required_seen"] == 2);
        CHECK(by_address["10.30.0.40"]["identity"]["mac_source"] == "dhcp");
        CHECK(by_address["10.30.0.40"]["profiles"][0]["announced"] == true);
        CHECK(j["silent"] == nlohmann::json::array({"10.110.0.99", "10.120.0.98"}));
        CHECK(j["unseen"][0]["name"] == "lum-01");
    }
    SECTION("from the baseline store: the same hosts, MACs, DHCP clients and AE titles") {
        const std::string db = (s.site.dir() / "baseline.db").string();
        REQUIRE(run_wardgate("ingest --db " + db + " " + s.capture().string()).exit_code == 0);
        auto stored = run_wardgate("discover " + s.site.dir().string() + " --today 2026-11-22 --db " + db +
                                   " --ieee-data /nonexistent");
        REQUIRE(stored.exit_code == 0);
        CHECK(stored.out == text.out);
        BaselineStore store(db);
        const auto macs = store.macs();
        CHECK(std::any_of(macs.begin(), macs.end(), [](const MacSighting& m) {
            return m.address == IpAddress::parse("10.110.0.40").value() && mac_text(m.mac) == "00:1b:21:00:00:40";
        }));
        store.age_out(5000);  // after every frame of the capture
        CHECK(store.macs().empty());
    }
}

TEST_CASE("discover: a MAC's manufacturer from the IEEE registries, the longest assignment first", "[discover]") {
    MacVendors vendors;
    vendors.add("70B3D5", "IEEE Registration Authority");
    vendors.add("70B3D5719", "2M Technology");
    vendors.add("001B21", "Intel Corporate");
    CHECK(vendors.lookup("70:b3:d5:71:9a:bc") == "2M Technology");
    CHECK(vendors.lookup("70-B3-D5-72-00-01") == "IEEE Registration Authority");
    CHECK(vendors.lookup("00:1b:21:aa:bb:cc") == "Intel Corporate");
    CHECK(vendors.lookup("02:1b:21:aa:bb:cc").empty());  // locally administered: names nobody
    CHECK(vendors.lookup("00:1b:21").empty());

    SECTION("Debian's ieee-data listings") {
        auto real = MacVendors::load();
        REQUIRE(real.available());
        CHECK(real.lookup("00:17:88:01:02:03") == "Philips Lighting BV");
        CHECK(real.lookup("70:b3:d5:71:9a:bc") == "2M Technology");
    }
}

TEST_CASE("csv: a field a spreadsheet would run as a formula is defused", "[discover]") {
    CHECK(csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
    CHECK(csv_field("+1") == "'+1");
    CHECK(csv_field("@SUM(A1)") == "'@SUM(A1)");
    CHECK(csv_field("a,b") == "\"a,b\"");
    CHECK(csv_field("plain") == "plain");
}

TEST_CASE("discover: a real DHCP exchange names its client at the address the server gave, not the one it asked for",
          "[discover]") {
    // Zeek's DHCP test capture: the client asks for 192.168.211.194, is offered 128.2.6.97 and
    // acknowledged 128.2.6.189.
    auto files = small_site_files();
    files["site.toml"] += R"(
[[segment]]
name = "campus"
kind = "workstations"
vlan = 400
ipv4 = ["128.2.6.0/24"]
)";
    TempSite site(files);
    PipelineOptions opts;
    opts.today = *parse_date("2026-11-22");
    opts.extra_flows = {kSharedData + "/zeek/dhcp/dhcp.pcap"};
    auto p = run_pipeline(site.dir(), opts);
    const MacVendors vendors = MacVendors::load();
    DiscoverOptions options;
    options.vendors = &vendors;
    const Discovery d = discover(*p.book, p.edges, p.sightings, p.macs, options);
    const auto* client = find_host(d, "128.2.6.189");
    REQUIRE(client);
    CHECK(site_segment_name(*p.site, client->segment) == "campus");
    CHECK(client->identity.hostname == "btest.is.cool");
    CHECK(client->identity.mac == "90:b1:1c:99:49:29");
    CHECK(client->identity.mac_vendor == "Dell Inc.");
    CHECK(client->identity.vendor_class.empty());  // "ArubaAP" came in the server's replies
    CHECK(client->proposal.name == "btest-is-cool");
    CHECK_FALSE(find_host(d, "192.168.211.194"));
    CHECK(d.unaddressed.empty());
}

TEST_CASE("discover: the README's examples are what the command prints", "[discover][cli]") {
    const std::string readme = read_text(kSourceDir + "/README.md");
    auto block_after = [&](const std::string& marker) {
        auto at = readme.find(marker);
        REQUIRE(at != std::string::npos);
        // A command line starts its block; a sentence comes before the block's fence.
        if (!marker.starts_with("$ ")) at = readme.find("```", at);
        at = readme.find('\n', at) + 1;
        return readme.substr(at, readme.find("```", at) - at);
    };
    auto every_line_in = [](const std::string& block, const std::string& out) {
        std::istringstream lines(block);
        int compared = 0;
        for (std::string line; std::getline(lines, line);) {
            if (line == "..." || line.empty()) continue;
            INFO(line);
            CHECK(out.find(line + "\n") != std::string::npos);
            ++compared;
        }
        CHECK(compared > 8);
    };
    auto example = run_wardgate("discover " + kExampleSite);
    REQUIRE(example.exit_code == 0);
    every_line_in(block_after("$ build/wardgate discover policies/example-hospital"), example.out);

    DiscoverSite s;
    auto tests = run_wardgate("discover " + s.site.dir().string() + " --today 2026-11-22 --flows " + s.capture().string());
    REQUIRE(tests.exit_code == 0);
    every_line_in(block_after("A host that behaves like a known model reads like this"), tests.out);
}
