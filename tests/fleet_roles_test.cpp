// Least privilege in the shared database, against a real PostgreSQL 15: each component logs in
// as its own role. A collector writes flow data and cannot publish; a gateway reads versions
// and writes only its own heartbeat row; only the publisher publishes.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/netns.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/signing.hpp"
#include "wardgate/service/status.hpp"
#include "wardgate/store/database_roles.hpp"
#include "wardgate/store/policy_versions.hpp"

using namespace wardgate;
using namespace wardgate::testing;

TEST_CASE("each component under its own role: a collector cannot publish, a gateway writes only its own heartbeat",
          "[fleet][postgres]") {
    PostgresServer& server = shared_postgres();
    const std::string name = "fleet_roles";
    const std::string owner = server.create_database(name);
    auto setup = run_wardgate(fmt::format("db-setup --db '{}'", owner));
    INFO(setup.out << setup.err);
    REQUIRE(setup.exit_code == 0);
    REQUIRE(run_wardgate(fmt::format("db-setup --db '{}'", owner)).exit_code == 0);  // again: nothing changes
    server.execute(name, fmt::format("DO $$ BEGIN "
                                     "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sensor_1') THEN "
                                     "CREATE ROLE sensor_1 LOGIN IN ROLE {0}; CREATE ROLE gw_wards LOGIN IN ROLE {1}; "
                                     "CREATE ROLE gw_core LOGIN IN ROLE {1}; CREATE ROLE publisher LOGIN IN ROLE {2}; "
                                     "CREATE ROLE ops LOGIN IN ROLE {3}; END IF; END $$",
                                     kCollectorRole, kGatewayRole, kPublisherRole, kReaderRole));
    auto as = [&](const std::string& user) { return server.url(name, user); };

    TempDir tmp("fleet-roles");
    const auto key = tmp.path / "p.key", pub = tmp.path / "p.pub";
    REQUIRE(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 0);
    auto publish_as = [&](const std::string& user) {
        return run_wardgate(fmt::format("publish {} --to '{}' --key {} -q", kGatewaySite, as(user), key.string()));
    };

    // The collector ingests flows, and cannot publish.
    auto ingest = run_wardgate(fmt::format("ingest {} --db '{}'", kExampleSite + "/flows/conn.log", as("sensor_1")));
    INFO(ingest.out << ingest.err);
    CHECK(ingest.exit_code == 0);
    auto forged = publish_as("sensor_1");
    CHECK(forged.exit_code == 1);
    CHECK_THAT(forged.err, Catch::Contains("permission denied for table policy_versions"));
    // Nor can a gateway (its first write, the documents' chunks, is refused), not even a version
    // without chunks; the publisher can.
    CHECK_THAT(publish_as("gw_wards").err, Catch::Contains("permission denied for table policy_chunks"));
    {
        PolicyVersions as_gateway(as("gw_wards"));
        PublishedVersion v;
        v.site = "Gateway Test Site";
        v.content_hash = "forged";
        v.slices.push_back({"wards", "{}", sha256_hex("{}"), ""});
        CHECK_THROWS_WITH(as_gateway.publish(v, [](const std::string&) { return std::string("forged"); }),
                          Catch::Contains("permission denied for table policy_versions"));
    }
    auto published = publish_as("publisher");
    INFO(published.out << published.err);
    REQUIRE(published.exit_code == 0);

    // A version's plan may follow it (the gateways need not wait for it), written once by the
    // publisher and then never changed, by anyone.
    {
        PolicyVersions as_publisher(as("publisher"));
        PublishedVersion v;
        v.site = "Plan Test Site";
        v.content_hash = "h1";
        v.plan_pending = true;
        v.slices.push_back({"", "{}", sha256_hex("{}"), ""});
        const auto id = as_publisher.publish(v, [](const std::string&) { return std::string("sig"); }).id;
        auto pending = PolicyVersions(as("ops")).version(id);
        REQUIRE(pending);
        CHECK(pending->plan_pending);
        CHECK(pending->plan_text.empty());
        CHECK_THROWS_WITH(server.execute(name, fmt::format("SET ROLE gw_wards; UPDATE policy_versions SET plan_text = 'x' WHERE id = {}", id)),
                          Catch::Contains("permission denied"));
        CHECK_THROWS_WITH(server.execute(name, fmt::format("SET ROLE publisher; UPDATE policy_versions SET author = 'mallory' WHERE id = {}", id)),
                          Catch::Contains("permission denied"));
        CHECK_THROWS_WITH(server.execute(name, fmt::format("UPDATE policy_versions SET content_hash = 'h2' WHERE id = {}", id)),
                          Catch::Contains("only its plan may be added"));
        as_publisher.write_plan(id, "the plan", "{}");
        auto written = PolicyVersions(as("ops")).version(id);
        REQUIRE(written);
        CHECK_FALSE(written->plan_pending);
        CHECK(written->plan_text == "the plan");
        CHECK_THROWS_WITH(as_publisher.write_plan(id, "another plan", "{}"), Catch::Contains("already written and is never changed"));
        CHECK_THROWS_WITH(server.execute(name, fmt::format("UPDATE policy_versions SET plan_text = 'x' WHERE id = {}", id)),
                          Catch::Contains("already written and is never changed"));
    }
    // The command-line publish wrote its plan.
    auto first = PolicyVersions(as("ops")).version(1);
    REQUIRE(first);
    CHECK_FALSE(first->plan_pending);
    CHECK_THAT(first->plan_text, Catch::Contains("Gateway Test Site"));

    // A gateway reads the published version and beats as itself, never as another.
    PolicyVersions gw(as("gw_wards"));
    auto latest = gw.latest("Gateway Test Site");
    REQUIRE(latest);
    CHECK(latest->id == 1);
    Heartbeat h{"Gateway Test Site", "", "gw_wards", 1, "2026-12-05T10:00:00Z", "enforcing", false, "", "{}", "", 0};
    CHECK_NOTHROW(gw.beat(h));
    // Without an instance name it beats as its login.
    Heartbeat unnamed = h;
    unnamed.instance.clear();
    unnamed.mode = "monitoring";
    CHECK_NOTHROW(gw.beat(unnamed));
    auto beats = PolicyVersions(as("ops")).heartbeats("Gateway Test Site");
    REQUIRE(beats.size() == 1);
    CHECK(beats[0].instance == "gw_wards");
    CHECK(beats[0].mode == "monitoring");
    CHECK_NOTHROW(gw.beat(h));
    Heartbeat other = h;
    other.instance = "gw_core";
    CHECK_THROWS_WITH(gw.beat(other), Catch::Contains("row-level security"));
    // It cannot touch the flow data, nor rewrite a published slice.
    CHECK_THROWS_WITH(server.execute(name, "SET ROLE gw_wards; UPDATE policy_slices SET signature = ''"),
                      Catch::Contains("permission denied"));
    CHECK_THROWS_WITH(server.execute(name, "SET ROLE sensor_1; DELETE FROM policy_slices"), Catch::Contains("permission denied"));
    CHECK_THROWS_WITH(server.execute(name, "SET ROLE publisher; DELETE FROM edges"), Catch::Contains("permission denied"));

    // Operations read everything: the fleet, and plans with the shared baseline.
    auto fleet = run_wardgate(fmt::format("fleet --db '{}'", as("ops")));
    INFO(fleet.out << fleet.err);
    CHECK(fleet.exit_code == 0);
    CHECK_THAT(fleet.out, Catch::Contains("gw_wards"));
    auto plan = run_wardgate(fmt::format("plan {} --db '{}' --today 2026-11-22", kExampleSite, as("ops")));
    INFO(plan.err);
    CHECK((plan.exit_code == 0 || plan.exit_code == 2));
    auto read_only = run_wardgate(fmt::format("ingest {} --db '{}'", kWikipediaConnLog, as("ops")));
    CHECK(read_only.exit_code == 1);
    CHECK_THAT(read_only.err, Catch::Contains("permission denied"));
}

