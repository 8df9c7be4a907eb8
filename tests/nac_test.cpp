// wardgate nac --target freeradius: golden files for the example site, the [nac] table's
// errors, the warnings for devices that get no entry, and the generated files loaded into a real
// FreeRADIUS server answering MAC authentication bypass requests sent with radclient.
//     WARDGATE_UPDATE_GOLDEN=1 ./build/tests/wardgate_tests "[nac][golden]"
// rewrites the golden files after an intended change.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/freeradius_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/render/nac.hpp"
#include "wardgate/site/load.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kNacToday = "2026-11-22";

NacResult nac_render_site(const fs::path& dir) {
    Site site = load_site(dir);
    raise_stages_by_date(site, *parse_date(kNacToday));
    return render_nac(site, "freeradius", default_template_dir());
}

const std::string& nac_file(const NacResult& r, const std::string& name) {
    for (const auto& f : r.files)
        if (f.filename == name) return f.text;
    FAIL("no file " << name);
    static const std::string none;
    return none;
}

// A small site for NAC: radiology has no VLAN, end-of-support devices go to VLAN 666.
std::map<std::string, std::string> nac_site_files(const std::string& nac_table) {
    auto files = small_site_files();
    std::string site = files.at("site.toml");
    site.replace(site.find("vlan = 120\n"), 11, "");
    files["site.toml"] = site + "\n" + nac_table;
    files["policy.toml"] = "[stance.end-of-support]\nvlan = 666\n";
    files["devices.toml"] = R"([[device]]
name = "pump-01"
addresses = ["10.110.0.21"]
mac = "00:0a:f7:41:80:01"
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
lifecycle = "support"

[[device]]
name = "pump-02"
addresses = ["10.110.0.22"]
mac = "00-0A-F7-41-80-02"
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
lifecycle = "end-of-support"

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

Diagnostic nac_first_error(const std::string& nac_table) {
    TempSite site(nac_site_files(nac_table));
    try {
        load_site(site.dir());
    } catch (const InputError& e) {
        REQUIRE_FALSE(e.diagnostics().empty());
        return e.diagnostics().front();
    }
    FAIL("the site loaded");
    return {};
}

// The block of one device in the authorize file: its comment line up to the blank line.
std::string nac_entry_of(const std::string& authorize, const std::string& device) {
    auto start = authorize.find("# " + device + ":");
    if (start == std::string::npos) return "";
    auto end = authorize.find("\n\n", start);
    return authorize.substr(start, end == std::string::npos ? std::string::npos : end - start);
}


}  // namespace

TEST_CASE("nac freeradius files of the example site match their golden files", "[nac][golden]") {
    auto r = nac_render_site(kExampleSite);
    REQUIRE(r.files.size() == 2);
    for (const auto& f : r.files) {
        auto path = fs::path(kSourceDir) / "tests" / "golden" / "nac" / "example-hospital" / f.filename;
        const char* update = std::getenv("WARDGATE_UPDATE_GOLDEN");
        if (update && std::string(update) == "1") {
            fs::create_directories(path.parent_path());
            std::ofstream(path, std::ios::binary) << f.text;
            continue;
        }
        REQUIRE(fs::exists(path));
        INFO(path.string());
        CHECK(read_text(path) == f.text);
    }
    CHECK(r.warnings.empty());
    // Same inputs, byte-identical files.
    auto again = nac_render_site(kExampleSite);
    for (size_t i = 0; i < r.files.size(); ++i) CHECK(again.files[i].text == r.files[i].text);
}

TEST_CASE("the nac table needs a quarantine VLAN or unknown = reject, errors name file and line", "[nac]") {
    struct Case {
        std::string table;
        int line;  // within the [nac] table appended to site.toml: 1 is the [nac] line
        std::string field, message;
    };
    const std::vector<Case> cases{
        {"[nac]\n", 1, "nac.quarantine_vlan", "unknown MACs need a quarantine_vlan, or unknown = \"reject\""},
        {"[nac]\nunknown = \"reject\"\nquarantine_vlan = 999\n", 2, "nac.unknown", "contradict each other"},
        {"[nac]\nunknown = \"drop\"\n", 2, "nac.unknown", "expected reject or quarantine, got \"drop\""},
        {"[nac]\nquarantine_vlan = 5000\n", 2, "nac.quarantine_vlan", "5000"},
        {"[nac]\nquarantine_vlan = 999\nvlan = 3\n", 3, "nac.vlan", ""},
        {"[nac]\nunknown = \"quarantine\"\n", 1, "nac.quarantine_vlan", "need a quarantine_vlan"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.table) {
            auto text = nac_site_files(c.table).at("site.toml");
            const int nac_line = static_cast<int>(std::count(text.begin(), text.begin() + text.find("[nac]"), '\n')) + 1;
            Diagnostic d = nac_first_error(c.table);
            CHECK(d.file == "site.toml");
            CHECK(d.line == nac_line + c.line - 1);
            CHECK(d.field == c.field);
            CHECK_THAT(d.message, Catch::Contains(c.message));
        }
    }
}

