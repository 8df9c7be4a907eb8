// The gateway service (`wardgate serve`) in a namespace of its own, on a copy of the
// gateway test site: start, edits, broken edits, drift, metrics, the status socket,
// commit-confirmed, and being killed in the middle of an apply.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
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
#include "wardgate/service/status.hpp"

using namespace wardgate;
using wardgate::testing::icu_monitor_toml;
using wardgate::testing::kGatewaySite;
using wardgate::testing::live_state;
using wardgate::testing::Netns;
using wardgate::testing::read_text;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A scratch directory holding a copy of the gateway site and the service's files.
struct ServiceDir : wardgate::testing::TempDir {
    ServiceDir() : wardgate::testing::TempDir("svc") {
        std::filesystem::copy(kGatewaySite, site(), std::filesystem::copy_options::recursive);
    }
    std::filesystem::path site() const { return path / "site"; }
    std::filesystem::path socket() const { return path / "status.sock"; }
    std::filesystem::path metrics() const { return path / "wardgate.prom"; }
    std::filesystem::path state() const { return path / "state"; }
    std::filesystem::path log() const { return path / "service.log"; }
    // Replaces a site file the way an editor does: write a new file, rename it over.
    void write_site(const std::string& relative, const std::string& text) const {
        auto tmp = path / "edit.tmp";
        std::ofstream(tmp) << text;
        std::filesystem::rename(tmp, site() / relative);
    }
};

std::string original_devices() { return read_text(kGatewaySite + "/devices.toml"); }

// `wardgate serve` inside the namespace, as its own process.
class ServiceProcess {
public:
    ServiceProcess(const Netns& ns, const ServiceDir& dir, std::vector<std::string> extra = {}) : ns_(ns), dir_(dir) {
        std::vector<std::string> args{WARDGATE_BINARY,         "serve",         dir.site().string(),
                                      "--socket",              dir.socket().string(),
                                      "--metrics-file",        dir.metrics().string(),
                                      "--state-dir",           dir.state().string(),
                                      "--drift-interval",      "1",
                                      "--debounce-ms",         "150"};
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = spawn_in(ns, args, dir.log().string());
    }
    ~ServiceProcess() { stop(SIGTERM); }
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Returns the exit status, -signal when killed.
    int stop(int sig) {
        if (pid_ <= 0) return 0;
        kill(pid_, sig);
        int status = 0;
        for (int i = 0; i < 100; ++i) {
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
            }
            std::this_thread::sleep_for(50ms);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return -SIGKILL;
    }
    json status() const { return service::query_status(dir_.socket(), 3s); }
    // Polls the status until pred holds; fails the test with the last status and the log otherwise.
    json wait_for(const std::function<bool(const json&)>& pred, const std::string& what,
                  std::chrono::milliseconds limit = 30s) const {
        auto end = std::chrono::steady_clock::now() + limit;
        json last;
        std::string error;
        while (std::chrono::steady_clock::now() < end) {
            try {
                last = status();
                if (pred(last)) return last;
            } catch (const std::exception& e) {
                error = e.what();
            }
            std::this_thread::sleep_for(100ms);
        }
        FAIL("waited in vain for " << what << "\nlast status: " << last.dump(2) << "\nlast error: " << error
                                   << "\nservice log:\n" << read_text(dir_.log()));
        return last;
    }

private:
    const Netns& ns_;
    const ServiceDir& dir_;
    pid_t pid_ = -1;
};

bool applied(const json& s) { return !s.at("policy_version").get<std::string>().empty(); }

// The name of the set in `listing` that holds `address`.
std::string set_holding(const std::string& listing, const std::string& address) {
    auto at = listing.find(address);
    REQUIRE(at != std::string::npos);
    auto set = listing.rfind("\tset ", at);
    REQUIRE(set != std::string::npos);
    auto start = set + 5;
    return listing.substr(start, listing.find(' ', start) - start);
}

// The canonical kernel state of a site's ruleset, made in a scratch namespace.
std::string described(const std::filesystem::path& site) {
    PipelineOptions o;
    o.today = today_utc();
    nft::Ruleset rs = nft::lower_policy(run_pipeline(site, o).policy);
    Netns scratch("svc-ref");
    return scratch.run([&] {
        netlink::apply_ruleset(rs);
        return netlink::describe_live_table();
    });
}

