// Gateways that follow published versions: a real PostgreSQL 15 server, three gateway
// namespaces each running `wardgate serve --from` for its own [[gateway]], real traffic through
// each. Publish -> all apply their slices; a new version -> all converge; the database stops ->
// they keep enforcing and say so; it comes back -> they catch up; a tampered slice -> refused,
// the running policy stays, status and an alert say why.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/netns.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/service/status.hpp"
#include "wardgate/store/policy_versions.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kGateways = R"(
[[gateway]]
name = "icu-gw"
segments = ["icu"]

[[gateway]]
name = "servers-gw"
segments = ["servers"]

[[gateway]]
name = "core"
segments = ["icu", "servers"]
)";

const char* kApproval = R"(
[[approval]]
id = "CHG-9999"
from = "device:monitor-icu-01"
to = "endpoint:pacs"
protocol = "tcp"
ports = [9999]
by = "Biomed"
reason = "Vendor log export"
)";

// The gateway test site with the three [[gateway]]s above, copied to DIR/site.
std::filesystem::path gateway_site(const std::filesystem::path& dir) {
    const auto site = dir / "site";
    std::filesystem::copy(kGatewaySite, site, std::filesystem::copy_options::recursive);
    std::ofstream(site / "site.toml", std::ios::app) << kGateways;
    return site;
}

struct Follower {
    std::string gateway;
    GatewayTopology net;
    std::filesystem::path dir;
    pid_t pid = -1;

    std::filesystem::path socket() const { return dir / "status.sock"; }
    std::filesystem::path log() const { return dir / "serve.log"; }
    std::filesystem::path alerts() const { return dir / "alerts.jsonl"; }
    json status() const { return service::query_status(socket(), 3s); }
    // `wardgate serve --from DB` for its gateway in its namespace, its socket and state in `dir`.
    void start(const std::string& db, const std::filesystem::path& publisher_key, const std::vector<std::string>& more) {
        std::vector<std::string> argv{WARDGATE_BINARY, "serve", "--from", db, "--gateway", gateway, "--publisher-key",
                                      publisher_key.string(), "--socket", socket().string(), "--state-dir",
                                      (dir / "state").string()};
        argv.insert(argv.end(), more.begin(), more.end());
        pid = spawn_in(net.gw, argv, log().string());
    }
    void stop() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
        pid = -1;
    }
    ~Follower() { stop(); }
};

json wait_for(const Follower& f, const std::function<bool(const json&)>& pred, const std::string& what,
              std::chrono::seconds limit = 40s) {
    auto end = std::chrono::steady_clock::now() + limit;
    json last;
    std::string error;
    while (std::chrono::steady_clock::now() < end) {
        try {
            last = f.status();
            if (pred(last)) return last;
        } catch (const std::exception& e) {
            error = e.what();
        }
        std::this_thread::sleep_for(100ms);
    }
    FAIL("gateway " << f.gateway << ": waited in vain for " << what << "\nlast status: " << last.dump(2)
                    << "\nlast error: " << error << "\nlog:\n" << read_text(f.log()));
    return last;
}

