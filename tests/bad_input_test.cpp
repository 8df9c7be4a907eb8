// Bad input of every kind the site can point wardgate at, through the wardgate binary: each
// error names its file, line (or byte offset) and field, the command exits 1, prints nothing
// on stdout and writes nothing. Site TOML value errors are in site_errors_test.cpp; this file
// covers the other input kinds and the policy conflicts.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/temp_site.hpp"

using namespace wardgate::testing;

namespace {

struct BadInput {
    const char* name;
    std::map<std::string, std::string> files;  // added to, or replacing, the small site
    const char* flows;                         // site.toml's flows list ("" keeps flows/conn.log)
    const char* want_location;                 // "file:line" or "file:line:column" as printed
    const char* want_field;                    // "" when the error is about the whole line or file
    const char* want_message;                  // substring
};

std::string site_toml_with(const std::string& flows, const std::string& extra) {
    std::string text = small_site_files().at("site.toml");
    if (!flows.empty()) {
        const std::string old = R"(flows = ["flows/conn.log"])";
        text.replace(text.find(old), old.size(), "flows = [" + flows + "]");
    }
    return text + extra;
}

const std::string kZeekHeader =
    "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";

// A pcap file header (little endian) naming a link type.
std::string pcap_with_link_type(unsigned char link_type) {
    const unsigned char header[] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0xff, 0xff, 0, 0, link_type, 0, 0, 0};
    return std::string(reinterpret_cast<const char*>(header), sizeof header);
}

const char* kMudHeader = R"({
  "ietf-mud:mud": {
    "mud-version": 1,
    "mud-url": "https://example.com/pump.json",
    "last-update": "2026-01-01T00:00:00Z",
    "cache-validity": 48,
    "is-supported": true,
    "systeminfo": "pump",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "from"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}}
  },
)";

const std::string kMudSite = R"(
[[mud]]
file = "mud/pump.json"
vendor = "Acme"
model = "Pump 1"
)";

}  // namespace

