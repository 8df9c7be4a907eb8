// Mistakes that used to be accepted without a word. Each either stops the run with a located
// error (exit 1, nothing written) or shows as a warning in check and plan (check --strict
// exits 2 on it).
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/capture_writer.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"

using namespace wardgate::testing;

namespace {

using Files = std::map<std::string, std::string>;

// The line of the last occurrence: what a case appends comes last.
int line_of(const std::string& text, const std::string& needle) {
    auto at = text.rfind(needle);
    REQUIRE(at != std::string::npos);
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// site.toml with extra [site] keys right after the name.
std::string site_with(const std::string& keys) {
    return replaced(small_site_files()["site.toml"], "name = \"Small Clinic\"\n", "name = \"Small Clinic\"\n" + keys);
}

std::string device(const std::string& name, const std::string& address, const std::string& extra = "") {
    return "\n[[device]]\nname = \"" + name + "\"\naddresses = [\"" + address +
           "\"]\nrole = \"infusion-pump\"\nvendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"icu\"\nlifecycle = "
           "\"support\"\n" + extra;
}

const std::string kCsvHeader = "name,addresses,role,vendor,model,segment,lifecycle\n";

struct ErrorCase {
    std::string name;
    Files files;
    std::string location;  // "file:line"
    std::string field;
    std::string message;
};

struct WarningCase {
    std::string name;
    Files files;
    std::vector<std::string> remove;  // files of the small site to delete
    std::string message;
    std::string today = "2026-11-22";
};

std::vector<ErrorCase> error_cases() {
    auto devices = small_site_files()["devices.toml"];
    auto policy = small_site_files()["policy.toml"];
    std::vector<ErrorCase> out;
    auto named = [&](const std::string& name, const std::string& keys, const std::string& field, const std::string& msg) {
        auto text = site_with(keys);
        out.push_back({name, {{"site.toml", text}}, "site.toml:" + std::to_string(line_of(text, keys)), field, msg});
    };
    named("a policy file that does not exist", "policy = \"polcy.toml\"\n", "site.policy",
          "\"polcy.toml\" does not exist: its approvals, denies and stances would be lost");
    named("a profiles folder that does not exist", "profiles = \"profile\"\n", "site.profiles",
          "\"profile\" does not exist: no manufacturer profile would be read");
    named("a policy that is a folder", "policy = \"profiles\"\n", "site.policy", "is not a regular file");
    {
        auto text = replaced(small_site_files()["site.toml"], "devices = [\"devices.toml\"]",
                             "devices = [\"devices.toml\",\n  \"asets.csv\"]");
        out.push_back({"a devices file that does not exist",
                       {{"site.toml", text}, {"assets.csv", kCsvHeader}},
                       "site.toml:" + std::to_string(line_of(text, "\"asets.csv\"")),
                       "site.devices",
                       "\"asets.csv\" does not exist (did you mean \"assets.csv\"?)"});
    }
    {
        auto text = replaced(small_site_files()["site.toml"], "flows = [\"flows/conn.log\"]",
                             "flows = [\"flows/conn.log\", \"flows/../flows/conn.log\"]");
        out.push_back({"the same flow file listed twice", {{"site.toml", text}},
                       "site.toml:" + std::to_string(line_of(text, "flows = [")), "site.flows", "is listed twice"});
        auto missing = replaced(small_site_files()["site.toml"], "flows = [\"flows/conn.log\"]",
                                "flows = [\"flows/con.log\"]");
        out.push_back({"a flow file that does not exist", {{"site.toml", missing}},
                       "site.toml:" + std::to_string(line_of(missing, "flows = [")), "site.flows",
                       "\"flows/con.log\" does not exist"});
    }
    auto with_device = [&](const std::string& name, const std::string& dev, const std::string& msg) {
        auto text = devices + dev;
        out.push_back({name, {{"devices.toml", text}},
                       "devices.toml:" + std::to_string(line_of(text, "name = \"pump-x\"") - 1), "device.addresses", msg});
    };
    with_device("a device at its segment's gateway address", device("pump-x", "10.110.0.1"),
                "10.110.0.1 of device \"pump-x\" is the gateway address of segment \"icu\"");
    with_device("a device at its segment's network address", device("pump-x", "10.110.0.0"),
                "is the network address of 10.110.0.0/24");
    with_device("a device at its segment's broadcast address", device("pump-x", "10.110.0.255"),
                "is the broadcast address of 10.110.0.0/24");
    {
        auto text = devices + device("pump-x", "10.110.0.77", "eol = 2025-01-01\neos = 2024-01-01\n");
        out.push_back({"end of support before end of life", {{"devices.toml", text}},
                       "devices.toml:" + std::to_string(line_of(text, "eos = 2024-01-01")), "eos",
                       "end of support 2024-01-01 is before end of life 2025-01-01"});
    }
    {
        auto text = small_site_files()["site.toml"] +
                    "\n[[endpoint]]\nname = \"wide\"\nkind = \"server\"\naddresses = [\"10.110.0.0/16\"]\n";
        out.push_back({"an endpoint that covers a whole device segment", {{"site.toml", text}},
                       "site.toml:" + std::to_string(line_of(text, "name = \"wide\"") - 1), "endpoint.addresses",
                       "10.110.0.0/16 of endpoint \"wide\" covers all of segment \"icu\""});
    }
    auto with_policy = [&](const std::string& name, const std::string& extra, const std::string& anchor,
                           const std::string& field, const std::string& msg) {
        auto text = policy + extra;
        out.push_back({name, {{"policy.toml", text}}, "policy.toml:" + std::to_string(line_of(text, anchor) - 1), field,
                       msg});
    };
    with_policy("port 0 in an approval",
                "\n[[approval]]\nid = \"CHG-ZERO\"\nfrom = \"device:ws-01\"\nto = \"endpoint:pacs\"\nprotocol = \"tcp\"\n"
                "ports = [0]\nby = \"x\"\nreason = \"y\"\n",
                "id = \"CHG-ZERO\"", "approval.ports", "port 0 is not a port a connection can use");
    {
        auto text = policy + "\n[[deny]]\nid = \"no-telnet\"\nfrom = \"any\"\nto = \"role:ct-scanner\"\nprotocol = \"tcp\"\n"
                             "ports = [23]\nreason = \"again\"\n";
        out.push_back({"two denies with one id", {{"policy.toml", text}},
                       "policy.toml:" + std::to_string(line_of(text, "to = \"role:ct-scanner\"") - 3), "deny.id",
                       "duplicate deny id \"no-telnet\""});
    }
    {
        auto profile = small_site_files()["profiles/imaging-ct-9.toml"] +
                       "\n[[flow]]\ndirection = \"device-initiated\"\npeer = \"role:pacs\"\nprotocol = \"udp\"\nports = [0]\n";
        out.push_back({"port 0 in a profile", {{"profiles/imaging-ct-9.toml", profile}},
                       "profiles/imaging-ct-9.toml:" + std::to_string(line_of(profile, "protocol = \"udp\"") - 3),
                       "flow.ports", "port 0 is not a port"});
    }
    auto csv_site = replaced(small_site_files()["site.toml"], "devices = [\"devices.toml\"]",
                             "devices = [\"devices.toml\", \"assets.csv\"]");
    out.push_back({"a CSV with both ip and addresses columns",
                   {{"site.toml", csv_site},
                    {"assets.csv", "name,ip,addresses,role,vendor,model,segment,lifecycle\n"
                                   "pump-x,10.110.0.77,10.110.0.78,infusion-pump,Acme,Pump 1,icu,support\n"}},
                   "assets.csv:1", "ip", "both \"ip\" and \"addresses\" columns"});
    out.push_back({"a CSV saved as UTF-16",
                   {{"site.toml", csv_site}, {"assets.csv", std::string("\xFF\xFEn\0a\0m\0e\0\n\0", 12)}},
                   "assets.csv:1", "", "the file is UTF-16 little-endian: save it as UTF-8 CSV"});
    out.push_back({"a CSV name that is not UTF-8",
                   {{"site.toml", csv_site},
                    {"assets.csv", kCsvHeader + "pump-\xE9x,10.110.0.77,infusion-pump,Acme,Pump 1,icu,support\n"}},
                   "assets.csv:2:6", "", "not valid UTF-8"});
    out.push_back({"a MAC address with a digit that is not hex in a CSV",
                   {{"site.toml", csv_site},
                    {"assets.csv", "name,addresses,mac,role,vendor,model,segment,lifecycle\n"
                                   "pump-x,10.110.0.77,00:60:35:c0:00:0g,infusion-pump,Acme,Pump 1,icu,support\n"}},
                   "assets.csv:2", "mac", "expected a MAC address (00:0a:f7:41:80:01"});
    auto with_mac = [&](const std::string& name, const std::string& mac, const std::string& msg) {
        auto text = devices + device("pump-x", "10.110.0.77", "mac = \"" + mac + "\"\n");
        out.push_back({name, {{"devices.toml", text}}, "devices.toml:" + std::to_string(line_of(text, "mac = ")),
                       "device.mac", msg});
    };
    with_mac("a MAC address with five octets", "00:0a:f7:41:80", "got \"00:0a:f7:41:80\"");
    with_mac("a multicast MAC address", "01:00:5e:00:00:fb", "01:00:5e:00:00:fb is a group (multicast) address");
    {
        auto text = replaced(devices, "name = \"pump-02\"\n", "name = \"pump-02\"\nmac = \"00-0A-F7-41-80-01\"\n") +
                    device("pump-x", "10.110.0.77", "mac = \"000a.f741.8001\"\n");
        out.push_back({"two devices with one MAC, written two ways", {{"devices.toml", text}},
                       "devices.toml:" + std::to_string(line_of(text, "name = \"pump-x\"") - 1), "device.mac",
                       "MAC 00:0a:f7:41:80:01 of device \"pump-x\" is already the MAC of device \"pump-02\""});
    }
    {
        auto text = devices + device("pump-x", "fd00:110::1");
        out.push_back({"a device at its segment's IPv6 gateway address",
                       {{"devices.toml", text},
                        {"site.toml", replaced(small_site_files()["site.toml"], "gateway4 = \"10.110.0.1\"",
                                               "gateway4 = \"10.110.0.1\"\ngateway6 = \"fd00:110::1\"")}},
                       "devices.toml:" + std::to_string(line_of(text, "name = \"pump-x\"") - 1), "device.addresses",
                       "fd00:110::1 of device \"pump-x\" is the gateway address of segment \"icu\""});
    }
    {
        auto text = small_site_files()["site.toml"] +
                    "\n[[endpoint]]\nname = \"outside\"\nkind = \"Internet\"\naddresses = [\"192.0.2.0/24\"]\n";
        out.push_back({"an endpoint of kind \"Internet\"", {{"site.toml", text}},
                       "site.toml:" + std::to_string(line_of(text, "kind = \"Internet\"")), "endpoint.kind",
                       "\"Internet\" may only hold a-z, 0-9, '-' and '_' (did you mean \"internet\"?)"});
    }
    // One edit of one file of the small site; the error is on the line the edit wrote.
    auto edited = [&](const std::string& name, const std::string& file, const std::string& from, const std::string& to,
                      const std::string& field, const std::string& msg) {
        auto text = replaced(small_site_files()[file], from, to);
        out.push_back({name, {{file, text}}, file + ":" + std::to_string(line_of(text, to)), field, msg});
    };
    edited("a VLAN written as a float", "site.toml", "vlan = 110", "vlan = 110.0", "segment.vlan",
           "expected an integer, got a float");
    edited("a port written as a float", "policy.toml", "ports = [8080]", "ports = [8080.5]", "approval.ports",
           "expected an integer, got a float");
    edited("an expiry date that no calendar has", "policy.toml", "expires = 2027-01-31", "expires = \"2027-02-30\"",
           "approval.expires", "expected a date YYYY-MM-DD");
    edited("a folder listed as a flow file", "site.toml", "flows = [\"flows/conn.log\"]", "flows = [\"flows\"]",
           "site.flows", "\"flows\" is not a regular file");
    // Flow logs that are not connections, or cannot be read at all.
    auto flows = [&](const std::string& name, const std::string& content, const std::string& location,
                     const std::string& field, const std::string& msg) {
        out.push_back({name, {{"flows/conn.log", content}}, location, field, msg});
    };
    flows("a Zeek dns.log listed as flows",
          "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\n"
          "1763683200.0\tC1\t10.110.0.21\t5353\t10.50.0.53\t53\tudp\tpacs.local\n",
          "flows/conn.log:2", "#path", "this is Zeek's \"dns\" log, not a conn log");
    flows("a Zeek http.log without #path",
          "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tmethod\turi\n"
          "1763683200.0\tC1\t10.110.0.21\t5353\t10.50.0.53\t80\ttcp\tGET\t/\n",
          "flows/conn.log:2", "#fields", "these are the fields of Zeek's http log, not of a conn log");
    flows("a Zeek JSON log whose _path is not conn",
          "{\"_path\":\"ssl\",\"ts\":1763683200.0,\"id.orig_h\":\"10.110.0.21\",\"id.resp_h\":\"10.50.0.20\",\"id.resp_p\":443,"
          "\"proto\":\"tcp\"}\n",
          "flows/conn.log:1", "_path", "this is Zeek's \"ssl\" log");
    flows("a Zeek JSON dns log",
          "{\"ts\":1763683200.0,\"id.orig_h\":\"10.110.0.21\",\"id.resp_h\":\"10.50.0.53\",\"id.resp_p\":53,"
          "\"proto\":\"udp\",\"query\":\"pacs.local\"}\n",
          "flows/conn.log:1", "", "these are the fields of Zeek's dns log");
    flows("a gzip-compressed log that is not gzip inside", std::string("\x1f\x8b\x08\x00garbage that is not deflate", 30),
          "flows/conn.log", "", "gzip-compressed file is damaged");
    flows("a gzip-compressed log cut after its header", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10),
          "flows/conn.log", "", "gzip-compressed file is cut short at compressed byte 10");
    {
        std::vector<Frame> frames = {{1.0, ethernet(0x0800, ipv4("10.110.0.21", "10.50.0.20", 17, udp(40000, 161, 10)))}};
        flows("a pcapng whose interfaces have different link types", pcapng_bytes({{1, 262144}, {113, 262144}}, frames, {0}),
              "flows/conn.log", "", "interface 1 has link type 113 (LINUX_SLL) and interface 0 link type 1 (EN10MB)");
    }
    {
        // [[gateway]] tables: each mistake located at its line and field.
        auto gateway = [&](const std::string& name, const std::string& table, const std::string& needle,
                           const std::string& field, const std::string& msg) {
            auto text = small_site_files()["site.toml"] + "\n[[gateway]]\n" + table;
            out.push_back({name, {{"site.toml", text}}, "site.toml:" + std::to_string(line_of(text, needle)), field, msg});
        };
        gateway("a gateway routing a segment that does not exist", "name = \"east\"\nsegments = [\"icu\", \"radiolgy\"]\n",
                "segments = [", "gateway.segments", "no [[segment]] is named \"radiolgy\" (did you mean \"radiology\"?)");
        gateway("a gateway without segments", "name = \"east\"\n", "[[gateway]]", "gateway.segments", "missing (required)");
        gateway("a gateway with an empty segment list", "name = \"east\"\nsegments = []\n", "segments = [",
                "gateway.segments", "must not be empty");
        gateway("a gateway listing a segment twice", "name = \"east\"\nsegments = [\"icu\", \"icu\"]\n", "segments = [",
                "gateway.segments", "\"icu\" is listed twice");
        gateway("a gateway name with a space", "name = \"east wing\"\nsegments = [\"icu\"]\n", "name = \"east wing\"",
                "gateway.name", "may only hold a-z, 0-9");
        gateway("a gateway declared twice",
                "name = \"east\"\nsegments = [\"icu\"]\n\n[[gateway]]\nname = \"east\"\nsegments = [\"radiology\"]\n",
                "name = \"east\"", "gateway.name", "gateway \"east\" is declared twice");
        gateway("a gateway trunk that is no interface name", "name = \"east\"\nsegments = [\"icu\"]\ntrunk = \"eth1/2\"\n",
                "trunk = ", "gateway.trunk", "\"eth1/2\" is no interface name");
        gateway("a gateway trunk too long to name its segments' VLAN links",
                "name = \"east\"\nsegments = [\"icu\"]\ntrunk = \"enx00e04c680001\"\n", "trunk = ", "gateway.trunk",
                "segment icu's VLAN link would be named \"enx00e04c680001.110\", longer than the kernel's 15 bytes");
        gateway("a misspelt gateway key", "name = \"east\"\nsegment = [\"icu\"]\n", "segment = [", "gateway.segment",
                "unknown field");
    }
    return out;
}

std::vector<WarningCase> warning_cases() {
    auto devices = small_site_files()["devices.toml"];
    auto policy = small_site_files()["policy.toml"];
    return {
        {"no policy file at all", {}, {"policy.toml"}, "no \"policy.toml\": default stances, no approvals and no explicit denies"},
        {"a profile whose suffix is not .toml",
         {{"profiles/imaging-ct-9.TOML", small_site_files()["profiles/imaging-ct-9.toml"]}},
         {"profiles/imaging-ct-9.toml"},
         "profiles/imaging-ct-9.TOML: not read: profiles are files ending in .toml"},
        {"a profile that matches no device because of the vendor's spelling",
         {{"profiles/imaging-ct-9.toml",
           replaced(small_site_files()["profiles/imaging-ct-9.toml"], "vendor = \"Imaging Co\"", "vendor = \"Imaging Co.\"")}},
         {},
         "the profile for \"Imaging Co. CT 9\" matches no device (did you mean \"Imaging Co CT 9\""},
        {"a device model spelled unlike its profile",
         {{"devices.toml", replaced(devices, "model = \"CT 9\"", "model = \"CT-9\"")}},
         {},
         "no profile for \"Imaging Co CT-9\" (1 device): did you mean the profile for \"Imaging Co CT 9\"?"},
        {"a supported device whose end of support has passed",
         {{"devices.toml", devices + device("pump-x", "10.110.0.77", "eos = 2025-12-31\n")}},
         {},
         "device \"pump-x\" is listed as support but its end of support was 2025-12-31: treated as end-of-support"},
        {"an approval that a deny overrides",
         {{"policy.toml", policy + "\n[[approval]]\nid = \"CHG-TEL\"\nfrom = \"device:ws-01\"\nto = \"device:pump-03\"\n"
                                   "protocol = \"tcp\"\nports = [23]\nby = \"x\"\nreason = \"console\"\n"}},
         {},
         "approval CHG-TEL by x (policy.toml:"},
        {"an approval that opens nothing",
         {{"policy.toml", policy + "\n[[approval]]\nid = \"CHG-NONE\"\nfrom = \"device:pump-01\"\nto = \"any\"\n"
                                   "protocol = \"tcp\"\nports = [9999]\nby = \"x\"\nreason = \"y\"\n"}},
         {},
         "approval CHG-NONE (policy.toml:"},
        {"an empty flow file", {{"flows/conn.log", ""}}, {}, "flows/conn.log: holds no flow records"},
        {"a conn.log without conn_state",
         {{"flows/conn.log", "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\n"
                             "1763683200.0\t10.110.0.21\t10.50.0.20\t443\ttcp\n"}},
         {},
         "flows/conn.log: line 2: no conn_state field: no connection counts as answered"},
        {"a conn.log still being written",
         {{"flows/conn.log", small_site_files()["flows/conn.log"] + "1763684000.000000\tC9\t10.110.0.21\t4"}},
         {},
         "flows/conn.log: line 12: the last line has no newline and does not read"},
        {"a capture cut short",
         {{"flows/conn.log",
           [] {
               std::vector<Frame> frames = {
                   {1763683200.0, ethernet(0x0800, ipv4("10.110.0.21", "10.50.0.20", 17, udp(40000, 161, 10)))},
                   {1763683201.0, ethernet(0x0800, ipv4("10.50.0.20", "10.110.0.21", 17, udp(161, 40000, 10)))}};
               TempDir tmp("cut-capture");
               auto whole = read_text(write_pcap(tmp.path / "c.pcap", 1, frames));
               return whole.substr(0, whole.size() - 7);
           }()}},
         {},
         "flows/conn.log: capture truncated or corrupt at packet 2"},
        {"an approval between two devices of one segment",
         {{"policy.toml", policy + "\n[[approval]]\nid = \"CHG-SAME\"\nfrom = \"device:pump-03\"\nto = \"device:pump-x\"\n"
                                   "protocol = \"tcp\"\nports = [9000]\nby = \"x\"\nreason = \"y\"\n"},
          {"devices.toml", devices + device("pump-x", "10.110.0.77")}},
         {},
         "is between addresses of one segment (icu): that traffic stays inside the VLAN"},
        {"an endpoint kind one letter away from internet",
         {{"site.toml", small_site_files()["site.toml"] +
                            "\n[[endpoint]]\nname = \"cloud\"\nkind = \"internt\"\naddresses = [\"192.0.2.0/24\"]\n"}},
         {},
         "endpoint \"cloud\" has kind \"internt\", not \"internet\""},
        {"a profile flow to any address",
         {{"profiles/imaging-ct-9.toml", replaced(small_site_files()["profiles/imaging-ct-9.toml"], "peer = \"role:pacs\"",
                                                  "peer = \"any\"")}},
         {},
         "the profile for Imaging Co CT 9 declares a flow with peer \"any\""},
        {"an empty policy file", {{"policy.toml", ""}}, {}, "policy.toml: holds no stances, approvals or denies"},
        {"a segment no gateway routes",
         {{"site.toml", small_site_files()["site.toml"] +
                            "\n[[gateway]]\nname = \"east\"\nsegments = [\"icu\", \"servers\", \"workstations\"]\n"}},
         {},
         "segment radiology is routed by none of the site's [[gateway]] tables"},
        {"an endpoint inside another endpoint",
         {{"site.toml", small_site_files()["site.toml"] +
                            "\n[[endpoint]]\nname = \"pacs-cluster\"\nkind = \"pacs\"\naddresses = [\"10.50.0.8/29\"]\n"}},
         {},
         "10.50.0.8/29 of endpoint \"pacs-cluster\" also covers endpoint \"pacs\""},
    };
}

}  // namespace

