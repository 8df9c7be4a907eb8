// DNS-only endpoints against a real DNS server (dnsmasq) in namespaces the tests create:
// resolution with TTLs, compile-time addresses and export comments, and the gateway keeping
// a name's nftables set fresh (new addresses, a grace period for old ones, a name that stops
// resolving).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "support/dnsmasq.hpp"
#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/resolve/cache.hpp"
#include "wardgate/resolve/dns.hpp"
#include "wardgate/resolve/refresher.hpp"
#include "wardgate/service/status.hpp"

using namespace wardgate;
using wardgate::testing::Dnsmasq;
using wardgate::testing::write_dns_site;
using wardgate::testing::Netns;
using wardgate::testing::read_text;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kName = "update.vendor.example";
constexpr const char* kNameserver = "127.0.0.1:5353";

struct Scratch : wardgate::testing::TempDir {
    Scratch() : wardgate::testing::TempDir("dns") {
        std::filesystem::permissions(path, std::filesystem::perms::all & ~std::filesystem::perms::others_write &
                                               ~std::filesystem::perms::group_write);
    }
    std::filesystem::path site() const { return path / "site"; }
};

std::string hosts_for(const std::vector<std::string>& addresses) {
    std::string out;
    for (const auto& a : addresses) out += a + " " + kName + "\n";
    return out;
}

int endpoint_line(const Scratch& dir) {
    std::ifstream in(dir.site() / "site.toml");
    std::string line;
    int n = 0, found = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line == "[[endpoint]]") found = n;
    }
    return found;
}

const AddressGroup* find_group(const Policy& p, const std::string& name) {
    for (const auto& g : p.groups)
        if (g.name == name) return &g;
    return nullptr;
}

std::string addresses_text(const std::vector<IpAddress>& list) {
    std::string out;
    for (const auto& a : list) out += (out.empty() ? "" : " ") + a.to_string();
    return out;
}

PipelineOptions offline_options() {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    o.dns.offline = true;
    return o;
}

}  // namespace

TEST_CASE("dns: A and AAAA with their TTL from a real DNS server", "[dns][netns]") {
    Scratch dir;
    Netns ns("dns");
    Dnsmasq server(ns, dir.path, hosts_for({"203.0.113.11", "2001:db8:113::11", "203.0.113.7"}), 37);

    std::string got = ns.run([] {
        Resolver r(ResolverOptions{kNameserver, 1000ms, 2});
        auto ok = r.resolve(kName);
        auto upper = r.resolve("UPDATE.Vendor.Example");
        auto missing = r.resolve("gone.vendor.example");
        auto age = std::chrono::system_clock::now() - ok.answer.resolved;
        return fmt::format("{}|{}|{}|{}|{}|{}|{}", to_string(ok.status), addresses_text(ok.answer.addresses), ok.answer.ttl,
                           upper.ok(), to_string(missing.status), missing.answer.addresses.size(),
                           age >= 0s && age < 30s);
    });
    CHECK(got == "ok|203.0.113.7 203.0.113.11 2001:db8:113::11|37|true|NXDOMAIN|0|true");

    // Nobody listens on this port: a timeout, reported as such.
    std::string dead = ns.run([] {
        Resolver r(ResolverOptions{"127.0.0.1:5354", 200ms, 1});
        auto res = r.resolve(kName);
        return std::string(to_string(res.status)) + "|" + std::to_string(res.ok());
    });
    CHECK(dead.ends_with("|0"));
    CHECK(dead.find("ok") == std::string::npos);

    CHECK_THROWS_AS(Resolver(ResolverOptions{"not an address", 1000ms, 1}), std::invalid_argument);
}