// `wardgate publish` of the site, which must succeed; what it printed.
std::string publish_site(const std::filesystem::path& site, const std::string& db, const std::filesystem::path& key) {
    auto r = run_wardgate(fmt::format("publish {} --to '{}' --key {} --author tester -q", site.string(), db, key.string()));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

// `wardgate publish SITE --watch` in a namespace of its own, stopped when this goes.
struct WatchingPublisher {
    WatchingPublisher(const std::string& ns_name, const std::filesystem::path& site, const std::string& db,
                      const std::filesystem::path& key, const std::filesystem::path& log_file)
        : ns(ns_name), log(log_file) {
        pid = spawn_in(ns, {WARDGATE_BINARY, "publish", site.string(), "--to", db, "--key", key.string(), "--watch",
                            "--debounce-ms", "50", "--author", "tester"},
                       log.string());
    }
    ~WatchingPublisher() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
    WatchingPublisher(const WatchingPublisher&) = delete;
    WatchingPublisher& operator=(const WatchingPublisher&) = delete;
    // Waits until its log says `text`; fails the test when it does not within that time.
    void wait_for(const std::string& text, std::chrono::seconds within) const {
        const auto until = std::chrono::steady_clock::now() + within;
        while (read_text(log).find(text) == std::string::npos && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(100ms);
        INFO(read_text(log));
        REQUIRE(read_text(log).find(text) != std::string::npos);
    }
    Netns ns;
    std::filesystem::path log;
    pid_t pid = -1;
};

auto applied_version(int64_t v) {
    return [v](const json& s) {
        return s.at("controller").is_object() && s["controller"]["applied_version"] == v && s["enforcement"] == "enforcing";
    };
}

}  // namespace

TEST_CASE("three gateways follow the published versions: apply, converge, ride out the database, refuse a tampered slice",
          "[fleet][kernel][postgres]") {
    PostgresServer server;
    const std::string db = server.create_database("fleet");
    TempDir tmp("fleet");
    const auto key = tmp.path / "publisher.key", pub = tmp.path / "publisher.pub";
    REQUIRE(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 0);
    CHECK(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 1);  // never overwritten
    CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::group_read) == std::filesystem::perms::none);

    const auto site = gateway_site(tmp.path);
    auto publish = [&] { return publish_site(site, db, key); };
    CHECK_THAT(publish(), Catch::Contains("published version 1 of Gateway Test Site") &&
                              Catch::Contains("the whole site and core, icu-gw, servers-gw"));
    CHECK_THAT(publish(), Catch::Contains("unchanged: version 1"));

    std::vector<std::unique_ptr<Follower>> gws;
    for (const char* name : {"icu-gw", "servers-gw", "core"}) {
        auto f = std::make_unique<Follower>();
        f->gateway = name;
        f->dir = tmp.path / name;
        std::filesystem::create_directories(f->dir);
        f->start(db, pub, {"--alerts", f->alerts().string(), "--instance", std::string(name) + "-a",
                           "--heartbeat-interval", "0.5", "--drift-interval", "2"});
        gws.push_back(std::move(f));
    }
    for (auto& f : gws) {
        auto s = wait_for(*f, applied_version(1), "version 1 applied");
        CHECK(s["gateway"] == f->gateway);
        CHECK(s["controller"]["reachable"] == true);
        // Declared: the monitor reaches PACS on DICOM through every gateway; not on 9999.
        CHECK(tcp_exchange(f->net.dev, f->net.srv, "10.50.0.10", 104));
        CHECK_FALSE(tcp_exchange(f->net.dev, f->net.srv, "10.50.0.10", 9999, 1500));
    }
    // Each enforces its own slice: the ICU gateway's holds no rule about the servers alone.
    auto fleet = run_wardgate(fmt::format("fleet --db '{}'", db));
    INFO(fleet.out << fleet.err);
    CHECK(fleet.exit_code == 0);
    CHECK_THAT(fleet.out, Catch::Contains("latest version 1") && Catch::Contains("icu-gw-a") && Catch::Contains("core-a"));

    // A new version: every gateway converges and the approval opens 9999 through each.
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    CHECK_THAT(publish(), Catch::Contains("published version 2"));
    for (auto& f : gws) {
        wait_for(*f, applied_version(2), "version 2 applied");
        CHECK(tcp_exchange(f->net.dev, f->net.srv, "10.50.0.10", 9999));
    }

    // The database goes away: the gateways keep enforcing version 2 and say so.
    server.stop();
    for (auto& f : gws) {
        auto s = wait_for(*f, [](const json& j) { return j["controller"]["reachable"] == false; }, "the database missed");
        CHECK(s["controller"]["applied_version"] == 2);
        CHECK(s["enforcement"] == "enforcing");
        CHECK(tcp_exchange(f->net.dev, f->net.srv, "10.50.0.10", 9999));
    }
    CHECK(run_wardgate(fmt::format("fleet --db '{}'", db)).exit_code == 1);
    // A gateway restarted while the database is away enforces the version it kept.
    {
        Follower& core = *gws[2];
        core.stop();
        core.net.gw.exec("nft delete table inet wardgate");
        core.start(db, pub, {"--instance", "core-a", "--heartbeat-interval", "0.5", "--drift-interval", "2"});
        wait_for(core, applied_version(2), "the kept version 2 enforced again without the database");
        CHECK(tcp_exchange(core.net.dev, core.net.srv, "10.50.0.10", 9999));
    }

    // Back: they reconnect, listen again, and catch up with what is published next.
    server.start();
    std::ofstream(site / "policy.toml", std::ios::app)
        << "\n[[approval]]\nid = \"CHG-9998\"\nfrom = \"device:monitor-icu-01\"\nto = \"endpoint:pacs\"\nprotocol = \"tcp\"\n"
           "ports = [9998]\nby = \"Biomed\"\nreason = \"Second export\"\n";
    CHECK_THAT(publish(), Catch::Contains("published version 3"));
    for (auto& f : gws) {
        auto s = wait_for(*f, applied_version(3), "version 3 applied after the database came back");
        CHECK(s["controller"]["reachable"] == true);
    }
    std::this_thread::sleep_for(1500ms);  // a heartbeat of each at version 3
    fleet = run_wardgate(fmt::format("fleet --db '{}' --format json", db));
    INFO(fleet.out << fleet.err);
    CHECK(fleet.exit_code == 0);

    // Someone with write access to the database alters a slice (opens telnet to the monitors
    // on the ICU gateway) and announces it: refused, the running policy stays.
    server.execute("fleet",
                   "INSERT INTO policy_versions (site, content_hash, author, plan_text, plan_json) "
                   "SELECT site, 'forged', 'mallory', plan_text, plan_json FROM policy_versions WHERE id = 3;"
                   "INSERT INTO policy_slices (version, gateway, document, hash, signature) "
                   "SELECT 4, gateway, replace(document, '\"ports\":[[23,23]]', '\"ports\":[[22,22]]'), "
                   "encode(sha256(convert_to(replace(document, '\"ports\":[[23,23]]', '\"ports\":[[22,22]]'), 'UTF8')), 'hex'), "
                   "signature FROM policy_slices WHERE version = 3;"
                   "SELECT pg_notify('wardgate_policy', 'Gateway Test Site');");
    Follower& icu = *gws[0];
    auto s = wait_for(icu, [](const json& j) { return j["controller"]["refused_versions"].get<int>() >= 1; }, "the forged version refused");
    CHECK_THAT(s["controller"]["last_refusal"].get<std::string>(), Catch::Contains("not signed by the publisher's key"));
    CHECK(s["controller"]["applied_version"] == 3);
    CHECK_THAT(read_text(icu.alerts()), Catch::Contains("policy-refused"));
    CHECK(tcp_exchange(icu.net.dev, icu.net.srv, "10.50.0.10", 9998));
    CHECK(run_wardgate(fmt::format("fleet --db '{}'", db)).exit_code == 2);  // they run 3, the latest is 4

    // Nor can an older version, validly signed, be stored again as the latest: version 1 did
    // not open 9998 nor 9999, and its signatures name version 1, not 5.
    server.execute("fleet",
                   "INSERT INTO policy_versions (site, content_hash, author, plan_text, plan_json) "
                   "SELECT site, 'replayed', 'mallory', plan_text, plan_json FROM policy_versions WHERE id = 1;"
                   "INSERT INTO policy_slices (version, gateway, document, hash, signature) "
                   "SELECT 5, gateway, document, hash, signature FROM policy_slices WHERE version = 1;"
                   "SELECT pg_notify('wardgate_policy', 'Gateway Test Site');");
    s = wait_for(icu, [](const json& j) { return j["controller"]["refused_versions"].get<int>() >= 2; }, "the replayed version refused");
    CHECK_THAT(s["controller"]["last_refusal"].get<std::string>(),
               Catch::Contains("version 5") && Catch::Contains("not signed by the publisher's key"));
    CHECK(s["controller"]["applied_version"] == 3);
    CHECK(tcp_exchange(icu.net.dev, icu.net.srv, "10.50.0.10", 9998));

    // Its kept copy is still version 3's.
    auto kept = icu.dir / "state" / "published-slice.json";
    CHECK_THAT(read_text(kept), Catch::Contains("\"id\":3"));
    for (auto& f : gws) f->stop();
}