TEST_CASE("mistakes that change the policy stop the run with a located error", "[errors][silent]") {
    for (const auto& c : error_cases()) {
        DYNAMIC_SECTION(c.name) {
            TempSite site(c.files);
            auto before = site.snapshot();
            for (const std::string cmd : {"check", "plan"}) {
                auto r = run_wardgate(cmd + " " + site.dir().string() + " --today 2026-11-22" +
                                      (cmd == "plan" ? " --save" : ""));
                INFO(cmd << ": " << r.err);
                CHECK(r.exit_code == 1);
                CHECK_THAT(r.err, Catch::Contains(c.location + ":"));
                if (!c.field.empty()) CHECK_THAT(r.err, Catch::Contains(c.field + ": "));
                CHECK_THAT(r.err, Catch::Contains(c.message));
                CHECK(r.out.empty());
            }
            CHECK(site.snapshot() == before);
        }
    }
}

TEST_CASE("mistakes that do not stop the run are warnings in check and plan", "[errors][silent]") {
    for (const auto& c : warning_cases()) {
        DYNAMIC_SECTION(c.name) {
            TempSite site(c.files);
            for (const auto& f : c.remove) std::filesystem::remove(site.dir() / f);
            auto base = site.dir().string() + " --today " + c.today;
            auto check = run_wardgate("check " + base);
            INFO(check.out << check.err);
            CHECK(check.exit_code == 0);
            CHECK_THAT(check.out, Catch::Contains("warning: ") && Catch::Contains(c.message));
            CHECK(run_wardgate("check --strict " + base).exit_code == 2);
            auto plan = run_wardgate("plan " + base + " --color never");
            CHECK_THAT(plan.out, Catch::Contains(c.message));
        }
    }
}