TEST_CASE("bad input of every kind: file, line, field, exit 1, nothing written", "[errors]") {
    const std::vector<BadInput> cases = {
        // Flow CSV
        {"flow CSV: port out of range",
         {{"flows/flows.csv", "initiator,responder,protocol,port\n10.110.0.21,10.50.0.20,tcp,443\n"
                              "10.110.0.21,10.50.0.20,tcp,70000\n"}},
         R"("flows/flows.csv")", "flows/flows.csv:3:28:", "port", "expected a port 0-65535, got \"70000\""},
        {"flow CSV: unterminated quote",
         {{"flows/flows.csv", "initiator,responder,protocol,port\n\"10.110.0.21,10.50.0.20,tcp,443\n"}},
         R"("flows/flows.csv")", "flows/flows.csv:2:1:", "", "unterminated quoted field"},
        {"flow CSV: missing required column",
         {{"flows/flows.csv", "initiator,responder,port\n10.110.0.21,10.50.0.20,443\n"}},
         R"("flows/flows.csv")", "flows/flows.csv:1: ", "protocol", "missing required column in the header row"},
        {"flow CSV: bad address",
         {{"flows/flows.csv", "initiator,responder,protocol,port\n10.110.0.21,10.50.0.999,tcp,443\n"}},
         R"("flows/flows.csv")", "flows/flows.csv:2:13:", "responder", "expected an IP address, got \"10.50.0.999\""},
        // Zeek TSV
        {"Zeek TSV: bad port",
         {{"flows/conn.log", kZeekHeader + "1763683200.000000\tC1\t10.110.0.21\t40001\t10.50.0.20\t99999\ttcp\t-\t1.5\t100\t2000\tSF\n"}},
         "", "flows/conn.log:4:51:", "id.resp_p", "expected a port 0-65535, got \"99999\""},
        {"Zeek TSV: bad address",
         {{"flows/conn.log", kZeekHeader + "1763683200.000000\tC1\t10.110.0.21\t40001\tfd00::zz\t443\ttcp\t-\t1.5\t100\t2000\tSF\n"}},
         "", "flows/conn.log:4:40:", "id.resp_h", "expected an IP address, got \"fd00::zz\""},
        // Zeek JSON
        {"Zeek JSON: not JSON",
         {{"flows/conn.json", "{\"ts\":1763683200,\"id.orig_h\":\"10.110.0.21\",\"id.orig_p\":1,\"id.resp_h\":\"10.50.0.20\","
                              "\"id.resp_p\":443,\"proto\":\"tcp\"}\n{\"ts\":1763683200,\"id.orig_h\":\n"}},
         R"("flows/conn.json")", "flows/conn.json:2:30:", "", "invalid JSON: syntax error"},
        {"Zeek JSON: bad port",
         {{"flows/conn.json", "{\"ts\":1763683200,\"id.orig_h\":\"10.110.0.21\",\"id.orig_p\":1,\"id.resp_h\":\"10.50.0.20\","
                              "\"id.resp_p\":\"https\",\"proto\":\"tcp\"}\n"}},
         R"("flows/conn.json")", "flows/conn.json:1:83:", "id.resp_p", "expected a port 0-65535, got \"https\""},
        {"Zeek JSON: missing address",
         {{"flows/conn.json", "{\"ts\":1763683200,\"id.orig_h\":\"10.110.0.21\",\"id.orig_p\":1,\"id.resp_p\":443,\"proto\":\"tcp\"}\n"}},
         R"("flows/conn.json")", "flows/conn.json:1: ", "id.resp_h", "missing required field"},
        // Captures
        {"pcap: unsupported link type", {{"flows/capture.pcap", pcap_with_link_type(147)}},
         R"("flows/capture.pcap")", "flows/capture.pcap: ", "", "link type 147 is not supported"},
        {"pcap: not a capture", {{"flows/capture.pcap", std::string("\xd4\xc3\xb2\xa1\x02\x00", 6)}},
         R"("flows/capture.pcap")", "flows/capture.pcap: ", "", "not a capture libpcap can read"},
        // MUD
        {"MUD: JSON syntax error", {{"mud/pump.json", "{\n  \"ietf-mud:mud\": {\n    \"mud-url\": \n}\n"}},
         "", "mud/pump.json:4:1:", "", "JSON syntax error"},
        {"MUD: port out of range",
         {{"mud/pump.json", std::string(kMudHeader) + R"(  "ietf-access-control-list:acls": {"acl": [
    {"name": "from", "type": "ipv4-acl-type", "aces": {"ace": [
      {"name": "to-cloud", "matches": {"ipv4": {"protocol": 6, "ietf-acldns:dst-dnsname": "cloud.example.com"},
       "tcp": {"destination-port": {"operator": "eq", "port": 70000}}},
       "actions": {"forwarding": "accept"}}]}},
    {"name": "to", "type": "ipv4-acl-type", "aces": {"ace": []}}]}
}
)"}},
         "", "mud/pump.json:15:",
         "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port/port",
         "expected a port 0-65535"},
        {"MUD: number too large for a double",
         {{"mud/pump.json", "{\n  \"ietf-mud:mud\": {\n    \"mud-version\": 1e999\n  }\n}\n"}},
         "", "mud/pump.json:3:", "", "number out of range: 1e999"},
        // Addresses and ports in the site files
        {"IPv6 address with two ::",
         {{"devices.toml", small_site_files().at("devices.toml") +
                               "\n[[device]]\nname = \"pump-09\"\naddresses = [\"fd00:110::1::9\"]\nrole = \"infusion-pump\"\n"
                               "vendor = \"Acme\"\nmodel = \"Pump 1\"\nsegment = \"icu\"\nlifecycle = \"support\"\n"}},
         "", "devices.toml:53:13:", "device.addresses", "\"fd00:110::1::9\" is not an IP address"},
        // Conflicting policy
        {"two approvals with one id",
         {{"policy.toml", small_site_files().at("policy.toml") +
                              "\n[[approval]]\nid = \"CHG-1\"\nfrom = \"role:infusion-pump\"\nto = \"endpoint:pacs\"\n"
                              "protocol = \"tcp\"\nports = [104]\nby = \"biomed\"\nreason = \"again\"\nexpires = 2027-01-31\n"}},
         "", "policy.toml:44:", "approval.id", "duplicate approval id \"CHG-1\""},
    };
    for (const auto& c : cases) {
        SECTION(c.name) {
            auto files = c.files;
            std::string extra = files.count("mud/pump.json") ? kMudSite : "";
            files["site.toml"] = site_toml_with(c.flows, extra);
            TempSite site(files);
            auto before = site.snapshot();
            auto r = run_wardgate("plan " + site.dir().string() + " --save --today 2026-11-22");
            INFO(r.err);
            CHECK(r.exit_code == 1);
            CHECK_THAT(r.err, Catch::Contains(c.want_location));
            if (std::string(c.want_field).size()) CHECK_THAT(r.err, Catch::Contains(std::string(c.want_field) + ":"));
            CHECK_THAT(r.err, Catch::Contains(c.want_message));
            CHECK(r.out.empty());
            CHECK(site.snapshot() == before);  // no state file, nothing half-written
        }
    }
}

TEST_CASE("import-mud with a bad file writes no profile", "[errors][mud]") {
    TempSite site(std::map<std::string, std::string>{{"mud/pump.json", "{\"ietf-mud:mud\": [1, 2]}\n"}});
    auto out = site.dir() / "profiles" / "pump.toml";
    auto r = run_wardgate("import-mud " + (site.dir() / "mud/pump.json").string() + " -o " + out.string());
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("pump.json"));
    CHECK_THAT(r.err, Catch::Contains("/ietf-mud:mud"));
    CHECK_FALSE(std::filesystem::exists(out));
}