TEST_CASE("nac entries: segment VLAN, stance VLAN, and warnings for devices without MAC or VLAN", "[nac]") {
    TempSite site(nac_site_files("[nac]\nunknown = \"reject\"\n"));
    auto r = nac_render_site(site.dir());
    const auto& authorize = nac_file(r, "mods-config/files/authorize");
    CHECK(nac_entry_of(authorize, "pump-01") ==
          "# pump-01: role infusion-pump, support, VLAN of segment icu\n"
          "000af7418001\tCleartext-Password := \"000af7418001\"\n"
          "\tTunnel-Type = VLAN,\n"
          "\tTunnel-Medium-Type = IEEE-802,\n"
          "\tTunnel-Private-Group-Id = \"110\",\n"
          "\tFilter-Id = \"wg-infusion-pump.in\"");
    CHECK_THAT(nac_entry_of(authorize, "pump-02"), Catch::Contains("VLAN of stance end-of-support") &&
                                                       Catch::Contains("Tunnel-Private-Group-Id = \"666\""));
    CHECK(nac_entry_of(authorize, "ct-01").empty());
    CHECK(nac_entry_of(authorize, "ws-01").empty());
    CHECK_THAT(authorize, Catch::Contains("DEFAULT\tUser-Name =~ \"^[0-9a-f]{12}$\", Auth-Type := Reject\n"));
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[0] == "device \"ct-01\": segment \"radiology\" has no VLAN: no entry, it is treated as an unknown device");
    CHECK(r.warnings[1] == "device \"ws-01\" has no MAC: no entry, it is treated as an unknown device");

    // The command says the same on standard error; check shows the missing MAC with its line.
    auto nac = run_wardgate("nac " + site.dir().string() + " --target freeradius --today " + kNacToday);
    CHECK(nac.exit_code == 0);
    CHECK_THAT(nac.err, Catch::Contains("warning: device \"ws-01\" has no MAC") &&
                            Catch::Contains("warning: device \"ct-01\": segment \"radiology\" has no VLAN"));
    CHECK_THAT(nac.out, Catch::Contains("# ==> mods-config/files/authorize <==") &&
                            Catch::Contains("# ==> policy.d/wardgate <=="));
    // --out writes both files where FreeRADIUS's own user can read them.
    TempDir out("nac-out");
    auto written = run_wardgate("nac " + site.dir().string() + " --target freeradius --out " + out.path.string());
    CHECK(written.exit_code == 0);
    for (const auto& f : r.files) {
        CHECK(read_text(out.path / f.filename) == f.text);
        CHECK((fs::status(out.path / f.filename).permissions() & fs::perms::others_read) == fs::perms::others_read);
    }
    auto check = run_wardgate("check " + site.dir().string() + " --today " + kNacToday);
    CHECK_THAT(check.out, Catch::Contains("devices.toml:31: device.mac: device \"ws-01\" has no MAC"));
}

TEST_CASE("a quarantine VLAN answers every unknown MAC", "[nac]") {
    TempSite site(nac_site_files("[nac]\nquarantine_vlan = 999\n"));
    auto authorize = nac_file(nac_render_site(site.dir()), "mods-config/files/authorize");
    CHECK_THAT(authorize, Catch::EndsWith("# Any other MAC: a device the site does not list.\n"
                                          "DEFAULT\tUser-Name =~ \"^[0-9a-f]{12}$\", Auth-Type := Accept\n"
                                          "\tTunnel-Type = VLAN,\n"
                                          "\tTunnel-Medium-Type = IEEE-802,\n"
                                          "\tTunnel-Private-Group-Id = \"999\"\n"));
}

TEST_CASE("moving one device to another segment changes only that device's entry", "[nac]") {
    auto files = nac_site_files("[nac]\nquarantine_vlan = 999\n");
    TempSite before(files);
    std::string& devices = files["devices.toml"];
    devices.replace(devices.find("10.110.0.21"), 11, "10.200.0.21");
    devices.replace(devices.find("segment = \"icu\""), 15, "segment = \"workstations\"");
    TempSite after(files);
    auto a = nac_file(nac_render_site(before.dir()), "mods-config/files/authorize");
    auto b = nac_file(nac_render_site(after.dir()), "mods-config/files/authorize");
    std::string entry_a = nac_entry_of(a, "pump-01"), entry_b = nac_entry_of(b, "pump-01");
    CHECK_THAT(entry_b, Catch::Contains("VLAN of segment workstations") && Catch::Contains("\"200\""));
    REQUIRE(a.find(entry_a) == b.find(entry_b));
    CHECK(a.substr(0, a.find(entry_a)) == b.substr(0, b.find(entry_b)));
    CHECK(a.substr(a.find(entry_a) + entry_a.size()) == b.substr(b.find(entry_b) + entry_b.size()));
}