TEST_CASE("CSV from Excel: a byte order mark and semicolons are read", "[silent][csv]") {
    auto csv_site = replaced(small_site_files()["site.toml"], "devices = [\"devices.toml\"]",
                             "devices = [\"devices.toml\", \"assets.csv\"]");
    for (const auto& [name, csv] : std::map<std::string, std::string>{
             {"bom", "\xEF\xBB\xBF" + kCsvHeader + "pump-x,10.110.0.77,infusion-pump,Acme,Pump 1,icu,support\n"},
             {"semicolons", "name;addresses;role;vendor;model;segment;lifecycle\r\n"
                            "pump-x;10.110.0.77;infusion-pump;Acme;Pump 1;icu;support\r\n"}}) {
        DYNAMIC_SECTION(name) {
            TempSite site({{"site.toml", csv_site}, {"assets.csv", csv}});
            auto r = run_wardgate("explain " + site.dir().string() + " pump-x drug-library tcp/443 --today 2026-11-22");
            INFO(r.out << r.err);
            CHECK(r.exit_code == 0);
            CHECK_THAT(r.out, Catch::Contains("pump-x (10.110.0.77) -> drug-library"));
        }
    }
}

TEST_CASE("files that cannot be read say why, with the operating system's reason", "[errors][silent][io]") {
    auto plan = [](const TempSite& site, const std::string& extra = "") {
        return run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 " + extra);
    };
    SECTION("a policy that is a symbolic link to nothing") {
        TempSite site;
        std::filesystem::remove(site.dir() / "policy.toml");
        std::filesystem::create_symlink("policy-2026.toml", site.dir() / "policy.toml");
        auto r = run_wardgate("check " + site.dir().string());
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("\"policy.toml\" is a symbolic link to \"policy-2026.toml\", which does not exist"));
    }
    SECTION("a devices file that may not be read") {
        // Owned by another user, mode 0600, read by root without the capabilities that let root
        // read any file: the kernel refuses as it would refuse an unprivileged service account.
        TempSite site;
        auto file = site.dir() / "devices.toml";
        REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
        std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        auto status = std::system(("setpriv --bounding-set=-dac_override,-dac_read_search " + std::string(WARDGATE_BINARY) +
                                   " check " + site.dir().string() + " > " + (site.dir() / "out.txt").string() + " 2>&1")
                                      .c_str());
        CHECK(WEXITSTATUS(status) == 1);
        CHECK_THAT(read_text(site.dir() / "out.txt"),
                   Catch::Contains("devices.toml: cannot open: Permission denied (check the file's owner and mode"));
    }
    SECTION("a damaged state file") {
        TempSite site;
        site.write(".wardgate/state.json", "{\"format\": 3,\n \"site\": \"x\n");
        auto r = plan(site);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("state.json:2: damaged state file, not valid JSON: ") &&
                              Catch::Contains("move it aside to compare with nothing"));
        CHECK_THAT(r.err, !Catch::Contains("json.exception"));
    }
    SECTION("a state file that is JSON but not a state") {
        TempSite site;
        site.write(".wardgate/state.json", "[1, 2, 3]\n");
        auto r = plan(site);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("not a wardgate state file") && !Catch::Contains("json.exception"));
    }
    SECTION("a state file that is a folder") {
        TempSite site;
        std::filesystem::create_directories(site.dir() / ".wardgate" / "state.json");
        auto r = plan(site);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("state.json: cannot read: Is a directory (name a file, not a folder)"));
    }
    SECTION("a baseline database that is not one") {
        TempSite site;
        site.write("baseline.db", "this is a text file, not SQLite\n");
        auto r = plan(site, "--db " + (site.dir() / "baseline.db").string());
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("baseline.db: not a wardgate baseline database (file is not a database)"));
    }
}