// The lines of `text` that `other` does not have, at most a few, for a failure message.
std::string lines_missing_from(const std::string& text, const std::string& other) {
    std::set<std::string> have;
    std::istringstream o(other);
    for (std::string line; std::getline(o, line);) have.insert(line);
    std::istringstream t(text);
    std::string out;
    int shown = 0;
    for (std::string line; std::getline(t, line);)
        if (!have.count(line) && shown++ < 8) out += "\n  " + line;
    return out;
}

const json& segment_status(const json& status, const std::string& name) {
    for (const auto& s : status.at("segments"))
        if (s.at("name") == name) return s;
    FAIL("no segment " << name);
    static json none;
    return none;
}

}  // namespace

TEST_CASE("the service applies the site, follows edits, keeps the policy on broken edits and re-asserts it on drift",
          "[service][kernel]") {
    Netns ns("svc-life");
    ServiceDir dir;
    ServiceProcess svc(ns, dir);

    json s = svc.wait_for(applied, "the first apply");
    std::string v1 = s.at("policy_version");
    CHECK(v1.rfind("fnv1a64:", 0) == 0);
    CHECK(s.at("enforcement") == "enforcing");
    CHECK(s.at("last_apply").at("result") == "ok");
    CHECK(s.at("site") == "Gateway Test Site");
    CHECK(segment_status(s, "icu").at("mode") == "enforce");
    CHECK(segment_status(s, "icu").at("vlan") == 110);
    CHECK(segment_status(s, "icu").at("dropped_packets").is_number());
    CHECK(s.at("conntrack").at("lost_events") == 0);  // the service listens to conntrack events
    std::string listing = ns.nft_list();
    REQUIRE(listing.find("10.110.0.21") != std::string::npos);

    // The status socket is for root only.
    struct stat st {};
    REQUIRE(::stat(dir.socket().c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);

    auto cli = wardgate::testing::run_wardgate("status --socket " + dir.socket().string());
    CHECK(cli.exit_code == 0);
    CHECK(cli.out.find("policy version:  " + v1 + "\n") != std::string::npos);
    CHECK(cli.out.find("enforcement:     enforcing\n") != std::string::npos);
    auto unreachable = wardgate::testing::run_wardgate("status --socket " + (dir.path / "nobody.sock").string());
    CHECK(unreachable.exit_code == 1);
    CHECK(unreachable.err.find("the wardgate service is not reachable on") != std::string::npos);

    SECTION("edits, broken edits and drift") {
        // A second monitor in the ICU: the kernel set gets its address.
        dir.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-02", "10.110.0.22"));
        s = svc.wait_for([&](const json& j) { return j.at("policy_version") != v1; }, "the re-apply after an edit");
        std::string v2 = s.at("policy_version");
        CHECK(s.at("last_apply").at("result") == "ok");
        CHECK(s.at("counters").at("reloads").get<int>() >= 1);
        // The apply's log line says where the time from the edit went, stage by stage.
        CHECK(std::regex_search(read_text(dir.log()),
                                std::regex("policy " + v2 + R"( applied \([^)]*\); site [0-9]+ ms, flows [0-9]+ ms, )"
                                           R"(classify [0-9]+ ms, dns [0-9]+ ms, compile [0-9]+ ms, lowering [0-9]+ ms, kernel [0-9]+ ms\n)")));
        CHECK(ns.nft_list().find("10.110.0.22") != std::string::npos);

        // A broken edit: the running policy stays, the status says why.
        std::string before = live_state(ns);
        dir.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-03", "10.110.0.999"));
        s = svc.wait_for([](const json& j) { return j.at("last_reload").at("result") == "rejected"; }, "the rejected reload");
        CHECK(s.at("policy_version") == v2);
        CHECK(s.at("counters").at("rejected_reloads") == 1);
        auto diagnostics = s.at("last_reload").at("diagnostics").dump();
        CHECK(diagnostics.find("devices.toml") != std::string::npos);
        CHECK(diagnostics.find("10.110.0.999") != std::string::npos);
        CHECK(live_state(ns) == before);
        CHECK(read_text(dir.log()).find("the site does not validate, the running policy " + v2 + " stays in place") !=
              std::string::npos);

        // A hand edit of the table: detected within the drift interval and put right.
        std::string set = set_holding(ns.nft_list(), "10.110.0.21");
        // exec() throws unless nft accepted the element. The listing is not checked here: with a
        // one-second drift interval the service may already have put it right.
        ns.exec("nft add element inet wardgate " + set + " '{ 10.110.0.77 }'");
        s = svc.wait_for([](const json& j) { return j.at("counters").at("drift_events").get<int>() >= 1; }, "drift", 10s);
        const auto& event = s.at("drift").at("last_event");
        CHECK(event.at("reasserted") == true);
        CHECK(event.at("differences").dump().find("10.110.0.77") != std::string::npos);
        CHECK(s.at("counters").at("reasserts").get<int>() >= 1);
        CHECK(ns.nft_list().find("10.110.0.77") == std::string::npos);
        CHECK(live_state(ns) == before);
        CHECK(s.at("policy_version") == v2);

        // Stopping the service leaves the policy in the kernel.
        CHECK(svc.stop(SIGTERM) == 0);
        CHECK(live_state(ns) == before);
    }
}

TEST_CASE("the service counts drops per segment and writes them in Prometheus text format", "[service][kernel]") {
    wardgate::testing::GatewayTopology topo;
    ServiceDir dir;
    ServiceProcess svc(topo.gw, dir);
    svc.wait_for(applied, "the first apply");
    // Telnet from the ICU monitor to the outside: denied, dropped by the ICU's chain.
    CHECK_FALSE(wardgate::testing::tcp_exchange(topo.dev, topo.out, "203.0.113.10", 23, 1500));
    CHECK(wardgate::testing::tcp_exchange(topo.dev, topo.srv, "10.50.0.10", 104));
    json s = svc.wait_for([](const json& j) { return segment_status(j, "icu").at("dropped_packets").get<int>() > 0; }, "ICU drops");
    CHECK(segment_status(s, "icu").at("would_be_dropped_packets") == 0);
    // The DICOM exchange was accepted: its packets count for the ICU, its replies for the servers.
    CHECK(segment_status(s, "icu").at("accepted_packets").get<int>() >= 3);
    CHECK(segment_status(s, "icu").at("accepted_bytes").get<int>() > segment_status(s, "icu").at("accepted_packets").get<int>() * 40);
    CHECK(segment_status(s, "servers").at("accepted_packets").get<int>() >= 2);
    CHECK(segment_status(s, "servers").at("dropped_packets") == 0);
    std::string status_text = wardgate::service::render_status_text(s);
    INFO(status_text);
    CHECK(std::regex_search(status_text, std::regex(R"(icu +enforce +accepted +[1-9][0-9]* packets +[1-9][0-9]* bytes, dropped +[1-9][0-9]* packets)")));

    // The metrics file follows within a drift interval.
    std::string text;
    for (int i = 0; i < 50; ++i) {
        text = read_text(dir.metrics());
        if (text.find("segment=\"icu\"} 0\n") == std::string::npos && text.find("segment=\"icu\"}") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    INFO(text);
    struct stat st {};
    REQUIRE(::stat(dir.metrics().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);  // node_exporter runs as another user
    CHECK(text.find("wardgate_conntrack_lost_events_total{site=\"Gateway Test Site\"} 0\n") != std::string::npos);

    // Every line is a HELP, a TYPE or a sample of a family whose TYPE came before it.
    const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
    const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
    const std::regex sample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\} [0-9]+(\.[0-9]+)?(e-[0-9]+)?)");
    std::map<std::string, std::string> types;
    std::set<std::string> helped;
    std::istringstream lines(text);
    std::string line;
    int samples = 0;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (std::regex_match(line, m, help)) {
            CHECK(helped.insert(m[1]).second);
        } else if (std::regex_match(line, m, type)) {
            CHECK(types.emplace(m[1], m[2]).second);
            if (m[2] == "counter") CHECK(std::string(m[1]).ends_with("_total"));
        } else if (std::regex_match(line, m, sample)) {
            CHECK(types.count(m[1]));
            ++samples;
        } else {
            FAIL("not exposition format: " << line);
        }
    }
    CHECK(samples >= 10);
    CHECK(text.back() == '\n');
    CHECK(text.find("wardgate_applies_total{site=\"Gateway Test Site\"} 1\n") != std::string::npos);
    CHECK(text.find("wardgate_rollbacks_total{site=\"Gateway Test Site\"} 0\n") != std::string::npos);
    // The scorecard of the site as loaded, one gauge per KPI.
    CHECK(std::regex_search(text, std::regex(R"(\nwardgate_kpi\{site="Gateway Test Site",kpi="profile_coverage"\} (1|0(\.[0-9]+)?)\n)")));
    CHECK(std::regex_search(text, std::regex(R"(\nwardgate_kpi\{site="Gateway Test Site",kpi="high_risk_devices"\} [0-9]+\n)")));
    CHECK(text.find("wardgate_drift_events_total{site=\"Gateway Test Site\"} 0\n") != std::string::npos);
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(R"(wardgate_segment_dropped_packets_total\{site="Gateway Test Site",segment="icu"\} ([0-9]+))")));
    CHECK(std::stoi(m[1].str()) > 0);
    CHECK(text.find("wardgate_segment_dropped_packets_total{site=\"Gateway Test Site\",segment=\"servers\"} ") != std::string::npos);
    REQUIRE(std::regex_search(
        text, m, std::regex(R"(wardgate_segment_accepted_packets_total\{site="Gateway Test Site",segment="icu"\} ([0-9]+))")));
    CHECK(std::stoi(m[1].str()) >= 3);
    CHECK(text.find("wardgate_segment_accepted_bytes_total{site=\"Gateway Test Site\",segment=\"servers\"} ") != std::string::npos);
}

