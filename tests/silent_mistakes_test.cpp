// Mistakes that used to be accepted without a word. Each either stops the run with a located
// error (exit 1, nothing written) or shows as a warning in check and plan (check --strict
// exits 2 on it).
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

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
