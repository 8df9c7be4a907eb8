// The plan's semantic diff: which traffic changes its verdict, not only which rules' text.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/pipeline_fixture.hpp"
#include "wardgate/plan/plan.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using nlohmann::json;

namespace {

const std::string kToday = "2026-11-22";

// Saves the site's policy as the state, applies `edit`, and returns the plan's verdict changes.
json verdict_changes(TempSite& site, const std::function<void()>& edit, const std::string& today = kToday) {
    auto saved = run_wardgate("plan " + site.dir().string() + " --today " + kToday + " --save");
    REQUIRE(saved.exit_code == 2);
    edit();
    auto r = run_wardgate("plan " + site.dir().string() + " --today " + today + " --format json");
    REQUIRE(r.exit_code != 1);
    auto j = json::parse(r.out);
    REQUIRE(j.contains("verdict_changes"));
    return j["verdict_changes"];
}

std::string text_of(const json& regions) {
    std::string out;
    for (const auto& r : regions) {
        std::string line;
        for (const auto& s : r["src"]) line += s.get<std::string>() + ",";
        line += " ->";
        for (const auto& d : r["dst"]) line += " " + d.get<std::string>();
        for (const auto& s : r["services"]) {
            line += " " + s["protocol"].get<std::string>();
            for (const auto& p : s["ports"]) line += "/" + std::to_string(p[0].get<int>()) + "-" + std::to_string(p[1].get<int>());
        }
        out += line + "\n";
    }
    return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a port added to a declaration is newly allowed traffic, nothing else", "[plan][verdicts]") {
    TempSite site;
    auto v = verdict_changes(site, [&] {
        site.write("profiles/imaging-ct-9.toml",
                   replaced(small_site_files()["profiles/imaging-ct-9.toml"], "ports = [104,", "ports = [104, 4242,"));
    });
    CHECK(text_of(v["newly_allowed"]) == "ct-01, -> pacs tcp/4242-4242\n");
    CHECK(v["newly_denied"].empty());
}

TEST_CASE("a narrowed port range closes only the ports it lost", "[plan][verdicts]") {
    TempSite site;
    auto v = verdict_changes(site, [&] {
        site.write("profiles/imaging-ct-9.toml",
                   replaced(small_site_files()["profiles/imaging-ct-9.toml"], "\"11112-11113\"", "11112"));
    });
    CHECK(v["newly_allowed"].empty());
    CHECK(text_of(v["newly_denied"]) == "ct-01, -> pacs tcp/11113-11113\n");
}

TEST_CASE("an approval that expires denies exactly what it allowed", "[plan][verdicts]") {
    TempSite site;
    // CHG-1 (ws-01 -> infusion pumps tcp/8080) expires on 2027-01-31; only pump-03's stance takes approvals.
    auto v = verdict_changes(site, [] {}, "2027-02-01");
    CHECK(v["newly_allowed"].empty());
    CHECK(text_of(v["newly_denied"]) == "ws-01, -> pump-03 tcp/8080-8080\n");
}

TEST_CASE("a device moved between roles changes its verdicts, no one else's", "[plan][verdicts]") {
    TempSite site;
    auto v = verdict_changes(site, [&] {
        // pump-03 is given the ct-scanner role: approvals for infusion pumps no longer cover it.
        auto devices = small_site_files()["devices.toml"];
        auto at = devices.find("name = \"pump-03\"");
        devices.replace(devices.find("role = \"infusion-pump\"", at), 22, "role = \"ct-scanner\"");
        site.write("devices.toml", devices);
    });
    // Its profile (by vendor and model) still declares the drug library: that stays.
    CHECK(text_of(v["newly_denied"]) == "ws-01, -> pump-03 tcp/8080-8080\n");
    CHECK(v["newly_allowed"].empty());
}

TEST_CASE("a rule made redundant by another changes no verdict", "[plan][verdicts]") {
    TempSite site;
    auto v = verdict_changes(site, [&] {
        site.write("policy.toml", small_site_files()["policy.toml"] + R"(
[[approval]]
id = "CHG-SAME"
from = "device:ws-01"
to = "device:pump-03"
protocol = "tcp"
ports = [8080]
by = "Biomed"
reason = "Already covered by CHG-1"
)");
    });
    CHECK(v["newly_allowed"].empty());
    CHECK(v["newly_denied"].empty());
    // The rule list does change, and the text plan says the traffic does not.
    auto r = run_wardgate("plan " + site.dir().string() + " --today " + kToday + " --color never");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Contains("none: every connection gets the verdict it had"));
}

TEST_CASE("ICMP answers and errors allowed on their own change no verdict, requests do", "[plan][verdicts]") {
    TempSite site;
    auto approval = [](const std::string& types) {
        return "\n[[approval]]\nid = \"CHG-ICMP\"\nfrom = \"device:ws-01\"\nto = \"role:infusion-pump\"\n"
               "protocol = \"icmp\"\nicmp_types = [" + types + "]\nby = \"Biomed\"\nreason = \"Reachability\"\n";
    };
    const std::string policy = small_site_files()["policy.toml"];
    auto replies = verdict_changes(site, [&] { site.write("policy.toml", policy + approval("\"echo-reply\", \"destination-unreachable\"")); });
    CHECK(replies["newly_allowed"].empty());  // the gateway drops both as invalid on their own
    CHECK(replies["newly_denied"].empty());
    TempSite other;
    auto requests = verdict_changes(other, [&] { other.write("policy.toml", policy + approval("\"echo-request\"")); });
    REQUIRE(text_of(requests["newly_allowed"]) == "ws-01, -> pump-03 icmp\n");
    INFO(requests.dump());
    CHECK(requests["newly_allowed"][0]["services"][0]["icmp_types"].dump().find("echo-request") != std::string::npos);
}