TEST_CASE("a gateway started before anything is published applies the first version as it is announced",
          "[fleet][kernel][postgres]") {
    const std::string db = shared_postgres().create_database("fleet_first");
    TempDir tmp("fleet-first");
    const auto key = tmp.path / "publisher.key", pub = tmp.path / "publisher.pub";
    REQUIRE(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 0);
    REQUIRE(run_wardgate(fmt::format("db-setup --db '{}'", db)).exit_code == 0);
    const auto site = gateway_site(tmp.path);

    // Its heartbeat, which also looks for versions it missed, is minutes away: only the
    // announcement can bring the first version in time.
    Follower f;
    f.gateway = "icu-gw";
    f.dir = tmp.path / "icu-gw";
    std::filesystem::create_directories(f.dir);
    f.start(db, pub, {"--heartbeat-interval", "300"});
    wait_for(f, [](const json& s) { return s["controller"]["last_error"] == "nothing is published there yet"; },
             "nothing published yet");
    publish_site(site, db, key);
    auto s = wait_for(f, applied_version(1), "version 1 applied after its announcement", 20s);
    CHECK(s["controller"]["reachable"] == true);
    CHECK(tcp_exchange(f.net.dev, f.net.srv, "10.50.0.10", 104));
    CHECK_FALSE(tcp_exchange(f.net.dev, f.net.srv, "10.50.0.10", 9999, 1500));
}

