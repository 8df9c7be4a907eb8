// Commit confirmed against the real kernel, each test in a namespace of its own: an
// unconfirmed commit goes back to the exact previous table (also when the applying process
// is killed right after the commit), a confirmed one stays.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/gateway_fixture.hpp"
#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/service/confirm.hpp"

using namespace wardgate;
using wardgate::testing::kGatewaySite;
using wardgate::testing::Netns;
using wardgate::testing::TempDir;
using namespace std::chrono_literals;

namespace {

nft::Ruleset ruleset_a() { return nft::lower_policy(wardgate::testing::gateway_policy()); }

// A with one more address in its first IPv4 address set (a different table).
nft::Ruleset ruleset_b(const std::string& extra = "10.110.0.99") {
    nft::Ruleset rs = ruleset_a();
    for (auto& s : rs.sets)
        if (!s.verdict_map && s.key == std::vector{nft::KeyType::ipv4_addr}) {
            s.elements.push_back({{{nft::ElementPart::Kind::prefix, Prefix::host(*IpAddress::parse(extra)), 0}}, {}});
            return rs;
        }
    FAIL("the gateway site has no IPv4 address set");
    return rs;
}

std::string apply_ruleset_in(const Netns& ns, const nft::Ruleset& rs) {
    return ns.run([&] {
        netlink::apply_ruleset(rs);
        return std::string("applied");
    });
}

service::CommitConfirmedOptions options(const TempDir& state, std::chrono::milliseconds within) {
    service::CommitConfirmedOptions o;
    o.state_dir = state.path;
    o.within = within;
    o.watchdog_program = WARDGATE_BINARY;  // this test binary is not wardgate
    o.site = "tests/data/gateway-site";
    return o;
}

// What `wardgate apply --confirm-within` does, inside the namespace.
std::string commit_confirmed(const Netns& ns, const TempDir& state, const nft::Ruleset& rs, std::chrono::milliseconds within) {
    return ns.run([&] {
        auto cc = service::CommitConfirmed::begin(options(state, within));
        netlink::apply_ruleset(rs);
        cc.finish();
        return cc.record().id;
    });
}

bool file_exists(const std::filesystem::path& p) { return std::filesystem::exists(p); }

// Waits until the pending record is gone (confirmed or rolled back), at most `limit`.
bool wait_resolved(const TempDir& state, std::chrono::milliseconds limit) {
    auto files = service::record_files(state.path);
    auto end = std::chrono::steady_clock::now() + limit;
    while (file_exists(files.pending)) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

bool process_alive(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    if (!std::getline(stat, text)) return false;
    auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

bool wait_exited(int pid, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (process_alive(pid)) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

std::string watchdog_log(const TempDir& state) { return wardgate::testing::read_text(service::record_files(state.path).log); }

}  // namespace

TEST_CASE("the rollback record survives a JSON round trip", "[confirm]") {
    service::RollbackRecord r;
    r.id = "00ff";
    r.site = "s";
    r.version = "fnv1a64:0123";
    r.created_ms = 1;
    r.deadline_ms = 2001;
    r.previous_absent = false;
    r.previous_ruleset = "table inet wardgate {\n}\n";
    r.new_genid = 7;
    r.watchdog_pid = 99;
    auto back = nlohmann::json(r).get<service::RollbackRecord>();
    CHECK(nlohmann::json(back) == nlohmann::json(r));
    TempDir state("cc-state");
    CHECK_FALSE(service::pending_record(state.path));
    auto c = service::confirm(state.path);
    CHECK(c.outcome == service::ConfirmOutcome::nothing_pending);
    CHECK(c.message == "nothing to confirm: no commit is waiting");
}

TEST_CASE("an unconfirmed commit is rolled back to the byte-identical previous table", "[confirm][kernel]") {
    Netns ns("cc-roll");
    TempDir state("cc-state");
    apply_ruleset_in(ns, ruleset_a());
    std::string a = ns.nft_list();
    REQUIRE_FALSE(a.empty());

    auto start = std::chrono::steady_clock::now();
    std::string id = commit_confirmed(ns, state, ruleset_b(), 2000ms);
    std::string b = ns.nft_list();
    CHECK(b != a);
    CHECK(b.find("10.110.0.99") != std::string::npos);
    auto pending = service::pending_record(state.path);
    REQUIRE(pending);
    CHECK(pending->id == id);
    CHECK_FALSE(pending->previous_absent);
    CHECK(pending->previous_ruleset == a);
    CHECK(pending->new_genid != 0);
    int watchdog = pending->watchdog_pid;
    CHECK(process_alive(watchdog));

    REQUIRE(wait_resolved(state, 8000ms));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 1900ms);  // not before the deadline
    CHECK(ns.nft_list() == a);
    auto rolled = service::read_record(service::record_files(state.path).rolled_back);
    REQUIRE(rolled);
    CHECK(rolled->id == id);
    // The watchdog logs after it has cleared the pending record: wait for it to finish.
    REQUIRE(wait_exited(watchdog, 5000ms));
    CHECK(watchdog_log(state).find("not confirmed in time") != std::string::npos);
    // Too late now:
    CHECK(service::confirm(state.path).outcome == service::ConfirmOutcome::nothing_pending);
}

TEST_CASE("a confirmed commit stays", "[confirm][kernel]") {
    Netns ns("cc-keep");
    TempDir state("cc-state");
    apply_ruleset_in(ns, ruleset_a());
    commit_confirmed(ns, state, ruleset_b(), 2000ms);
    std::string b = ns.nft_list();
    int watchdog = service::pending_record(state.path)->watchdog_pid;

    // Through the command line, as a person would.
    auto r = wardgate::testing::run_wardgate("confirm --state-dir " + state.path.string());
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("confirmed commit ", 0) == 0);
    CHECK_FALSE(file_exists(service::record_files(state.path).pending));
    CHECK(file_exists(service::record_files(state.path).confirmed));

    std::this_thread::sleep_for(2500ms);  // past the deadline
    CHECK(ns.nft_list() == b);
    CHECK_FALSE(process_alive(watchdog));
    auto again = wardgate::testing::run_wardgate("confirm --state-dir " + state.path.string());
    CHECK(again.exit_code == 1);
    CHECK(again.err == "nothing to confirm: no commit is waiting\n");
}

TEST_CASE("the watchdog rolls back even when the applying process is killed right after the commit", "[confirm][kernel]") {
    Netns ns("cc-kill");
    TempDir state("cc-state");
    apply_ruleset_in(ns, ruleset_a());
    std::string a = ns.nft_list();
    nft::Ruleset b = ruleset_b();
    // The child commits, then dies by SIGKILL before it can do anything else (finish()
    // never runs: the record has no generation id and the lock goes with the process).
    CHECK_THROWS_WITH(ns.run([&] {
        auto cc = service::CommitConfirmed::begin(options(state, 2000ms));
        netlink::apply_ruleset(b);
        ::kill(::getpid(), SIGKILL);
        return std::string("not reached");
    }),
                      Catch::Contains("child process died"));
    CHECK(ns.nft_list().find("10.110.0.99") != std::string::npos);
    auto pending = service::pending_record(state.path);
    REQUIRE(pending);
    CHECK(pending->new_genid == 0);

    REQUIRE(wait_resolved(state, 8000ms));
    CHECK(ns.nft_list() == a);
}

TEST_CASE("a table that did not exist is deleted again, and a second commit keeps the first previous table", "[confirm][kernel]") {
    Netns ns("cc-absent");
    TempDir state("cc-state");
    REQUIRE(ns.nft_list().empty());
    commit_confirmed(ns, state, ruleset_a(), 3000ms);
    CHECK_FALSE(ns.nft_list().empty());
    // Committed again before the first was confirmed: the rollback still goes back to before both.
    commit_confirmed(ns, state, ruleset_b(), 1500ms);
    CHECK(ns.nft_list().find("10.110.0.99") != std::string::npos);
    auto pending = service::pending_record(state.path);
    REQUIRE(pending);
    CHECK(pending->previous_absent);

    REQUIRE(wait_resolved(state, 8000ms));
    CHECK(ns.nft_list().empty());
    // Only one rollback happened (the first watchdog saw it was superseded).
    std::string log = watchdog_log(state);
    CHECK(log.find("superseded") != std::string::npos);
    // Other tables are never touched.
    ns.exec("nft add table inet other");
    commit_confirmed(ns, state, ruleset_a(), 500ms);
    REQUIRE(wait_resolved(state, 6000ms));
    CHECK(ns.nft_list().empty());
    CHECK_FALSE(ns.nft_list("other").empty());
}

TEST_CASE("a failed commit clears its record and stops its watchdog", "[confirm][kernel]") {
    Netns ns("cc-fail");
    TempDir state("cc-state");
    apply_ruleset_in(ns, ruleset_a());
    nft::Ruleset broken = ruleset_a();
    broken.chains.back().rules.front().verdict = {nft::Verdict::Kind::jump, "no_such_chain"};
    std::string out = ns.run([&] {
        auto cc = service::CommitConfirmed::begin(options(state, 5000ms));
        int watchdog = cc.record().watchdog_pid;
        try {
            netlink::apply_ruleset(broken);
            return std::string("applied?");
        } catch (const std::exception&) {
            bool cleared = cc.abandon();
            return std::string(cleared ? "cleared " : "kept ") + std::to_string(watchdog);
        }
    });
    REQUIRE(out.rfind("cleared ", 0) == 0);
    CHECK_FALSE(service::pending_record(state.path));
    int watchdog = std::stoi(out.substr(8));
    CHECK(wait_exited(watchdog, 2000ms));
}

TEST_CASE("wardgate apply --confirm-within rolls back unless confirmed", "[confirm][kernel]") {
    Netns ns("cc-cli");
    TempDir state("cc-state");
    apply_ruleset_in(ns, ruleset_a());
    std::string a = ns.nft_list();
    // The gateway site with one more monitor.
    auto site = state.path / "site";
    std::filesystem::copy(kGatewaySite, site, std::filesystem::copy_options::recursive);
    std::ofstream(site / "devices.toml", std::ios::app) << R"(
[[device]]
name = "monitor-icu-02"
addresses = ["10.110.0.22"]
role = "patient-monitor"
vendor = "Acme"
model = "Vitals 1"
segment = "icu"
fda_class = "II"
lifecycle = "support"
)";
    std::string args = fmt::format("{} apply {} --yes --today 2026-11-22 --color never --state {} --state-dir {} --confirm-within 2",
                                   WARDGATE_BINARY, site.string(), (state.path / "state.json").string(), state.path.string());
    std::string out;
    int rc = ns.exec_status(args, &out);
    INFO(out);
    REQUIRE(rc == 0);
    CHECK(out.find("unless you run `wardgate confirm`") != std::string::npos);
    CHECK(ns.nft_list().find("10.110.0.22") != std::string::npos);
    auto pending = service::pending_record(state.path);
    REQUIRE(pending);
    CHECK(pending->version.rfind("fnv1a64:", 0) == 0);
    REQUIRE(wait_resolved(state, 8000ms));
    CHECK(ns.nft_list() == a);

    // Again, confirmed this time.
    REQUIRE(ns.exec_status(args, &out) == 0);
    REQUIRE(ns.exec_status(fmt::format("{} confirm --state-dir {}", WARDGATE_BINARY, state.path.string()), &out) == 0);
    std::this_thread::sleep_for(2500ms);
    CHECK(ns.nft_list().find("10.110.0.22") != std::string::npos);
}
