// Tags across roles, tickets and owners, and the plan's JSON as data a pipeline can use.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/pipeline_fixture.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using nlohmann::json;

namespace {

std::string tagged(std::string devices) {
    // The supported pump and the CT share a ward tag across two roles.
    for (const char* name : {"name = \"pump-03\"", "name = \"ct-01\""}) {
        auto at = devices.find(name);
        REQUIRE(at != std::string::npos);
        devices.insert(devices.find('\n', at) + 1, "tags = [\"cath-lab\"]\n");
    }
    return devices;
}

const std::string kWardApproval = R"(
[[approval]]
id = "CHG-WARD"
from = "device:ws-01"
to = "tag:cath-lab"
protocol = "tcp"
ports = [9100]
by = "Biomed"
reason = "Ward console"
ticket = "https://itsm.example/CHG-WARD"
owner = "Cardiology IT"
)";

}  // namespace

TEST_CASE("a tag spanning two roles compiles to one group and one rule", "[compile][tags]") {
    TempSite site({{"devices.toml", tagged(small_site_files()["devices.toml"])},
                   {"policy.toml", small_site_files()["policy.toml"] + kWardApproval}});
    auto p = pipeline_for(site.dir());
    size_t groups = 0, rules = 0;
    for (size_t i = 0; i < p.policy.groups.size(); ++i)
        if (p.policy.groups[i].kind == AddressGroup::Kind::tag) {
            ++groups;
            CHECK(p.policy.groups[i].members == std::vector<std::string>{"ct-01", "pump-03"});
            for (const auto& r : p.policy.rules) rules += r.dst == i;
        }
    CHECK(groups == 1);
    CHECK(rules == 1);
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 9100).allowed);
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.120.0.11", Protocol::tcp, 9100).allowed);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.21", Protocol::tcp, 9100).allowed);  // untagged pump
}

TEST_CASE("an unknown tag is a located error", "[errors][tags]") {
    auto policy = small_site_files()["policy.toml"] + kWardApproval;
    TempSite site({{"policy.toml", policy}});
    auto r = run_wardgate("check " + site.dir().string());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("approval.to: unknown tag \"cath-lab\""));
}

TEST_CASE("tickets and owners travel to explain and the plan's JSON, with stable rule ids", "[plan][tags]") {
    TempSite site({{"devices.toml", tagged(small_site_files()["devices.toml"])},
                   {"policy.toml", small_site_files()["policy.toml"] + kWardApproval}});
    auto explain = run_wardgate("explain " + site.dir().string() + " ws-01 pump-03 tcp/9100 --today 2026-11-22");
    CHECK(explain.exit_code == 0);
    CHECK_THAT(explain.out, Catch::Contains("(ticket https://itsm.example/CHG-WARD) (owner Cardiology IT)"));
    CHECK_THAT(explain.out, Catch::Matches("(.|\n)*by rule [0-9]+ \\(r-[0-9a-f]{12}\\)(.|\n)*"));

    auto plan = [&] {
        auto r = run_wardgate("plan " + site.dir().string() + " --today 2026-11-22 --format json");
        REQUIRE(r.exit_code == 2);
        return json::parse(r.out);
    };
    auto j = plan();
    CHECK(j["format"] == 2);
    const json* ward = nullptr;
    for (const auto& r : j["rules"])
        for (const auto& w : r["reasons"])
            if (w.value("approval_id", "") == "CHG-WARD") ward = &r;
    REQUIRE(ward);
    const auto& why = (*ward)["reasons"][0];
    CHECK(why["ticket"] == "https://itsm.example/CHG-WARD");
    CHECK(why["owner"] == "Cardiology IT");
    CHECK(why["file"] == "policy.toml");
    CHECK(why["line"].get<int>() > 40);
    CHECK((*ward)["dst_group"]["kind"] == "tag");
    CHECK((*ward)["service_list"] == json::parse(R"([{"protocol": "tcp", "number": 6, "ports": [[9100, 9100]], "icmp_types": []}])"));
    // The same rule keeps its id when other rules come and go.
    std::string id = (*ward)["id"];
    site.write("policy.toml", small_site_files()["policy.toml"] + kWardApproval +
                                  "\n[[approval]]\nid = \"CHG-X\"\nfrom = \"device:ws-01\"\nto = \"endpoint:pacs\"\n"
                                  "protocol = \"tcp\"\nports = [1]\nby = \"x\"\nreason = \"y\"\n");
    bool same = false;
    auto after = plan();
    for (const auto& r : after["rules"]) same = same || r["id"] == id;
    CHECK(same);
}
