// Monitor by device and by role, and approvals and denies on trial: the site files, the
// compiled policy, the plan and explain, and the kernel (a device in monitor passes, its
// sibling in enforce is blocked, a deny on trial logs and drops nothing).
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "support/gateway_fixture.hpp"
#include "support/ip_address.hpp"
#include "support/netns.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/observe/nflog.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/service/status.hpp"

using namespace wardgate;
using wardgate::testing::GatewayTopology;
using wardgate::testing::ip;
using wardgate::testing::Netns;
using wardgate::testing::run_wardgate;
using wardgate::testing::TempSite;

namespace {

// The gateway test site's files, as a TempSite takes them.
std::map<std::string, std::string> gateway_site_files() {
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(wardgate::testing::kGatewaySite)) {
        if (!e.is_regular_file()) continue;
        files[std::filesystem::relative(e.path(), wardgate::testing::kGatewaySite).string()] =
            wardgate::testing::read_text(e.path());
    }
    return files;
}

// monitor-icu-01 (10.110.0.21) in monitor on its own; its sibling monitor-icu-02 (10.110.0.22)
// in enforce; the telnet deny on trial when `trial_deny`.
std::map<std::string, std::string> monitor_site(bool trial_deny) {
    auto files = gateway_site_files();
    auto& devices = files["devices.toml"];
    auto at = devices.find("lifecycle = \"support\"");
    REQUIRE(at != std::string::npos);
    devices.insert(at, "monitor = true\n");
    devices += wardgate::testing::icu_monitor_toml("monitor-icu-02", "10.110.0.22");
    if (trial_deny) {
        auto& policy = files["policy.toml"];
        auto reason = policy.find("reason = \"Telnet to monitors is never allowed\"");
        REQUIRE(reason != std::string::npos);
        policy.insert(reason, "monitor = true\n");
    }
    return files;
}

Policy compile_site(const TempSite& site) {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    return run_pipeline(site.dir(), o).policy;
}

struct MonitorCounts {
    uint64_t dropped = 0, would_be = 0;
};

MonitorCounts icu_counts(const Netns& gw) {
    std::string text = gw.run([] {
        for (const auto& c : netlink::read_segment_counters())
            if (c.segment == "icu") return fmt::format("{} {}", c.dropped_packets, c.would_be_dropped_packets);
        return std::string("0 0");
    });
    std::istringstream in(text);
    MonitorCounts out;
    in >> out.dropped >> out.would_be;
    return out;
}

// The counter of the rule whose log prefix names the deny on trial.
uint64_t trial_deny_packets(const Netns& gw) {
    std::string listing = gw.exec("nft list chain inet wardgate forward");
    std::istringstream lines(listing);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("wardgate deny no-telnet (monitor): ") == std::string::npos) continue;
        auto at = line.find("counter packets ");
        if (at != std::string::npos) return std::stoull(line.substr(at + 16));
    }
    FAIL("no rule logs the deny on trial:\n" << listing);
    return 0;
}

}  // namespace

TEST_CASE("monitor by device: the policy lists the device, and only its would-be drops pass", "[monitor]") {
    TempSite site(monitor_site(false), false);
    Policy p = compile_site(site);
    REQUIRE(p.monitored.size() == 1);
    CHECK(p.monitored[0].device == "monitor-icu-01");
    CHECK(p.monitored[0].cause.scope == "device monitor-icu-01");
    CHECK(p.monitored[0].cause.why == "monitor = true (devices.toml:1)");

    Evaluator eval(p);
    auto mine = eval.evaluate(ip("10.110.0.21"), ip("10.50.0.5"), Protocol::tcp, 9999);
    CHECK_FALSE(mine.allowed);
    CHECK(mine.monitored);
    CHECK(mine.monitored_device == "monitor-icu-01");
    auto to_it = eval.evaluate(ip("10.50.0.10"), ip("10.110.0.21"), Protocol::tcp, 9999);
    CHECK(to_it.monitored);
    auto sibling = eval.evaluate(ip("10.110.0.22"), ip("10.50.0.5"), Protocol::tcp, 9999);
    CHECK_FALSE(sibling.monitored);
    CHECK(sibling.monitored_device.empty());
    // Explicit denies drop a monitored device's traffic too.
    auto telnet = eval.evaluate(ip("10.50.0.10"), ip("10.110.0.21"), Protocol::tcp, 23);
    CHECK(telnet.by == Verdict::By::deny_rule);
    CHECK_FALSE(telnet.monitored);

    // Compiled with a set: more devices in monitor add elements, never rules.
    auto rs = nft::lower_policy(p);
    auto set = std::find_if(rs.sets.begin(), rs.sets.end(), [](const nft::Set& s) { return s.name == "monitored_v4"; });
    REQUIRE(set != rs.sets.end());
    CHECK(set->elements.size() == 1);
    size_t rules = 0;
    for (const auto& c : rs.chains) rules += c.rules.size();
    for (size_t i = 0; i < 50; ++i) {
        IpAddress a = ip("10.110.0.100");
        a.bytes[3] = static_cast<uint8_t>(100 + i);
        p.monitored.push_back({"extra", "icu", {a}, {"device extra", "monitor = true"}});
    }
    auto more = nft::lower_policy(p);
    size_t more_rules = 0;
    for (const auto& c : more.chains) more_rules += c.rules.size();
    CHECK(more_rules == rules);
    auto more_set = std::find_if(more.sets.begin(), more.sets.end(), [](const nft::Set& s) { return s.name == "monitored_v4"; });
    REQUIRE(more_set != more.sets.end());
    CHECK(more_set->elements.size() == 51);
}

