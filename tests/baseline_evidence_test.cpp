// The observed baseline keeps only what an engineer can defend: known parties, completed
// exchanges, seen often enough, no insecure protocol, no expired approval, nothing link-local.
// Everything it refuses is named in the plan with the reason.
#include <catch2/catch.hpp>

#include <algorithm>

#include "support/pipeline_fixture.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

// ws-01 (10.200.0.31) and pump-03 (10.110.0.23) are supported: their stance keeps a baseline.
std::string conn_log() {
    std::string log =
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
        "orig_bytes\tresp_bytes\tconn_state\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";
    auto row = [&](double ts, const std::string& from, const std::string& to, int port, const std::string& proto,
                   const std::string& state) {
        static int uid = 0;
        log += std::to_string(ts) + "\tC" + std::to_string(++uid) + "\t" + from + "\t40000\t" + to + "\t" +
               std::to_string(port) + "\t" + proto + "\t-\t1.0\t100\t200\t" + state + "\n";
    };
    const double day1 = 1763683200, day2 = day1 + 86400;
    // Mature: three answered connections on one day, and one answered on each of two days.
    for (int i = 0; i < 3; ++i) row(day1 + i * 60, "10.200.0.31", "10.110.0.23", 7071, "tcp", "SF");
    row(day1, "10.200.0.31", "10.110.0.23", 7074, "tcp", "SF");
    row(day2, "10.200.0.31", "10.110.0.23", 7074, "tcp", "SF");
    // Immature: one answered connection.
    row(day1, "10.200.0.31", "10.110.0.23", 7070, "tcp", "SF");
    // Never answered, however often.
    for (int i = 0; i < 5; ++i) row(day1 + i, "10.200.0.31", "10.110.0.23", 7072, "tcp", "S0");
    // Insecure (FTP), mature otherwise.
    for (int i = 0; i < 4; ++i) row(day1 + i, "10.200.0.31", "10.110.0.23", 21, "tcp", "SF");
    // Covered by an approval that expired.
    for (int i = 0; i < 4; ++i) row(day1 + i, "10.200.0.31", "10.110.0.23", 9090, "tcp", "SF");
    // A host in no inventory, inside a segment.
    for (int i = 0; i < 4; ++i) row(day1 + i, "10.110.0.99", "10.110.0.23", 5000, "tcp", "SF");
    // An outside address that no endpoint names.
    for (int i = 0; i < 4; ++i) row(day1 + i, "10.110.0.23", "192.0.2.44", 8443, "tcp", "SF");
    // Link-local and multicast noise.
    row(day1, "10.110.0.23", "224.0.0.251", 5353, "udp", "S0");
    row(day1, "fe80::1", "ff02::fb", 5353, "udp", "S0");
    row(day1, "10.110.0.23", "10.110.0.255", 137, "udp", "S0");
    row(day1, "169.254.10.10", "10.110.0.23", 80, "tcp", "SF");
    // ICMP echo replies (type 0 in id.orig_p), answered and mature: a reply starts no
    // connection, so there is nothing to open (conntrack would drop one on its own as invalid).
    for (int i = 0; i < 4; ++i)
        log += std::to_string(day1 + i * 86400) + "\tCr" + std::to_string(i) +
               "\t10.200.0.31\t0\t10.110.0.23\t0\ticmp\t-\t1.0\t64\t64\tOTH\n";
    return log;
}

const std::string kExpiredApproval = R"(
[[approval]]
id = "CHG-GONE"
from = "device:ws-01"
to = "device:pump-03"
protocol = "tcp"
ports = [9090]
by = "Biomed"
reason = "Finished project"
expires = 2026-01-31
)";

struct Evidence {
    TempSite site;
    Pipeline p;
    Plan plan;
    Evidence()
        : site({{"flows/conn.log", conn_log()}, {"policy.toml", small_site_files()["policy.toml"] + kExpiredApproval}}),
          p(pipeline_for(site.dir())),
          plan(make_plan(p.policy, std::nullopt, p.edges, *p.book)) {}

    std::vector<uint16_t> pinhole_ports() const {
        std::vector<uint16_t> out;
        for (const auto& h : p.policy.pinholes) out.push_back(h.port);
        return out;
    }
    const BaselineRefusal* refusal(uint16_t port) const {
        for (const auto& r : p.policy.refused)
            if (r.port == port) return &r;
        return nullptr;
    }
};

}  // namespace

TEST_CASE("only mature, answered flows between known parties become pinholes", "[baseline]") {
    Evidence e;
    CHECK(e.pinhole_ports() == std::vector<uint16_t>{7071, 7074});
    // The echo replies were read (an edge with their message), and neither opened nor refused.
    CHECK(std::any_of(e.p.edges.begin(), e.p.edges.end(), [](const auto& c) {
        return c.observed.key.protocol == Protocol::icmp && c.observed.key.responder_port == icmp_port(0, 0);
    }));
    for (const auto& r : e.p.policy.refused) CHECK(r.protocol != Protocol::icmp);
    const auto& why = e.p.policy.pinholes.front().why.detail;
    CHECK(why.find("3 connections on 1 day") != std::string::npos);
}