TEST_CASE("a gateway following a database never shows its password: not in its log, not in its status", "[fleet][kernel]") {
    TempDir tmp("fleet-secret");
    REQUIRE(run_wardgate(fmt::format("keygen {0}/k {0}/k.pub", tmp.path.string())).exit_code == 0);
    Netns ns("fleet-secret");
    const auto socket = tmp.path / "status.sock", log = tmp.path / "serve.log";
    pid_t pid = spawn_in(ns,
                         {WARDGATE_BINARY, "serve", "--from", "postgresql://gw:hunter2@/fleet?host=/nonexistent-dir",
                          "--publisher-key", (tmp.path / "k.pub").string(), "--socket", socket.string(), "--state-dir",
                          (tmp.path / "state").string(), "--heartbeat-interval", "0.2"},
                         log.string());
    nlohmann::json status;
    for (int i = 0; i < 100 && status.is_null(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        try {
            status = wardgate::service::query_status(socket, std::chrono::seconds(2));
        } catch (const std::exception&) {
        }
    }
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    REQUIRE(status.is_object());
    CHECK(status["controller"]["reachable"] == false);
    CHECK(status["controller"]["database"] == "postgresql://gw@/nonexistent-dir/fleet");
    CHECK_THAT(status.dump(), !Catch::Contains("hunter2"));
    CHECK_THAT(read_text(log), Catch::Contains("cannot connect to the policy database") && !Catch::Contains("hunter2"));
}