TEST_CASE("monitor by role and trials show in plan, explain and export", "[monitor]") {
    auto files = monitor_site(true);
    files["policy.toml"] += "\n[role.patient-monitor]\nmonitor = true\nreason = \"new central station\"\n";
    TempSite site(files, false);
    const std::string dir = site.dir().string();

    auto plan = run_wardgate("plan " + dir + " --today 2026-11-22");
    INFO(plan.out << plan.err);
    CHECK(plan.out.find("devices in monitor (would-be drops to or from them are logged and let through; explicit denies "
                        "drop):\n") != std::string::npos);
    CHECK(plan.out.find("  role patient-monitor is in monitor (policy.toml:") != std::string::npos);
    CHECK(plan.out.find("): new central station: 2 devices: monitor-icu-01, monitor-icu-02\n") != std::string::npos);
    CHECK(plan.out.find("on trial:\n  deny no-telnet (policy.toml:") != std::string::npos);
    CHECK(plan.out.find("): logs what it matches and drops nothing\n") != std::string::npos);
    CHECK(plan.out.find("(on trial: logs, drops nothing)") != std::string::npos);
    CHECK(plan.out.find(" devices ready to enforce; 0 of 2 devices in monitor ready to leave it (wardgate readiness says why)\n") !=
          std::string::npos);

    auto json = run_wardgate("plan " + dir + " --today 2026-11-22 --format json");
    auto j = nlohmann::json::parse(json.out);
    REQUIRE(j["monitored_devices"].size() == 1);
    CHECK(j["monitored_devices"][0]["scope"] == "role patient-monitor");
    CHECK(j["monitored_devices"][0]["devices"] == nlohmann::json({"monitor-icu-01", "monitor-icu-02"}));
    REQUIRE(j["trials"].size() == 1);
    CHECK(j["trials"][0]["rule"] == "deny no-telnet");
    CHECK(j["readiness"]["monitored"] == 2);
    CHECK(j["readiness"]["ready_to_leave_monitor"].empty());

    // explain: the deny on trial matches and drops nothing; the role's monitor lets it through.
    auto explain = run_wardgate("explain " + dir + " 10.50.0.10 10.110.0.22 tcp/23 --today 2026-11-22");
    INFO(explain.out);
    CHECK(explain.exit_code == 2);
    CHECK(explain.out.find("WOULD BE DENIED (monitor-icu-02 is in monitor: let through)") != std::string::npos);
    CHECK(explain.out.find("deny no-telnet matches it but is on trial") != std::string::npos);

    // The exports cannot log and go on: they say what they do instead.
    auto exported = run_wardgate("export " + dir + " --target asa --today 2026-11-22");
    INFO(exported.err);
    REQUIRE(exported.exit_code == 0);
    const std::string& config = exported.out;
    CHECK(config.find("not rendered: deny no-telnet is on trial (monitor)") != std::string::npos);
    CHECK(config.find("2 devices in monitor (monitor-icu-01, monitor-icu-02) are enforced by this export") != std::string::npos);
}

TEST_CASE("a saved plan state shows a device entering and leaving monitor", "[monitor]") {
    TempSite site(gateway_site_files(), false);
    const std::string dir = site.dir().string();
    auto first = run_wardgate("plan " + dir + " --today 2026-11-22 --save");
    INFO(first.out << first.err);
    REQUIRE((first.exit_code == 0 || first.exit_code == 2));
    auto devices = wardgate::testing::read_text(site.dir() / "devices.toml");
    std::string monitored = devices;
    monitored.insert(monitored.find("lifecycle = \"support\""), "monitor = true\n");
    site.write("devices.toml", monitored);
    auto second = run_wardgate("plan " + dir + " --today 2026-11-22 --save");
    INFO(second.out);
    CHECK(second.out.find("~ device monitor-icu-01: enforce -> monitor") != std::string::npos);
    site.write("devices.toml", devices);
    auto third = run_wardgate("plan " + dir + " --today 2026-11-22");
    INFO(third.out);
    CHECK(third.out.find("~ device monitor-icu-01: monitor -> enforce") != std::string::npos);
}

