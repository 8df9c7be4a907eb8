// Bad input: every error names file, line and field, the command exits 1 and writes nothing.
#include <catch2/catch.hpp>

#include "support/temp_site.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/site/load.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

struct BadCase {
    const char* name;
    const char* file;        // file to replace
    std::string find, replace;  // edit applied to the default content
    const char* want_file;
    int want_line;
    const char* want_field;
    const char* want_message;  // substring
};

std::string edited(const std::string& file, const std::string& find, const std::string& replace) {
    auto files = small_site_files();
    std::string text = files.at(file);
    auto pos = text.find(find);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, find.size(), replace);
    return text;
}

Diagnostic first_error(const TempSite& site) {
    try {
        PipelineOptions opts;
        opts.today = *parse_date("2026-11-22");
        run_pipeline(site.dir(), opts);
    } catch (const InputError& e) {
        REQUIRE_FALSE(e.diagnostics().empty());
        return e.diagnostics().front();
    }
    FAIL("expected an InputError");
    return {};
}

}  // namespace

TEST_CASE("each kind of bad site input is reported with file, line and field", "[site][errors]") {
    const std::vector<BadCase> cases = {
        {"bad CIDR", "site.toml", R"(ipv4 = ["10.120.0.0/24"])", R"(ipv4 = ["10.120.0.0/33"])", "site.toml", 19,
         "segment.ipv4", "\"10.120.0.0/33\" is not an IP address or prefix"},
        {"host bits in a CIDR", "site.toml", R"(ipv4 = ["10.120.0.0/24"])", R"(ipv4 = ["10.120.0.7/24"])", "site.toml",
         19, "segment.ipv4", "host bits zero"},
        {"port 70000", "profiles/imaging-ct-9.toml", "ports = [104, ", "ports = [70000, ",
         "profiles/imaging-ct-9.toml", 8, "flow.ports", "expected a port 0-65535"},
        {"reversed port range", "profiles/imaging-ct-9.toml", "\"11112-11113\"", "\"11113-11112\"",
         "profiles/imaging-ct-9.toml", 8, "flow.ports", "got 11113-11112"},
        {"unknown segment", "devices.toml", "segment = \"radiology\"", "segment = \"radiologie\"", "devices.toml", 32,
         "device.segment", "unknown segment \"radiologie\""},
        {"duplicate device name", "devices.toml", "name = \"pump-02\"", "name = \"pump-01\"", "devices.toml", 12,
         "device.name", "duplicate device name \"pump-01\" (first defined at devices.toml:1)"},
        {"two devices with one address", "devices.toml", R"(addresses = ["10.110.0.22"])",
         R"(addresses = ["10.110.0.21"])", "devices.toml", 12, "device.addresses",
         "10.110.0.21 of device \"pump-02\" is already the address of device \"pump-01\""},
        {"profile refers to an unknown role", "profiles/imaging-ct-9.toml", "peer = \"role:pacs\"",
         "peer = \"role:paks\"", "profiles/imaging-ct-9.toml", 4, "flow.peer", "unknown role \"paks\""},
        {"address outside its segment", "devices.toml", R"(addresses = ["10.120.0.11"])",
         R"(addresses = ["10.121.0.11"])", "devices.toml", 32, "device.addresses",
         "10.121.0.11 of device \"ct-01\" is outside segment \"radiology\""},
        {"VLAN out of range", "site.toml", "vlan = 120", "vlan = 5000", "site.toml", 18, "segment.vlan",
         "expected 1-4094, got 5000"},
        {"unknown life-cycle stage", "devices.toml", "lifecycle = \"limited-support\"", "lifecycle = \"legacy\"",
         "devices.toml", 40, "device.lifecycle", "expected support, limited-support or end-of-support"},
        {"misspelt field", "profiles/imaging-ct-9.toml", "protocol = \"tcp\"", "protocol = \"tcp\"\nprotcol = \"udp\"",
         "profiles/imaging-ct-9.toml", 8, "flow.protcol", "unknown field"},
        {"malformed TOML", "policy.toml", "[[approval]]\nid = \"CHG-1\"", "[[approval]]\nid = \"CHG-1", "policy.toml", 17,
         "", "TOML syntax error"},
        {"bad date", "policy.toml", "expires = 2027-01-31", "expires = \"31/01/2027\"", "policy.toml", 24,
         "approval.expires", "expected a date YYYY-MM-DD"},
        {"icmp with ports", "profiles/imaging-ct-9.toml", "protocol = \"tcp\"", "protocol = \"icmp\"",
         "profiles/imaging-ct-9.toml", 8, "flow.ports", "icmp has no ports"},
        {"bad peer", "policy.toml", "to = \"role:ct-scanner\"", "to = \"ct-scanner\"", "policy.toml", 29,
         "approval.to", "expected any, role:NAME"},
        {"unknown device in an approval", "policy.toml", "from = \"device:ws-01\"\nto = \"role:infusion-pump\"",
         "from = \"device:ws-99\"\nto = \"role:infusion-pump\"", "policy.toml", 16, "approval.from",
         "unknown device \"ws-99\""},
        {"overlapping segments", "site.toml", R"(ipv4 = ["10.200.0.0/24"])", R"(ipv4 = ["10.110.0.128/25"])",
         "site.toml", 28, "segment.ipv4", "10.110.0.128/25 overlaps 10.110.0.0/24 of segment \"icu\""},
        {"truncated conn.log line", "flows/conn.log", "1763683900.000000\tC8\t10.200.0.31\t40008\t10.110.0.23\t8080\ttcp\t-\t1.0\t10\t10\tS0\n",
         "1763683900.000000\tC8\t10.200.0.31\t40008\t10.110\n", "flows/conn.log", 11, "id.resp_p", "truncated row: 5 of 12 fields"},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            TempSite site({{c.file, edited(c.file, c.find, c.replace)}});
            auto before = site.snapshot();
            Diagnostic d = first_error(site);
            INFO(d.to_string());
            CHECK(std::filesystem::path(d.file).filename() == std::filesystem::path(c.want_file).filename());
            CHECK(d.line == c.want_line);
            if (std::string(c.want_field).size()) CHECK(d.field == c.want_field);
            CHECK_THAT(d.message, Catch::Contains(c.want_message));

            auto r = run_wardgate("plan " + site.dir().string() + " --save --today 2026-11-22");
            CHECK(r.exit_code == 1);
            CHECK_THAT(r.err, Catch::Contains(c.want_file));
            CHECK(r.out.empty());
            CHECK(site.snapshot() == before);  // no state file, nothing half-written
        }
    }
}

