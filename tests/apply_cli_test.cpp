// `wardgate apply` and `wardgate plan --live` end to end inside network namespaces: the
// live drift check and its exit status, the state file across a commit-confirmed
// rollback, and the record of the last commit kept per network namespace.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/gateway_fixture.hpp"
#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "wardgate/service/confirm.hpp"

using namespace std::chrono_literals;
using wardgate::testing::Netns;
using wardgate::testing::read_text;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A copy of the gateway test site that the test may edit.
fs::path copy_site(const TempDir& dir) {
    fs::path site = dir.path / "site";
    fs::copy(fs::path(WARDGATE_SOURCE_DIR) / "tests/data/gateway-site", site, fs::copy_options::recursive);
    return site;
}

struct Run {
    int status = 0;
    std::string out;
};

Run wardgate_in(const Netns& ns, const std::string& args) {
    Run r;
    r.status = ns.exec_status(std::string(WARDGATE_BINARY) + " " + args + " 2>&1", &r.out);
    return r;
}

std::string apply_args(const fs::path& site) { return "apply " + site.string() + " --today 2026-11-22 --yes --color never"; }
std::string plan_args(const fs::path& site) { return "plan " + site.string() + " --today 2026-11-22 --live --color never"; }

void add_device(const fs::path& site, const std::string& name, const std::string& address) {
    std::ofstream(site / "devices.toml", std::ios::app) << wardgate::testing::icu_monitor_toml(name, address);
}

uint64_t netns_inode(const Netns& ns) {
    struct stat st {};
    REQUIRE(::stat(("/run/netns/" + ns.name()).c_str(), &st) == 0);
    return st.st_ino;
}

fs::path commit_record_of(const Netns& ns) {
    return fmt::format("/run/wardgate/nft-wardgate.netns-{}.commit", netns_inode(ns));
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

}  // namespace

TEST_CASE("plan --live: exit 0 without drift, exit 2 listing the drift, with counters per segment", "[kernel][cli]") {
    Netns ns("plan-live");
    TempDir dir("plan-live");
    auto site = copy_site(dir);
    fs::path record = commit_record_of(ns);

    auto missing = wardgate_in(ns, plan_args(site));
    CHECK(missing.status == 2);
    CHECK(missing.out.find("table inet wardgate does not exist") != std::string::npos);

    auto applied = wardgate_in(ns, apply_args(site));
    INFO(applied.out);
    REQUIRE(applied.status == 0);
    auto clean = wardgate_in(ns, plan_args(site));
    INFO(clean.out);
    CHECK(clean.status == 0);
    CHECK(clean.out.find("holds exactly this policy") != std::string::npos);
    CHECK(clean.out.find("Live counters per segment:") != std::string::npos);
    CHECK(clean.out.find("icu ") != std::string::npos);
    CHECK(clean.out.find("servers ") != std::string::npos);

    // Someone adds a rule and an element by hand.
    ns.exec("nft add rule inet wardgate forward counter accept");
    ns.exec("nft add element inet wardgate segment_by_src_v4 '{ 10.99.0.0/24 : jump drop_icu }'");
    auto drift = wardgate_in(ns, plan_args(site));
    INFO(drift.out);
    CHECK(drift.status == 2);
    CHECK(drift.out.find("differs from this policy") != std::string::npos);
    CHECK(drift.out.find("chain forward") != std::string::npos);
    CHECK(drift.out.find("segment_by_src_v4") != std::string::npos);
    CHECK(drift.out.find("10.99.0.0/24") != std::string::npos);

    auto json = wardgate_in(ns, plan_args(site) + " --format json");
    auto j = nlohmann::json::parse(json.out.substr(json.out.find('{')));
    CHECK(json.status == 2);
    CHECK_FALSE(j.at("live").at("differences").empty());
    CHECK(j.at("live").at("segments").size() == 3);  // icu, servers, outside

    // Applying again repairs it.
    REQUIRE(wardgate_in(ns, apply_args(site)).status == 0);
    CHECK(wardgate_in(ns, plan_args(site)).status == 0);
    fs::remove(record);
}