TEST_CASE("monitor settings with mistakes stop the run with file, line and field", "[monitor][site]") {
    SECTION("a role no device has") {
        auto files = gateway_site_files();
        files["policy.toml"] += "\n[role.infusion-pmup]\nmonitor = true\n";
        TempSite site(files, false);
        auto r = run_wardgate("check " + site.dir().string());
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("policy.toml:") != std::string::npos);
        CHECK(r.err.find("role.infusion-pmup") != std::string::npos);
        CHECK(r.err.find("unknown role \"infusion-pmup\"") != std::string::npos);
    }
    SECTION("monitor that is not a boolean") {
        auto files = gateway_site_files();
        files["devices.toml"].insert(files["devices.toml"].find("lifecycle"), "monitor = \"yes\"\n");
        TempSite site(files, false);
        auto r = run_wardgate("check " + site.dir().string());
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("devices.toml:") != std::string::npos);
        CHECK(r.err.find("monitor") != std::string::npos);
    }
    SECTION("an unknown key in a role table") {
        auto files = gateway_site_files();
        files["policy.toml"] += "\n[role.patient-monitor]\nmonitr = true\n";
        TempSite site(files, false);
        auto r = run_wardgate("check " + site.dir().string());
        CHECK(r.exit_code != 0);
        CHECK(r.err.find("monitr") != std::string::npos);
    }
}

TEST_CASE("the trial tail of a log prefix is an accepted connection, not a drop", "[monitor][nflog]") {
    auto trial = observe::parse_log_prefix("wardgate approval CHG-1 (trial): ");
    CHECK(trial.trial);
    CHECK(trial.rule == "approval CHG-1");
    auto deny = observe::parse_log_prefix("wardgate deny no-telnet (monitor): ");
    CHECK_FALSE(deny.trial);
    CHECK(deny.monitor);
    CHECK(deny.rule == "deny no-telnet");
}

TEST_CASE("in the kernel, a device in monitor passes and its sibling in enforce is blocked", "[monitor][kernel]") {
    GatewayTopology t;
    // The sibling shares the device namespace; routes pick which address talks to which server.
    wardgate::testing::add_address(t.dev, "eth0", "10.110.0.22/24");
    t.dev.exec("ip route add 10.50.0.10/32 via 10.110.0.1 src 10.110.0.22");
    t.dev.exec("ip route add 10.50.0.5/32 via 10.110.0.1 src 10.110.0.21");

    SECTION("monitor by device; explicit denies still drop") {
        TempSite site(monitor_site(false), false);
        wardgate::testing::apply_in(t.gw, compile_site(site));
        auto before = icu_counts(t.gw);
        CHECK(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.5", 9999));         // monitor-icu-01: logged, let through
        CHECK_FALSE(wardgate::testing::tcp_exchange(t.dev, t.srv, "10.50.0.10", 9999));  // monitor-icu-02: dropped
        CHECK(wardgate::testing::tcp_exchange(t.srv, t.dev, "10.110.0.21", 9999));       // to the device in monitor
        CHECK_FALSE(wardgate::testing::tcp_exchange(t.srv, t.dev, "10.110.0.22", 9999));
        CHECK_FALSE(wardgate::testing::tcp_exchange(t.srv, t.dev, "10.110.0.21", 23));  // the telnet deny drops
        auto after = icu_counts(t.gw);
        CHECK(after.would_be > before.would_be);
        CHECK(after.dropped > before.dropped);
    }
    SECTION("a deny on trial logs and drops nothing") {
        TempSite site(monitor_site(true), false);
        wardgate::testing::apply_in(t.gw, compile_site(site));
        uint64_t before = trial_deny_packets(t.gw);
        CHECK(wardgate::testing::tcp_exchange(t.srv, t.dev, "10.110.0.21", 23));        // the deny only logs; monitor passes it
        CHECK_FALSE(wardgate::testing::tcp_exchange(t.srv, t.dev, "10.110.0.22", 23));  // the default deny still drops
        CHECK(trial_deny_packets(t.gw) > before);
    }
}

TEST_CASE("status lists the devices in monitor and the trials, with why", "[monitor][service]") {
    service::ServiceStatus s;
    s.site = "Gateway Test Site";
    s.monitored_devices = {{"monitor-icu-01", "monitor = true (devices.toml:1)"}};
    s.trials = {"deny no-telnet (policy.toml:16): logs what it matches and drops nothing"};
    s.segments = {{"icu", "enforce", 110, 5, 300, 7, 420, true, 0, 0, true}};
    auto j = service::to_json(s);
    CHECK(j["monitored_devices"][0]["device"] == "monitor-icu-01");
    CHECK(j["segments"][0]["dropped_packets"] == 5);
    CHECK(j["segments"][0]["would_be_dropped_packets"] == 7);
    std::string text = service::render_status_text(j);
    INFO(text);
    CHECK(text.find("devices in monitor:\n  monitor-icu-01       monitor = true (devices.toml:1)\n") != std::string::npos);
    CHECK(text.find("on trial:\n  deny no-telnet (policy.toml:16): logs what it matches and drops nothing\n") != std::string::npos);
    CHECK(text.find(", would have dropped 7 packets of devices in monitor\n") != std::string::npos);
}