TEST_CASE("publishing an earlier policy again is a new version the gateways follow, not the old number", "[fleet][postgres]") {
    PostgresServer& server = shared_postgres();
    const std::string db = server.create_database("fleet_revert");
    TempDir tmp("fleet-revert");
    const auto site = gateway_site(tmp.path);
    REQUIRE(run_wardgate(fmt::format("keygen {0}/p.key {0}/p.pub", tmp.path.string())).exit_code == 0);
    auto publish = [&] { return publish_site(site, db, tmp.path / "p.key"); };
    const std::string original = read_text(site / "policy.toml");
    CHECK_THAT(publish(), Catch::Contains("published version 1"));
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    CHECK_THAT(publish(), Catch::Contains("published version 2"));
    // The change is taken back: the gateways must drop the approval, so this is version 3.
    std::ofstream(site / "policy.toml", std::ios::trunc) << original;
    CHECK_THAT(publish(), Catch::Contains("published version 3"));
    CHECK_THAT(publish(), Catch::Contains("unchanged: version 3"));

    // A key that cannot sign (here the public half) stops the run before anything is stored.
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    auto bad = run_wardgate(fmt::format("publish {} --to '{}' --key {}/p.pub -q", site.string(), db, tmp.path.string()));
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Catch::Contains("p.pub: not a PEM private key"));
    CHECK_THAT(run_wardgate(fmt::format("fleet --db '{}'", db)).out, Catch::Contains("latest version 3"));
    CHECK_THAT(publish(), Catch::Contains("published version 4"));
}