TEST_CASE("a rolled-back commit-confirmed apply puts the previous state file back", "[kernel][cli][confirm]") {
    Netns ns("state-rb");
    TempDir dir("state-rb");
    auto site = copy_site(dir);
    auto state_dir = dir.path / "cc";
    fs::path state = site / ".wardgate/state.json";
    fs::path record = commit_record_of(ns);
    std::string confirm_args = " --confirm-within 1.5 --state-dir " + state_dir.string();

    SECTION("the state file existed: its content comes back") {
        REQUIRE(wardgate_in(ns, apply_args(site)).status == 0);
        std::string table_before = ns.nft_list();
        std::string state_before = read_text(state);
        REQUIRE_FALSE(state_before.empty());

        add_device(site, "monitor-icu-02", "10.110.0.22");
        auto r = wardgate_in(ns, apply_args(site) + confirm_args);
        INFO(r.out);
        REQUIRE(r.status == 0);
        CHECK(read_text(state) != state_before);
        CHECK(read_text(state).find("10.110.0.22") != std::string::npos);

        auto files = wardgate::service::record_files(state_dir);
        REQUIRE(wait_for([&] { return !fs::exists(files.pending); }, 10s));
        REQUIRE(fs::exists(files.rolled_back));
        CHECK(ns.nft_list() == table_before);
        CHECK(read_text(state) == state_before);
        // The next plan sees the device as new again.
        CHECK(wardgate_in(ns, "plan " + site.string() + " --today 2026-11-22 --color never").status == 2);
    }
    SECTION("no state file before: it is removed") {
        REQUIRE_FALSE(fs::exists(state));
        auto r = wardgate_in(ns, apply_args(site) + confirm_args);
        INFO(r.out);
        REQUIRE(r.status == 0);
        CHECK(fs::exists(state));
        auto files = wardgate::service::record_files(state_dir);
        REQUIRE(wait_for([&] { return !fs::exists(files.pending); }, 10s));
        CHECK_FALSE(fs::exists(state));
        CHECK(ns.nft_list().empty());
    }
    SECTION("confirmed: the new state file stays") {
        REQUIRE(wardgate_in(ns, apply_args(site)).status == 0);
        add_device(site, "monitor-icu-02", "10.110.0.22");
        REQUIRE(wardgate_in(ns, apply_args(site) + " --confirm-within 30 --state-dir " + state_dir.string()).status == 0);
        std::string state_new = read_text(state);
        REQUIRE(wardgate_in(ns, "confirm --state-dir " + state_dir.string()).status == 0);
        std::this_thread::sleep_for(300ms);
        CHECK(read_text(state) == state_new);
    }
    fs::remove(record);
}

TEST_CASE("each network namespace keeps its own record of the last commit", "[kernel][cli]") {
    Netns a("rec-a"), b("rec-b");
    TempDir dir("rec");
    auto site_a = copy_site(dir);
    TempDir dir_b("rec-b");
    auto site_b = copy_site(dir_b);
    add_device(site_b, "monitor-icu-02", "10.110.0.22");
    fs::path rec_a = commit_record_of(a), rec_b = commit_record_of(b);
    REQUIRE(rec_a != rec_b);
    // Namespace inodes are reused: a record left by an earlier namespace is not this one's.
    fs::remove(rec_a);
    fs::remove(rec_b);

    REQUIRE(wardgate_in(a, apply_args(site_a)).status == 0);
    CHECK(fs::exists(rec_a));
    CHECK_FALSE(fs::exists(rec_b));
    REQUIRE(wardgate_in(b, apply_args(site_b)).status == 0);
    CHECK(fs::exists(rec_b));

    // A device more in a: only elements go, and a's record (not b's, newer) is used.
    add_device(site_a, "monitor-icu-03", "10.110.0.23");
    auto r = wardgate_in(a, apply_args(site_a));
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("set elements only: 2 added, 0 removed") != std::string::npos);  // two groups hold the monitors
    CHECK(a.nft_list().find("10.110.0.23") != std::string::npos);
    CHECK(b.nft_list().find("10.110.0.23") == std::string::npos);
    fs::remove(rec_a);
    fs::remove(rec_b);
}

TEST_CASE("apply compares with the kernel: a missing or hand-edited table is a change, not 'No changes.'",
          "[kernel][apply][plan]") {
    Netns ns("applylive");
    TempDir dir("apply-live");
    auto site = copy_site(dir);
    auto first = wardgate_in(ns, apply_args(site));
    REQUIRE(first.status == 0);
    auto again = wardgate_in(ns, apply_args(site) + " --dry-run");
    CHECK(again.status == 0);
    CHECK_THAT(again.out, Catch::Contains("compared with the kernel's table inet wardgate"));
    CHECK_THAT(again.out, Catch::Contains("kernel: table inet wardgate holds exactly this policy"));
    CHECK_THAT(again.out, Catch::Contains("No changes."));

    // The state file still says "applied", but the table is gone.
    ns.exec("nft delete table inet wardgate");
    auto missing = wardgate_in(ns, apply_args(site) + " --dry-run");
    CHECK(missing.status == 2);
    CHECK_THAT(missing.out, Catch::Contains("kernel: table inet wardgate does not exist"));
    CHECK_THAT(missing.out, !Catch::Contains("No changes."));

    // Edited by hand: one address added to a set.
    REQUIRE(wardgate_in(ns, apply_args(site)).status == 0);
    ns.exec("nft add element inet wardgate ep_pacs_v4 '{ 10.50.0.99 }'");
    auto edited = wardgate_in(ns, plan_args(site));
    CHECK(edited.status == 2);
    CHECK_THAT(edited.out, Catch::Contains("kernel: table inet wardgate differs from this policy"));
    CHECK_THAT(edited.out, Catch::Contains("10.50.0.99"));
    CHECK_THAT(edited.out, !Catch::Contains("No changes."));
}
