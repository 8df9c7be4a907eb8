// A gateway following published versions has no site directory: what serving a site gives it
// besides the ruleset must come with its slice. Here: a DNS-only vendor endpoint it keeps
// fresh by asking a real DNS server (dnsmasq) itself, and the VLAN links of its trunk.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/dnsmasq.hpp"
#include "support/netns.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/service/status.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The DNS test site with the gateway's DNS server and one gateway with a trunk, routing the ICU only.
void write_followed_site(const std::filesystem::path& site) {
    write_dns_site(site, "nameserver = \"127.0.0.1:5353\"\ndns_min_ttl = 1\ndns_grace = 2\n");
    std::ofstream(site / "site.toml", std::ios::app) << R"(
[[gateway]]
name = "icu-gw"
segments = ["icu"]
trunk = "trunk0"
)";
}

json dns_name(const json& status) {
    if (!status.contains("dns")) return nullptr;
    for (const auto& n : status["dns"])
        if (n.value("name", "") == "update.vendor.example") return n;
    return nullptr;
}

std::vector<std::string> texts(const json& list) {
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(a.get<std::string>());
    return out;
}

}  // namespace

TEST_CASE("a gateway following published versions resolves its DNS names itself and keeps its VLAN links",
          "[fleet][postgres][dns][vlan][kernel]") {
    PostgresServer& server = shared_postgres();
    const std::string db = server.create_database("fleet_follow");
    TempDir tmp("fleet-follow");
    std::filesystem::permissions(tmp.path, std::filesystem::perms::all & ~std::filesystem::perms::others_write &
                                               ~std::filesystem::perms::group_write);
    const auto site = tmp.path / "site", key = tmp.path / "p.key", pub = tmp.path / "p.pub";
    write_followed_site(site);
    REQUIRE(run_wardgate(fmt::format("keygen {} {}", key.string(), pub.string())).exit_code == 0);

    GatewayTopology t;
    for (const char* a : {"203.0.113.11/24", "203.0.113.12/24"}) add_address(t.out, "eth0", a);
    t.gw.exec("ip link add trunk0 type veth peer name peer0");
    t.gw.exec("ip link set trunk0 up");
    Dnsmasq dns(t.gw, tmp.path, "203.0.113.11 update.vendor.example\n", 2);

    // The publisher resolves the name where the DNS server is, and signs what it found.
    std::string out;
    int rc = t.gw.exec_status(fmt::format("{} publish {} --to '{}' --key {} -q", WARDGATE_BINARY, site.string(), db, key.string()), &out);
    INFO(out);
    REQUIRE(rc == 0);

    const auto state = tmp.path / "state", socket = tmp.path / "status.sock", log = tmp.path / "serve.log";
    pid_t pid = spawn_in(t.gw,
                         {WARDGATE_BINARY, "serve", "--from", db, "--gateway", "icu-gw", "--publisher-key", pub.string(),
                          "--socket", socket.string(), "--state-dir", state.string(), "--heartbeat-interval", "0.5"},
                         log.string());
    auto wait_for = [&](const std::function<bool(const json&)>& pred, const std::string& what) {
        auto end = std::chrono::steady_clock::now() + 30s;
        json last;
        while (std::chrono::steady_clock::now() < end) {
            try {
                last = service::query_status(socket, 3s);
                if (pred(last)) return last;
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(100ms);
        }
        FAIL("waited in vain for " << what << "\nlast status: " << last.dump(2) << "\nlog:\n" << read_text(log));
        return last;
    };

    auto s = wait_for([](const json& j) { return j.value("enforcement", "") == "enforcing" && !dns_name(j).is_null(); },
                      "version 1 enforced with its DNS name");
    CHECK(dns_name(s)["endpoint"] == "vendor-update");
    CHECK(texts(dns_name(s)["addresses"]) == std::vector<std::string>{"203.0.113.11"});
    CHECK(tcp_exchange(t.dev, t.out, "203.0.113.11", 443));
    CHECK_FALSE(tcp_exchange(t.dev, t.out, "203.0.113.12", 443, 1500));

    // The VLAN links come from the slice: its trunk, and the ICU's link alone (the servers' VLAN
    // 50 is another gateway's).
    std::string vlan = s.value("vlan", "");
    if (vlan == "ok") {
        CHECK(t.gw.exec_status("ip link show trunk0.110") == 0);
        CHECK(t.gw.exec_status("ip link show trunk0.50") != 0);
    } else {
        CHECK(vlan == "cannot create VLAN link trunk0.110 (segment icu, VLAN 110) on trunk0: kernel has no 802.1Q VLAN "
                      "support (module 8021q)");
        WARN("VLAN links created by a gateway following published versions are not checked here: the kernel has no 8021q "
             "module; the link it asked for (trunk0.110, from the slice's trunk) is");
    }

    // The record changes: the gateway asks again when the TTL runs out, with nothing published.
    dns.change("203.0.113.12 update.vendor.example\n");
    s = wait_for([](const json& j) { return texts(dns_name(j)["addresses"]) == std::vector<std::string>{"203.0.113.12"}; },
                 "the new address");
    wait_for([](const json& j) { return j["last_apply"].value("message", "").rfind("set elements only", 0) == 0; },
             "the element delta");
    CHECK(tcp_exchange(t.dev, t.out, "203.0.113.12", 443));
    CHECK(s["controller"]["applied_version"] == 1);
    // Its cache is its own, under its state directory.
    CHECK_THAT(read_text(state / "dns-cache.json"), Catch::Contains("203.0.113.12"));

    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
}