TEST_CASE("a version whose publisher stopped before writing its plan gets it from the next publish of that policy",
          "[fleet][postgres]") {
    PostgresServer& server = shared_postgres();
    const std::string db = server.create_database("fleet_late_plan");
    TempDir tmp("fleet-late-plan");
    const auto site = gateway_site(tmp.path);
    REQUIRE(run_wardgate(fmt::format("keygen {0}/p.key {0}/p.pub", tmp.path.string())).exit_code == 0);
    const auto key = tmp.path / "p.key";
    publish_site(site, db, key);
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    publish_site(site, db, key);
    // Version 2 as a publisher stopped between the version and its plan leaves it.
    server.execute("fleet_late_plan", "ALTER TABLE policy_versions DISABLE TRIGGER plan_written_once; "
                                      "UPDATE policy_versions SET plan_text = NULL, plan_json = NULL WHERE id = 2; "
                                      "ALTER TABLE policy_versions ENABLE TRIGGER plan_written_once");
    PolicyVersions versions(db);
    REQUIRE(versions.version(2)->plan_pending);

    auto again = run_wardgate(fmt::format("publish {} --to '{}' --key {}", site.string(), db, key.string()));
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("unchanged: version 2"));
    CHECK_THAT(again.err, Catch::Contains("version 2 had no plan") && Catch::Contains("written now"));
    auto v2 = versions.version(2);
    REQUIRE(v2);
    CHECK_FALSE(v2->plan_pending);
    // Against version 1, not against itself: the approval is what changed.
    CHECK_THAT(v2->plan_text, Catch::Contains("version 1 of") && Catch::Contains("CHG-9999"));
    CHECK(again.out.find(v2->plan_text) != std::string::npos);
    auto once_more = run_wardgate(fmt::format("publish {} --to '{}' --key {}", site.string(), db, key.string()));
    CHECK(once_more.exit_code == 0);
    CHECK(once_more.err.find("had no plan") == std::string::npos);
}

TEST_CASE("publish --watch publishes each edit, nothing for an edit that does not validate, and a gateway refuses an altered chunk",
          "[fleet][kernel][postgres]") {
    PostgresServer& server = shared_postgres();
    const std::string db = server.create_database("fleet_watch");
    TempDir tmp("fleet-watch");
    const auto key = tmp.path / "p.key", pub = tmp.path / "p.pub";
    REQUIRE(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 0);
    const auto site = gateway_site(tmp.path);
    const std::string original = read_text(site / "policy.toml");

    const auto publisher_log = tmp.path / "publisher.log";
    WatchingPublisher publisher("pub", site, db, key, publisher_log);

    auto follower = std::make_unique<Follower>();
    auto start = [&](Follower& f) { f.start(db, pub, {"--instance", "icu-gw-a", "--heartbeat-interval", "0.5"}); };
    follower->gateway = "icu-gw";
    follower->dir = tmp.path / "icu-gw";
    std::filesystem::create_directories(follower->dir);
    start(*follower);
    wait_for(*follower, applied_version(1), "the version published at the publisher's start");
    CHECK_FALSE(tcp_exchange(follower->net.dev, follower->net.srv, "10.50.0.10", 9999, 1500));

    // An edit: published as version 2 without running anything, and enforced.
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    wait_for(*follower, applied_version(2), "the edit published and applied");
    CHECK(tcp_exchange(follower->net.dev, follower->net.srv, "10.50.0.10", 9999));
    // The version went out ahead of its plan; the plan follows into the same row.
    {
        PolicyVersions versions(db);
        std::optional<PublishedVersion> v2;
        for (const auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;
             std::this_thread::sleep_for(100ms))
            if ((v2 = versions.version(2)) && !v2->plan_pending) break;
        REQUIRE(v2);
        CHECK_FALSE(v2->plan_pending);
        CHECK_THAT(v2->plan_text, Catch::Contains("CHG-9999"));
        CHECK_THAT(read_text(publisher_log), Catch::Contains("published version 2") && Catch::Contains("its plan written"));
    }

    // An edit that does not validate publishes nothing; the log names the file, line and field.
    std::ofstream(site / "policy.toml", std::ios::app) << "\n[[approval]]\nid = \"CHG-bad\"\nfrom = \"device:monitor-icu-01\"\n"
                                                          "to = \"endpoint:pacs\"\nprotocol = \"tcp\"\nports = [70000]\n"
                                                          "by = \"Biomed\"\nreason = \"Typo\"\n";
    publisher.wait_for("does not validate", 30s);
    const std::string log = read_text(publisher_log);
    CHECK_THAT(log, Catch::Contains("nothing is published") && Catch::Contains("policy.toml:") && Catch::Contains("ports"));
    CHECK_THAT(run_wardgate(fmt::format("fleet --db '{}'", db)).out, Catch::Contains("latest version 2"));

    // Mended: the next version.
    std::ofstream(site / "policy.toml", std::ios::trunc) << original;
    wait_for(*follower, applied_version(3), "the mended site published and applied");
    CHECK_FALSE(tcp_exchange(follower->net.dev, follower->net.srv, "10.50.0.10", 9999, 1500));

    // The chunks are lost (a database restored from an older backup, say): the publisher asks
    // the database what it lacks, not its own memory, and stores them again with the next edit.
    server.execute("fleet_watch", "DELETE FROM policy_chunks");
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    wait_for(*follower, applied_version(4), "the next edit, its chunks stored again");
    CHECK(tcp_exchange(follower->net.dev, follower->net.srv, "10.50.0.10", 9999));

    // Someone with write access alters the stored chunks (the groups' members and prefixes). A
    // gateway that holds them already is not fooled; one that fetches them afresh refuses them.
    server.execute("fleet_watch", "UPDATE policy_chunks SET body = replace(body, '\"10.', '\"11.')");
    follower->stop();
    std::filesystem::remove_all(follower->dir / "state");
    start(*follower);
    auto s = wait_for(*follower, [](const json& j) { return j["controller"]["refused_versions"].get<int>() >= 1; },
                      "the version with altered chunks refused");
    CHECK_THAT(s["controller"]["last_refusal"].get<std::string>(), Catch::Contains("does not match its digest: altered"));
    CHECK(s["controller"]["applied_version"] == 0);
}