TEST_CASE("each refused flow carries its reason and evidence", "[baseline]") {
    Evidence e;
    using R = BaselineRefusal::Reason;
    struct Expect {
        uint16_t port;
        R reason;
        std::string detail;
    };
    for (const auto& x : std::vector<Expect>{{7070, R::immature, "1 connection on 1 day"},
                                             {7072, R::not_answered, "5 connections"},
                                             {21, R::insecure, "FTP"},
                                             {9090, R::approval_expired, "approval CHG-GONE expired on 2026-01-31"},
                                             {5000, R::unknown_peer, "4 connections"},
                                             {8443, R::outside_peer, "4 connections"}}) {
        INFO("port " << x.port);
        const auto* r = e.refusal(x.port);
        REQUIRE(r);
        CHECK(r->reason == x.reason);
        CHECK(r->detail.find(x.detail) != std::string::npos);
        // And the kernel ruleset has no pinhole for it.
        CHECK_FALSE(verdict_of(e.p.policy, r->src.to_string(), r->dst.to_string(), r->protocol, r->port).allowed);
    }
    CHECK(e.p.policy.refused.size() == 6);
}

TEST_CASE("link-local, multicast and broadcast flows are ignored, not blocked and not pinholed", "[baseline]") {
    Evidence e;
    CHECK(e.p.policy.unrouted_flows == 4);
    for (const auto& d : e.plan.impact)
        for (const auto& f : d.flows) {
            INFO(f.responder_ip);
            CHECK(f.responder_ip != "224.0.0.251");
            CHECK(f.responder_ip != "ff02::fb");
            CHECK(f.responder_ip != "10.110.0.255");
            CHECK(f.initiator_ip != "169.254.10.10");
        }
    for (const auto& r : e.p.policy.refused) CHECK(r.port != 5353);
}

TEST_CASE("the plan names every refusal under its own heading", "[baseline][plan]") {
    Evidence e;
    std::string text = render_plan_text(e.plan, false);
    for (auto r : {BaselineRefusal::Reason::unknown_peer, BaselineRefusal::Reason::outside_peer,
                   BaselineRefusal::Reason::not_answered, BaselineRefusal::Reason::immature,
                   BaselineRefusal::Reason::insecure, BaselineRefusal::Reason::approval_expired}) {
        INFO(heading(r));
        CHECK(text.find(std::string(heading(r))) != std::string::npos);
    }
    CHECK(text.find("ignored: 4 link-local/multicast/broadcast flows") != std::string::npos);
    CHECK(text.find("Not kept by the observed baseline (6 flows)") != std::string::npos);
    auto j = render_plan_json(e.plan);
    CHECK(j["refused"].size() == 6);
    CHECK(j["ignored_unrouted_flows"] == 4);
    bool found = false;
    for (const auto& r : j["refused"])
        if (r["reason"] == "approval-expired") found = r["detail"].get<std::string>().find("CHG-GONE") != std::string::npos;
    CHECK(found);
}

TEST_CASE("the stance sets how much observation makes a flow mature", "[baseline]") {
    auto policy = small_site_files()["policy.toml"];
    auto at = policy.find("internet = true");
    policy.insert(at + 15, "\nbaseline_min_days = 3\nbaseline_min_connections = 10");
    TempSite site({{"flows/conn.log", conn_log()}, {"policy.toml", policy}});
    auto p = pipeline_for(site.dir());
    CHECK(p.policy.pinholes.empty());  // 3 connections and 2 days are no longer enough
    TempSite lax({{"flows/conn.log", conn_log()},
                  {"policy.toml", policy.replace(policy.find("baseline_min_days = 3"), 21, "baseline_min_days = 1")}});
    auto q = pipeline_for(lax.dir());
    std::vector<uint16_t> ports;
    for (const auto& h : q.policy.pinholes) ports.push_back(h.port);
    CHECK(ports == std::vector<uint16_t>{7070, 7071, 7074, 9090});  // no expired approval here
}

TEST_CASE("a stance maturity setting out of range is a located error", "[baseline][errors]") {
    auto policy = small_site_files()["policy.toml"];
    policy.insert(policy.find("internet = true") + 15, "\nbaseline_min_days = 0");
    TempSite site({{"policy.toml", policy}});
    auto r = run_wardgate("check " + site.dir().string());
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("policy.toml:5") != std::string::npos);
    CHECK(r.err.find("baseline_min_days") != std::string::npos);
}

TEST_CASE("an insecure protocol recognised in the traffic is refused on any port", "[baseline][dissect]") {
    // Zeek's analysers found HTTP on tcp/7075, a port no list calls insecure.
    std::string log = conn_log();
    for (int i = 0; i < 4; ++i)
        log += std::to_string(1763683200 + i * 60) + "\tCh" + std::to_string(i) +
               "\t10.200.0.31\t40000\t10.110.0.23\t7075\ttcp\thttp\t1.0\t100\t200\tSF\n";
    TempSite site({{"flows/conn.log", log}});
    auto p = pipeline_for(site.dir());
    const BaselineRefusal* refused = nullptr;
    for (const auto& r : p.policy.refused)
        if (r.port == 7075) refused = &r;
    REQUIRE(refused);
    CHECK(refused->reason == BaselineRefusal::Reason::insecure);
    CHECK(refused->detail.starts_with("HTTP, recognised in the traffic; 4 connections"));
    for (const auto& h : p.policy.pinholes) CHECK(h.port != 7075);
    CHECK_FALSE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::tcp, 7075).allowed);
}