TEST_CASE("CSV asset exports: unknown columns ignored, missing required columns named", "[site][errors]") {
    auto site_toml = small_site_files().at("site.toml");
    site_toml.replace(site_toml.find(R"(devices = ["devices.toml"])"), 26, R"(devices = ["devices.toml", "assets.csv"])");
    SECTION("a good export loads, extra columns and all") {
        TempSite site({{"site.toml", site_toml},
                       {"assets.csv", "Name,IP,Role,Vendor,Model,Segment,Lifecycle,asset_tag,fda_class\n"
                                      "pump-09,10.110.0.29;fd00:110::29,infusion-pump,Acme,Pump 1,icu,support,AT-77,II\n"
                                      "\"ct-02\",10.120.0.12,ct-scanner,Imaging Co,CT 9,radiology,end-of-support,\"AT, 78\",III\n"}});
        Site s = load_site(site.dir());
        const Device* pump = s.find_device("pump-09");
        REQUIRE(pump);
        CHECK(pump->addresses.size() == 2);
        CHECK(pump->fda_class == FdaClass::II);
        CHECK(pump->origin.file == "assets.csv");
        CHECK(pump->origin.line == 2);
        REQUIRE(s.find_device("ct-02"));
        CHECK(s.find_device("ct-02")->lifecycle == Lifecycle::end_of_support);
    }
    SECTION("a missing required column is an error naming it") {
        TempSite site({{"site.toml", site_toml},
                       {"assets.csv", "name,ip,role,vendor,model,lifecycle\npump-09,10.110.0.29,infusion-pump,Acme,Pump 1,support\n"}});
        try {
            load_site(site.dir());
            FAIL("expected an error");
        } catch (const InputError& e) {
            REQUIRE(e.diagnostics().size() == 1);
            CHECK(e.diagnostics()[0].file == "assets.csv");
            CHECK(e.diagnostics()[0].line == 1);
            CHECK(e.diagnostics()[0].field == "segment");
            CHECK(e.diagnostics()[0].message == "required column missing from the header row");
        }
    }
    SECTION("a bad value names its row and column") {
        TempSite site({{"site.toml", site_toml},
                       {"assets.csv", "name,ip,role,vendor,model,segment,lifecycle\n"
                                      "pump-09,10.110.0.29,infusion-pump,Acme,Pump 1,icu,support\n"
                                      "pump-10,10.110.0.300,infusion-pump,Acme,Pump 1,icu,support\n"}});
        try {
            load_site(site.dir());
            FAIL("expected an error");
        } catch (const InputError& e) {
            CHECK(e.diagnostics()[0].to_string() == "assets.csv:3: addresses: \"10.110.0.300\" is not an IP address");
        }
    }
}

TEST_CASE("value errors in several files are reported together", "[site][errors]") {
    auto devices = small_site_files().at("devices.toml");
    devices.replace(devices.find("fda_class = \"II\""), 16, "fda_class = \"IV\"");
    auto profile = small_site_files().at("profiles/imaging-ct-9.toml");
    profile.replace(profile.find("ports = [104, "), 14, "ports = [99999, ");
    TempSite site({{"devices.toml", devices}, {"profiles/imaging-ct-9.toml", profile}});
    try {
        load_site(site.dir());
        FAIL("expected an error");
    } catch (const InputError& e) {
        REQUIRE(e.diagnostics().size() == 2);
        CHECK(e.diagnostics()[0].to_string() == "devices.toml:8:13: device.fda_class: expected I, II, III or none, got \"IV\"");
        CHECK(e.diagnostics()[1].field == "flow.ports");
    }
}