TEST_CASE("publish --watch rides out the database: an edit made while it is down is published once it is back",
          "[fleet][postgres]") {
    PostgresServer server;
    const std::string db = server.create_database("fleet_retry");
    TempDir tmp("fleet-retry");
    const auto key = tmp.path / "p.key";
    REQUIRE(run_wardgate(fmt::format("keygen {} {}/p.pub", key.string(), tmp.path.string())).exit_code == 0);
    const auto site = gateway_site(tmp.path);

    WatchingPublisher publisher("pubretry", site, db, key, tmp.path / "publisher.log");
    const auto& log = publisher.log;
    publisher.wait_for("watching", 60s);
    CHECK_THAT(read_text(log), Catch::Contains("published version 1"));

    server.stop();
    std::ofstream(site / "policy.toml", std::ios::app) << kApproval;
    publisher.wait_for("nothing is published, the gateways keep the last version (tried again in 5 s)", 30s);
    server.start();
    // No edit since: the publisher tries again by itself, and the version carries its plan.
    publisher.wait_for("published version 2", 30s);
    auto v2 = PolicyVersions(db).version(2);
    REQUIRE(v2);
    CHECK_FALSE(v2->plan_pending);
    CHECK_THAT(v2->plan_text, Catch::Contains("CHG-9999"));
}

TEST_CASE("an announcement read with a query's answer waits in the connection, where poll() cannot see it",
          "[fleet][postgres]") {
    // Why a following gateway asks for announcements after every turn of its loop, not only when
    // the database's socket wakes it.
    PostgresServer& server = shared_postgres();
    const std::string db = server.create_database("fleet_queued_notify");
    PolicyVersions listener(db);
    listener.listen();
    CHECK(listener.latest_id("Queued Site") == std::nullopt);  // connects and listens
    server.execute("fleet_queued_notify", "SELECT pg_notify('wardgate_policy', 'Queued Site')");
    std::this_thread::sleep_for(200ms);
    // A query now reads the announcement along with its answer...
    CHECK(listener.latest_id("Queued Site") == std::nullopt);
    pollfd fd{listener.socket(), POLLIN, 0};
    CHECK(poll(&fd, 1, 100) == 0);  // ...so the socket has nothing more to say
    CHECK(listener.announced() == std::vector<std::string>{"Queued Site"});
    CHECK(listener.announced().empty());
}