TEST_CASE("killing the service in the middle of an apply never leaves a partial table", "[service][kernel]") {
    Netns ns("svc-kill");
    ServiceDir dir;
    // B has many more addresses than A, so that its apply takes a while.
    std::string devices_a = original_devices(), devices_b = original_devices();
    for (int i = 0; i < 1500; ++i)
        devices_b += icu_monitor_toml(fmt::format("monitor-icu-{:04}", i), fmt::format("fd00:110::{:x}:1", i + 0x100));
    std::string state_a = described(dir.site());
    dir.write_site("devices.toml", devices_b);
    std::string state_b = described(dir.site());
    dir.write_site("devices.toml", devices_a);
    REQUIRE(state_a != state_b);

    // Kill points sweep the start (load + whole-table apply) and the reload after an edit
    // (debounce 150 ms, then load + element delta): a reload of B takes ~100-150 ms here.
    constexpr int kRounds = 10;
    int kills_with_a = 0, kills_with_b = 0;
    bool had_table = false;
    for (int round = 0; round < kRounds; ++round) {
        auto svc = std::make_unique<ServiceProcess>(ns, dir);
        if (round < 3) {
            std::this_thread::sleep_for(std::chrono::milliseconds(40 + 60 * round));  // during the start
        } else {
            svc->wait_for(applied, "the start");
            dir.write_site("devices.toml", round % 2 ? devices_b : devices_a);
            std::this_thread::sleep_for(std::chrono::milliseconds(170 + 20 * (round - 3)));  // during the reload
        }
        svc->stop(SIGKILL);
        std::string now = live_state(ns);
        bool absent = now == "no table inet wardgate\n";  // only before the very first commit
        INFO("round " << round);
        INFO("lines not in A: " << lines_missing_from(now, state_a) << "\nlines not in B: " << lines_missing_from(now, state_b)
                                << "\nlines of B not there: " << lines_missing_from(state_b, now));
        std::string log = read_text(dir.log());
        INFO("the service's log ends:\n" << log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
        CHECK(((absent && !had_table) || now == state_a || now == state_b));
        had_table = had_table || !absent;
        kills_with_a += now == state_a;
        kills_with_b += now == state_b;
    }
    WARN(fmt::format("killed {} times with -9: table A {} times, B {} times, absent {} times (any other state fails the test)",
                     kRounds, kills_with_a, kills_with_b, kRounds - kills_with_a - kills_with_b));
}

TEST_CASE("the service applies site edits commit-confirmed and honours the deadline", "[service][kernel]") {
    Netns ns("svc-cc");
    ServiceDir dir;
    ServiceProcess svc(ns, dir, {"--confirm-within", "2"});
    json s = svc.wait_for(applied, "the first apply");
    std::string v1 = s.at("policy_version");
    std::string table_v1 = ns.nft_list();
    CHECK(s.at("commit_confirmed").is_null());  // the apply at start is not waited on

    // An edit nobody confirms: rolled back at the deadline, and not re-asserted afterwards.
    dir.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-02", "10.110.0.22"));
    s = svc.wait_for([](const json& j) { return j.at("commit_confirmed").is_object(); }, "the commit-confirmed apply");
    CHECK(s.at("enforcement") == "waiting-for-confirmation");
    std::string v2 = s.at("policy_version");
    CHECK(v2 != v1);
    CHECK(ns.nft_list().find("10.110.0.22") != std::string::npos);
    s = svc.wait_for([](const json& j) { return j.at("counters").at("rollbacks") == 1; }, "the rollback", 10s);
    CHECK(s.at("policy_version") == v1);
    CHECK(s.at("last_apply").at("result") == "rolled-back");
    CHECK(ns.nft_list() == table_v1);
    std::this_thread::sleep_for(2500ms);  // two drift intervals: v2 stays rolled back
    s = svc.status();
    CHECK(s.at("policy_version") == v1);
    CHECK(s.at("counters").at("drift_events") == 0);
    CHECK(ns.nft_list() == table_v1);

    // Another edit, confirmed in time: it stays.
    dir.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-03", "10.110.0.23"));
    s = svc.wait_for([](const json& j) { return j.at("commit_confirmed").is_object(); }, "the second commit-confirmed apply");
    auto r = wardgate::testing::run_wardgate("confirm --state-dir " + dir.state().string());
    CHECK(r.exit_code == 0);
    s = svc.wait_for([](const json& j) { return j.at("commit_confirmed").is_null(); }, "the confirmation");
    std::this_thread::sleep_for(2500ms);
    s = svc.status();
    CHECK(s.at("counters").at("rollbacks") == 1);
    CHECK(s.at("enforcement") == "enforcing");
    CHECK(ns.nft_list().find("10.110.0.23") != std::string::npos);
}

TEST_CASE("a service starting after an overdue unconfirmed commit rolls it back first", "[service][kernel]") {
    Netns ns("svc-overdue");
    ServiceDir dir;
    // An unconfirmed commit whose watchdog died with everything else (a crash, a reboot of the service).
    PipelineOptions o;
    o.today = today_utc();
    nft::Ruleset rs = nft::lower_policy(run_pipeline(dir.site(), o).policy);
    ns.run([&] {
        service::CommitConfirmedOptions co;
        co.state_dir = dir.state();
        co.within = 500ms;
        co.watchdog_program = WARDGATE_BINARY;
        auto cc = service::CommitConfirmed::begin(co);
        ::kill(cc.record().watchdog_pid, SIGKILL);
        netlink::apply_ruleset(rs);
        cc.finish();
        return std::string();
    });
    std::this_thread::sleep_for(700ms);
    REQUIRE(service::pending_record(dir.state()));

    ServiceProcess svc(ns, dir);
    json s = svc.wait_for(applied, "the first apply");
    CHECK(s.at("counters").at("rollbacks") == 1);
    CHECK_FALSE(service::pending_record(dir.state()));
    CHECK(std::filesystem::exists(service::record_files(dir.state()).rolled_back));
    CHECK(read_text(dir.log()).find("was not confirmed in time") != std::string::npos);
}

TEST_CASE("with a trunk the service also sets up the VLAN links, and a kernel without 8021q does not stop the policy",
          "[service][vlan][kernel]") {
    Netns ns("svc-vlan");
    ns.exec("ip link add trunk0 type veth peer name peer0");
    ns.exec("ip link set trunk0 up");
    ServiceDir dir;
    ServiceProcess svc(ns, dir, {"--trunk", "trunk0"});
    json s = svc.wait_for(applied, "the first apply");
    CHECK(s.at("enforcement") == "enforcing");
    std::string vlan = s.at("vlan");
    if (vlan == "ok") {
        CHECK(ns.exec_status("ip link show trunk0.110") == 0);
    } else {
        CHECK(vlan ==
              "cannot create VLAN link trunk0.110 (segment icu, VLAN 110) on trunk0: kernel has no 802.1Q VLAN support (module 8021q)");
        // Not checked here: the kernel has no 8021q module.
        WARN("the service creating VLAN links is not checked here: the kernel has no 8021q module");
    }
}

TEST_CASE("status says what the kernel does: a site in monitor mode is monitoring, per segment as installed",
          "[service][kernel][monitor]") {
    Netns ns("svc-mon");
    ServiceDir dir;
    auto site_toml = read_text(kGatewaySite + "/site.toml");
    site_toml.replace(site_toml.find("mode = \"enforce\""), 16, "mode = \"monitor\"");
    dir.write_site("site.toml", site_toml);
    ServiceProcess svc(ns, dir);
    json s = svc.wait_for([](const json& j) { return applied(j) && segment_status(j, "icu").at("dropped_packets").is_number(); },
                          "the first apply");
    CHECK(s.at("enforcement") == "monitoring");
    CHECK(segment_status(s, "icu").at("mode") == "monitor");
    CHECK(segment_status(s, "servers").at("mode") == "monitor");
    auto metrics = svc.wait_for([&](const json&) { return std::filesystem::exists(dir.metrics()); }, "metrics");
    (void)metrics;
    CHECK_THAT(read_text(dir.metrics()), Catch::Contains("wardgate_segment_monitor{site=\"Gateway Test Site\",segment=\"icu\"} 1"));
}

TEST_CASE("two gateways in two namespaces of one host keep their sockets and commit-confirmed records apart by default",
          "[service][kernel]") {
    Netns a("svc-ns-a"), b("svc-ns-b");
    ServiceDir dir_a, dir_b;
    dir_b.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-09", "10.110.0.29"));
    const std::string inode_a = a.exec("stat -L -c %i /proc/self/ns/net"), inode_b = b.exec("stat -L -c %i /proc/self/ns/net");
    auto trimmed = [](std::string s) { return s.substr(0, s.find_first_of("\r\n")); };
    const std::filesystem::path run_a = "/run/wardgate/netns-" + trimmed(inode_a), run_b = "/run/wardgate/netns-" + trimmed(inode_b);
    const std::filesystem::path state_a = "/var/lib/wardgate/netns-" + trimmed(inode_a),
                                state_b = "/var/lib/wardgate/netns-" + trimmed(inode_b);
    struct Cleanup {
        std::vector<std::filesystem::path> paths;
        std::vector<pid_t> pids;
        ~Cleanup() {
            for (pid_t p : pids) {
                kill(p, SIGTERM);
                waitpid(p, nullptr, 0);
            }
            std::error_code ignored;
            for (const auto& p : paths) std::filesystem::remove_all(p, ignored);
        }
    } cleanup{{run_a, run_b, state_a, state_b}, {}};
    // No --socket and no --state-dir: the defaults.
    for (auto [ns, dir] : {std::pair{&a, &dir_a}, std::pair{&b, &dir_b}})
        cleanup.pids.push_back(wardgate::testing::spawn_in(
            *ns,
            {WARDGATE_BINARY, "serve", dir->site().string(), "--metrics-file", dir->metrics().string(), "--drift-interval",
             "1", "--debounce-ms", "150", "--confirm-within", "30"},
            dir->log().string()));

    auto status_in = [&](const Netns& ns) {
        std::string out;
        const int rc = ns.exec_status(std::string(WARDGATE_BINARY) + " status --format json 2>&1", &out);
        return rc == 0 ? json::parse(out) : json{{"error", out}};
    };
    auto wait_in = [&](const Netns& ns, const std::function<bool(const json&)>& pred, const std::string& what) {
        json last;
        for (int i = 0; i < 300; ++i) {
            last = status_in(ns);
            if (!last.contains("error") && pred(last)) return last;
            std::this_thread::sleep_for(100ms);
        }
        FAIL("waited in vain for " << what << ": " << last.dump());
        return last;
    };
    json sa = wait_in(a, applied, "gateway a's first apply");
    json sb = wait_in(b, applied, "gateway b's first apply");
    // Each status names its own policy: b's site has one device more.
    CHECK(sa.at("policy_version") != sb.at("policy_version"));
    CHECK(std::filesystem::exists(run_a / "status.sock"));
    CHECK(std::filesystem::exists(run_b / "status.sock"));
    CHECK(b.nft_list().find("10.110.0.29") != std::string::npos);
    CHECK(a.nft_list().find("10.110.0.29") == std::string::npos);

    // An edit on a, applied commit-confirmed: a's record, in a's directory; b has nothing to confirm.
    dir_a.write_site("devices.toml", original_devices() + icu_monitor_toml("monitor-icu-03", "10.110.0.23"));
    wait_in(a, [](const json& j) { return j.at("commit_confirmed").is_object(); }, "a's commit-confirmed apply");
    CHECK(std::filesystem::exists(state_a));
    std::string out;
    CHECK(b.exec_status(std::string(WARDGATE_BINARY) + " confirm 2>&1", &out) == 1);
    CHECK(status_in(a).at("commit_confirmed").is_object());
    CHECK(a.exec_status(std::string(WARDGATE_BINARY) + " confirm 2>&1", &out) == 0);
    wait_in(a, [](const json& j) { return j.at("commit_confirmed").is_null(); }, "a's confirmation");
    CHECK(a.nft_list().find("10.110.0.23") != std::string::npos);
    CHECK(status_in(b).at("commit_confirmed").is_null());
}