TEST_CASE("FreeRADIUS loads the files and answers MAB requests in every MAC format", "[nac][freeradius]") {
    REQUIRE(std::system("command -v freeradius >/dev/null && command -v radclient >/dev/null") == 0);
    TempDir tmp("nac-radius");
    auto config = tmp.path / "raddb";
    int port = free_udp_ports(5);
    write_radius_config(config, nac_render_site(kExampleSite).files, port);
    auto check = tmp.path / "check.log";
    INFO(read_text(check));
    REQUIRE(std::system(("freeradius -C -d " + config.string() + " >" + check.string() + " 2>&1").c_str()) == 0);
    FreeRadiusServer server(config, tmp.path / "radiusd.log");
    INFO(server.log());
    REQUIRE(server.ready());

    const std::string pump = "Access-Accept\n"
                             "Tunnel-Type:0 = VLAN\n"
                             "Tunnel-Medium-Type:0 = IEEE-802\n"
                             "Tunnel-Private-Group-Id:0 = \"110\"\n"
                             "Filter-Id = \"wg-infusion-pump.in\"\n";
    for (const char* mac : {"000af7418001", "00-0A-F7-41-80-01", "00:0a:f7:41:80:01", "00:0A:F7:41:80:01", "000a.f741.8001"})
        CHECK(radclient_mab(tmp.path, port, mac) == pump);
    CHECK(radclient_mab(tmp.path, port, "00-60-35-C0-00-01") == "Access-Accept\n"
                                                     "Tunnel-Type:0 = VLAN\n"
                                                     "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                     "Tunnel-Private-Group-Id:0 = \"130\"\n"
                                                     "Filter-Id = \"wg-lab-analyzer.in\"\n");
    CHECK(radclient_mab(tmp.path, port, "00:1B:1B:C7:00:11") == "Access-Accept\n"
                                                     "Tunnel-Type:0 = VLAN\n"
                                                     "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                     "Tunnel-Private-Group-Id:0 = \"120\"\n"
                                                     "Filter-Id = \"wg-imaging-modality.in\"\n");
    // A MAC no device has: the example site's quarantine VLAN, no access list.
    CHECK(radclient_mab(tmp.path, port, "02:00:00:00:00:99") == "Access-Accept\n"
                                                     "Tunnel-Type:0 = VLAN\n"
                                                     "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                     "Tunnel-Private-Group-Id:0 = \"999\"\n");
}

TEST_CASE("FreeRADIUS rejects unknown MACs with unknown = reject and honours the stance VLAN", "[nac][freeradius]") {
    REQUIRE(std::system("command -v freeradius >/dev/null && command -v radclient >/dev/null") == 0);
    TempSite site(nac_site_files("[nac]\nunknown = \"reject\"\n"));
    TempDir tmp("nac-radius-reject");
    auto config = tmp.path / "raddb";
    int port = free_udp_ports(5);
    write_radius_config(config, nac_render_site(site.dir()).files, port);
    REQUIRE(std::system(("freeradius -C -d " + config.string() + " >/dev/null 2>&1").c_str()) == 0);
    FreeRadiusServer server(config, tmp.path / "radiusd.log");
    INFO(server.log());
    REQUIRE(server.ready());
    CHECK(radclient_mab(tmp.path, port, "00-0A-F7-41-80-02") == "Access-Accept\n"
                                                     "Tunnel-Type:0 = VLAN\n"
                                                     "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                     "Tunnel-Private-Group-Id:0 = \"666\"\n"
                                                     "Filter-Id = \"wg-infusion-pump.in\"\n");
    // ct-01's segment has no VLAN, so it has no entry: an unknown device.
    for (const char* mac : {"00:0b:00:00:00:11", "02:00:00:00:00:99"})
        CHECK(radclient_mab(tmp.path, port, mac) == "Access-Reject\nReply-Message = \"wardgate: unknown device\"\n");
}

TEST_CASE("one MAC on two devices, however spelt, is an error naming the second device's line", "[nac]") {
    auto files = nac_site_files("[nac]\nunknown = \"reject\"\n");
    std::string& devices = files["devices.toml"];
    devices.replace(devices.find("00:0b:00:00:00:11"), 17, "000A.F741.8001");
    TempSite site(files);
    try {
        load_site(site.dir());
        FAIL("the site loaded");
    } catch (const InputError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        const auto& d = e.diagnostics().front();
        CHECK(d.file == "devices.toml");
        CHECK(d.line == 21);
        CHECK(d.field == "device.mac");
        CHECK(d.message == "MAC 00:0a:f7:41:80:01 of device \"ct-01\" is already the MAC of device \"pump-01\"");
    }
}