TEST_CASE("dns: a DNS-only endpoint compiles to its resolved addresses and exports say when", "[dns][netns]") {
    Scratch dir;
    write_dns_site(dir.site(), "nameserver = \"127.0.0.1:5353\"\n");
    Netns ns("dnsc");
    Dnsmasq server(ns, dir.path, hosts_for({"203.0.113.12", "203.0.113.11", "2001:db8:113::11"}), 300);

    // First compile inside the namespace: resolves and fills the cache.
    std::string first = ns.run([&] {
        PipelineOptions o = offline_options();
        o.dns.offline = false;
        Pipeline p = run_pipeline(dir.site(), o);
        const AddressGroup* g = find_group(p.policy, "ep_vendor_update");
        if (!g) return std::string("no group");
        std::string prefixes;
        for (const auto& pr : g->prefixes) prefixes += pr.to_string() + " ";
        return prefixes + "|" + std::to_string(g->dns.size());
    });
    // Collapsed: .11 and .12 are not one prefix (.12/31 would need .13), so both stay hosts.
    CHECK(first == "203.0.113.11 203.0.113.12 2001:db8:113::11 |1");
    auto cache = read_dns_cache(default_dns_cache(dir.site()));
    REQUIRE(cache.count(kName));
    CHECK(addresses_text(cache[kName].addresses) == "203.0.113.11 203.0.113.12 2001:db8:113::11");
    CHECK(cache[kName].ttl == 300);

    // Outside the namespace there is no DNS server: the cache alone gives the same policy.
    Pipeline p = run_pipeline(dir.site(), offline_options());
    const AddressGroup* g = find_group(p.policy, "ep_vendor_update");
    REQUIRE(g);
    REQUIRE(g->dns.size() == 1);
    CHECK(addresses_text(g->dns[0].addresses) == "203.0.113.11 203.0.113.12 2001:db8:113::11");
    const std::string stamp = resolution_minute(cache[kName].resolved);
    CHECK(std::regex_match(stamp, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\dZ)")));
    const std::string comment = kName + " resolved " + stamp;

    for (const auto& target : export_targets()) {
        INFO(target);
        auto r = render_export(p.policy, target, default_template_dir());
        CHECK(r.combined().find(comment) != std::string::npos);
        CHECK(r.combined().find("203.0.113.12") != std::string::npos);
    }
    // nftables: one set per name and family, referenced by the rule.
    std::string nft = render_nft(p.policy);
    CHECK(nft.find("set dns_update_vendor_example_v4 {") != std::string::npos);
    CHECK(nft.find("set dns_update_vendor_example_v6 {") != std::string::npos);
    CHECK(nft.find("ip daddr @dns_update_vendor_example_v4 tcp dport 443") != std::string::npos);
    CHECK(nft.find("# " + comment) != std::string::npos);
    // The same cache gives the same text: plans do not depend on the network or the clock.
    CHECK(render_nft(run_pipeline(dir.site(), offline_options()).policy) == nft);

    SECTION("a name the cache lacks is an error naming the endpoint, the name and the line") {
        std::filesystem::remove(default_dns_cache(dir.site()));
        try {
            run_pipeline(dir.site(), offline_options());
            FAIL("compiled without the name's addresses");
        } catch (const InputError& e) {
            REQUIRE(e.diagnostics().size() == 1);
            const auto& d = e.diagnostics()[0];
            CHECK(d.file == "site.toml");
            CHECK(d.line == endpoint_line(dir));
            CHECK(d.field == "endpoint.dns_names");
            CHECK(d.message.find("vendor-update") != std::string::npos);
            CHECK(d.message.find(kName) != std::string::npos);
        }
    }

    SECTION("a name that stops resolving: an error without cache, last-known addresses with one") {
        server.change(hosts_for({}));
        std::string without = ns.run([&] {
            auto cache_file = default_dns_cache(dir.site());
            auto kept = read_text(cache_file);
            std::filesystem::remove(cache_file);
            std::string out;
            PipelineOptions o = offline_options();
            o.dns.offline = false;
            try {
                run_pipeline(dir.site(), o);
                out = "compiled";
            } catch (const InputError& e) {
                out = e.diagnostics().at(0).to_string();
            }
            std::ofstream(cache_file) << kept;
            o.dns.refresh = true;
            Pipeline p = run_pipeline(dir.site(), o);
            std::string warning;
            for (const auto& n : p.policy.notes)
                if (n.level == PolicyNote::Level::warning && n.message.find(kName) != std::string::npos) warning = n.message;
            const AddressGroup* g = find_group(p.policy, "ep_vendor_update");
            return out + "|" + warning + "|" + (g ? addresses_text(g->dns.at(0).addresses) : "none");
        });
        CHECK(without.find(fmt::format("site.toml:{}", endpoint_line(dir))) == 0);
        CHECK(without.find("cannot resolve \"update.vendor.example\": NXDOMAIN") != std::string::npos);
        CHECK(without.find("|endpoint vendor-update: update.vendor.example did not resolve (NXDOMAIN") != std::string::npos);
        CHECK(without.ends_with("|203.0.113.11 203.0.113.12 2001:db8:113::11"));
    }
}

TEST_CASE("dns: the refresher keeps old addresses for the grace period and last-known ones on failure", "[dns]") {
    // The same logic the gateway runs, driven by a scripted resolver and clock.
    std::vector<Resolution> script;
    DnsSettings s;
    s.min_ttl = 5;
    s.max_ttl = 100;
    s.grace = 60;
    DnsRefresher r(s, [&](const std::string&) {
        Resolution x = script.front();
        script.erase(script.begin());
        return x;
    });
    auto t0 = SysSeconds{std::chrono::seconds{1'800'000'000}};
    auto ip = [](const char* t) { return *IpAddress::parse(t); };
    DnsAnswers compiled{{kName, {{ip("203.0.113.11")}, 2, t0}}};
    r.set_names({{kName, "vendor-update"}}, compiled, t0);
    // A TTL below the floor waits for the floor.
    CHECK(*r.next_due() == t0 + 5s);
    CHECK(!r.refresh(t0 + 4s).changed);

    script.push_back({DnsStatus::ok, "", {{ip("203.0.113.12")}, 500, t0 + 5s}});
    auto out = r.refresh(t0 + 5s);
    CHECK(out.changed);
    CHECK(addresses_text(r.allowed().at(kName).addresses) == "203.0.113.11 203.0.113.12");
    // A TTL above the ceiling waits for the ceiling; the grace period ends before it.
    CHECK(*r.next_due() == t0 + 65s);
    CHECK(r.refresh(t0 + 65s).changed);
    CHECK(addresses_text(r.allowed().at(kName).addresses) == "203.0.113.12");
    CHECK(*r.next_due() == t0 + 105s);

    script.push_back({DnsStatus::servfail, "SERVFAIL", {}});
    script.push_back({DnsStatus::timeout, "timeout", {}});
    out = r.refresh(t0 + 105s);
    REQUIRE(out.failures.size() == 1);
    CHECK(out.failures[0].first);
    CHECK(!out.changed);
    CHECK(addresses_text(r.allowed().at(kName).addresses) == "203.0.113.12");
    out = r.refresh(t0 + 110s);
    REQUIRE(out.failures.size() == 1);
    CHECK(!out.failures[0].first);  // one alert per outage, every failure counted
    CHECK(r.failures() == 2);
    CHECK(r.status().at(0).at("failing") == true);
}

namespace {

// `wardgate serve` inside the gateway namespace.
class GatewayService {
public:
    GatewayService(const Netns& ns, const Scratch& dir) : dir_(dir) {
        std::vector<std::string> args{WARDGATE_BINARY, "serve", dir.site().string(), "--socket", socket().string(),
                                      "--metrics-file", (dir.path / "wardgate.prom").string(), "--state-dir",
                                      (dir.path / "state").string(), "--alerts", alerts().string(),
                                      "--drift-interval", "30"};
        pid_ = spawn_in(ns, args, (dir.path / "service.log").string());
    }
    ~GatewayService() {
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) != pid_; ++i) std::this_thread::sleep_for(50ms);
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, WNOHANG);
    }
    std::filesystem::path socket() const { return dir_.path / "status.sock"; }
    std::filesystem::path alerts() const { return dir_.path / "alerts.jsonl"; }
    std::string log() const { return read_text(dir_.path / "service.log"); }

    json wait_for(const std::function<bool(const json&)>& pred, const std::string& what, std::chrono::seconds limit = 30s) {
        auto end = std::chrono::steady_clock::now() + limit;
        json last;
        while (std::chrono::steady_clock::now() < end) {
            try {
                last = service::query_status(socket(), 3s);
                if (pred(last)) return last;
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(100ms);
        }
        FAIL("timed out waiting for " << what << "\nlast status: " << last.dump(2) << "\nlog:\n" << log());
        return last;
    }

private:
    const Scratch& dir_;
    pid_t pid_ = -1;
};

json name_status(const json& s) {
    if (!s.contains("dns")) return json();
    for (const auto& n : s["dns"])
        if (n.value("name", "") == kName) return n;
    return json();
}

std::vector<std::string> strings(const json& list) {
    std::vector<std::string> out;
    for (const auto& x : list) out.push_back(x.is_string() ? x.get<std::string>() : x.value("address", ""));
    return out;
}

std::string set_elements(const Netns& gw) {
    return gw.exec("nft list set inet wardgate dns_update_vendor_example_v4 || true");
}

}  // namespace

TEST_CASE("dns: the gateway keeps a name's set fresh, with a grace period, and alerts when it stops resolving",
          "[dns][netns][service]") {
    Scratch dir;
    write_dns_site(dir.site(), "nameserver = \"127.0.0.1:5353\"\ndns_min_ttl = 1\ndns_grace = 6\n");
    testing::GatewayTopology t;
    for (const char* a : {"203.0.113.11/24", "203.0.113.12/24"}) testing::add_address(t.out, "eth0", a);
    Dnsmasq server(t.gw, dir.path, hosts_for({"203.0.113.11"}), 2);
    GatewayService svc(t.gw, dir);

    auto s = svc.wait_for([](const json& j) { return j.value("enforcement", "") == "enforcing" && !name_status(j).is_null(); },
                          "the policy with the DNS name");
    CHECK(strings(name_status(s)["addresses"]) == std::vector<std::string>{"203.0.113.11"});
    CHECK(name_status(s)["ttl"] == 2);
    CHECK(set_elements(t.gw).find("203.0.113.11") != std::string::npos);
    // The rule names the set: traffic to the resolved address passes, to others it is dropped.
    CHECK(t.gw.nft_list().find("ip daddr @dns_update_vendor_example_v4 tcp dport 443") != std::string::npos);
    CHECK(testing::tcp_exchange(t.dev, t.out, "203.0.113.11", 443));
    CHECK_FALSE(testing::tcp_exchange(t.dev, t.out, "203.0.113.12", 443, 1500));

    // `wardgate status` lists the name with its addresses, TTL and next refresh.
    auto text = testing::run_wardgate("status --socket " + svc.socket().string());
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("update.vendor.example (endpoint vendor-update): 203.0.113.11  TTL 2 s") != std::string::npos);
    CHECK(text.out.find("next refresh 20") != std::string::npos);

    // The record changes; once its TTL runs out the set has the new address and still the old one.
    server.change(hosts_for({"203.0.113.12"}));
    s = svc.wait_for([](const json& j) { return strings(name_status(j)["addresses"]) == std::vector<std::string>{"203.0.113.12"}; },
                     "the new address");
    CHECK(strings(name_status(s)["grace"]) == std::vector<std::string>{"203.0.113.11"});
    s = svc.wait_for([](const json& j) { return j["last_apply"].value("message", "").find("set elements only") == 0; },
                     "the element delta", 10s);
    CHECK(s["last_apply"]["message"] == "set elements only: +1 -0");
    auto elements = set_elements(t.gw);
    CHECK(elements.find("203.0.113.11") != std::string::npos);
    CHECK(elements.find("203.0.113.12") != std::string::npos);
    CHECK(testing::tcp_exchange(t.dev, t.out, "203.0.113.12", 443));
    CHECK(testing::tcp_exchange(t.dev, t.out, "203.0.113.11", 443));

    // The grace period ends: the old address leaves the set.
    svc.wait_for([](const json& j) { return !name_status(j).is_null() && name_status(j)["grace"].empty(); },
                 "the end of the grace period", 20s);
    svc.wait_for([](const json& j) { return j["last_apply"].value("message", "") == "set elements only: +0 -1"; },
                 "the old address removed", 10s);
    elements = set_elements(t.gw);
    CHECK(elements.find("203.0.113.11") == std::string::npos);
    CHECK(elements.find("203.0.113.12") != std::string::npos);
    CHECK_FALSE(testing::tcp_exchange(t.dev, t.out, "203.0.113.11", 443, 1500));

    // The name stops resolving: its addresses stay, an alert is written and counted.
    server.change(hosts_for({}));
    s = svc.wait_for([](const json& j) { return name_status(j).value("failing", false); }, "the failure");
    CHECK(strings(name_status(s)["addresses"]) == std::vector<std::string>{"203.0.113.12"});
    CHECK(name_status(s).value("error", "").find("NXDOMAIN") == 0);
    CHECK(set_elements(t.gw).find("203.0.113.12") != std::string::npos);
    CHECK(testing::tcp_exchange(t.dev, t.out, "203.0.113.12", 443));
    std::string alerts;
    for (int i = 0; i < 50 && alerts.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        alerts = std::filesystem::exists(svc.alerts()) ? read_text(svc.alerts()) : "";
    }
    REQUIRE(!alerts.empty());
    auto alert = json::parse(alerts.substr(0, alerts.find('\n')));
    CHECK(alert["kind"] == "dns-failure");
    CHECK(alert["peer"] == kName);
    CHECK(alert.value("message", "").find("keeping its last addresses: 203.0.113.12") != std::string::npos);
    std::string metrics = read_text(dir.path / "wardgate.prom");
    CHECK(std::regex_search(metrics, std::regex("\nwardgate_dns_resolution_failures_total [1-9]")));
    CHECK(metrics.find("wardgate_dns_addresses{name=\"update.vendor.example\"}") != std::string::npos);
    // The cache keeps the last-known addresses for the next start.
    CHECK(addresses_text(read_dns_cache(default_dns_cache(dir.site()))[kName].addresses) == "203.0.113.12");
}
