// Deviation alerts on the example hospital: what raises one, with which context, how
// they are rate limited, and the JSON-lines and RFC 5424 syslog sinks.
#include <catch2/catch.hpp>

#include "wardgate/core/insecure.hpp"
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "support/text_lines.hpp"
#include "wardgate/alerts/alerts.hpp"
#include "wardgate/alerts/sinks.hpp"
#include "wardgate/plan/pipeline.hpp"

using namespace wardgate;
using wardgate::testing::file_lines;
using wardgate::testing::kExampleSite;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const Date kToday = *parse_date("2026-03-10");

const Pipeline& example_pipeline() {
    static const Pipeline p = [] {
        PipelineOptions o;
        o.today = kToday;
        return run_pipeline(kExampleSite, o);
    }();
    return p;
}

ObservedEdge edge(const char* from, const char* to, Protocol p, uint16_t port, double time = 1772532000) {
    return ObservedEdge{EdgeKey{*IpAddress::parse(from), *IpAddress::parse(to), p, port},
                        EdgeStats{time, time + 2, 3, 420, true, 0}, {}};
}

}  // namespace

TEST_CASE("alerts: telnet to an end-of-support pump is a denied, insecure attempt", "[alerts]") {
    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    auto a = detector.assess(edge("10.200.0.21", "10.110.0.21", Protocol::tcp, 23), true, false);
    REQUIRE(a);
    CHECK(a->kind == AlertKind::denied_attempt);
    CHECK(a->findings ==
          std::vector<AlertKind>{AlertKind::denied_attempt, AlertKind::insecure_protocol, AlertKind::new_peer});
    CHECK(a->severity == Severity::critical);
    CHECK(a->device == "pump-icu-01");
    CHECK_FALSE(a->device_initiated);
    CHECK(a->peer == "ws-icu-01");
    CHECK(a->initiator == "ws-icu-01");
    CHECK(a->responder == "pump-icu-01");
    CHECK(a->role == "infusion-pump");
    CHECK(a->segment == "icu");
    CHECK(a->vendor == "BD");
    CHECK(a->model == "Alaris 8015");
    CHECK(a->lifecycle == Lifecycle::end_of_support);
    CHECK(a->fda_class == FdaClass::II);
    CHECK(a->phi == Level::low);
    CHECK(a->downtime_impact == Level::high);
    CHECK(a->risk == Level::high);
    CHECK(a->insecure == "telnet");
    CHECK(a->rule == "deny no-telnet-pumps");
    CHECK(a->message ==
          "pump-icu-01 (infusion-pump, end-of-support, risk high): denied attempt ws-icu-01 -> pump-icu-01 tcp/23 "
          "(deny no-telnet-pumps); also insecure-protocol, new-peer");

    SECTION("a denied edge alerts even when the baseline already has it") {
        auto known = detector.assess(edge("10.200.0.21", "10.110.0.21", Protocol::tcp, 23), false, true);
        REQUIRE(known);
        CHECK(known->findings == std::vector<AlertKind>{AlertKind::denied_attempt, AlertKind::insecure_protocol});
    }
}

TEST_CASE("alerts: a patient monitor talking to the internet", "[alerts]") {
    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    auto a = detector.assess(edge("10.110.0.41", "8.8.8.8", Protocol::tcp, 443), true, false);
    REQUIRE(a);
    CHECK(a->kind == AlertKind::internet_contact);
    CHECK(a->findings == std::vector<AlertKind>{AlertKind::internet_contact, AlertKind::new_peer});
    CHECK(a->severity == Severity::critical);  // error, raised one step: risk high
    CHECK(a->device == "mon-icu-01");
    CHECK(a->device_initiated);
    CHECK(a->peer == "8.8.8.8");
    CHECK(a->role == "patient-monitor");
    CHECK(a->lifecycle == Lifecycle::limited_support);
    CHECK(a->phi == Level::medium);
    CHECK(a->risk == Level::high);
    CHECK(a->insecure.empty());
    CHECK(a->rule.empty());
    CHECK(a->message == "mon-icu-01 (patient-monitor, limited-support, risk high): internet contact with 8.8.8.8: "
                        "mon-icu-01 -> 8.8.8.8 tcp/443; also new-peer");
}

TEST_CASE("alerts: a new port to a known peer, and what raises nothing", "[alerts]") {
    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    // A lab analyzer (class I, PHI medium, downtime medium: risk medium) to its known PACS on a new port.
    auto a = detector.assess(edge("10.130.0.21", "10.50.0.10", Protocol::tcp, 9999), true, true);
    REQUIRE(a);
    CHECK(a->kind == AlertKind::new_port);
    CHECK(a->findings == std::vector<AlertKind>{AlertKind::new_port});
    CHECK(a->severity == Severity::warning);
    CHECK(a->device == "lab-chem-01");
    CHECK(a->peer == "pacs");
    CHECK(a->risk == Level::medium);
    CHECK(a->lifecycle == Lifecycle::support);
    CHECK(a->message == "lab-chem-01 (lab-analyzer, support, risk medium): new port tcp/9999 with known peer pacs: "
                        "lab-chem-01 -> pacs tcp/9999");

    // Declared by the pump's profile.
    CHECK_FALSE(detector.assess(edge("10.110.0.21", "10.50.0.30", Protocol::tcp, 443), true, false));
    // Approved (CHG-4711), though plain HTTP.
    CHECK_FALSE(detector.assess(edge("10.90.0.21", "10.110.0.21", Protocol::tcp, 8080), true, false));
    // Unexplained but already in the baseline and not denied.
    CHECK_FALSE(detector.assess(edge("10.110.0.41", "8.8.8.8", Protocol::tcp, 443), false, true));
    // No managed device at either end.
    CHECK_FALSE(detector.assess(edge("192.0.2.1", "192.0.2.2", Protocol::tcp, 23), true, false));

    std::vector<NewEdge> batch = {{edge("10.130.0.21", "10.50.0.10", Protocol::tcp, 9999), true},
                                  {edge("10.110.0.21", "10.50.0.30", Protocol::tcp, 443), false}};
    CHECK(detector.detect(batch).size() == 1);
}

TEST_CASE("alerts: risk levels and the insecure protocol list", "[alerts]") {
    Device d;
    CHECK(device_risk(d) == Level::none);
    d.fda_class = FdaClass::III;
    CHECK(device_risk(d) == Level::high);
    d.fda_class = FdaClass::I;
    d.phi = Level::medium;
    CHECK(device_risk(d) == Level::medium);
    CHECK(insecure_protocol(Protocol::tcp, 21) == "FTP");
    CHECK(insecure_protocol(Protocol::udp, 69) == "TFTP");
    CHECK(insecure_protocol(Protocol::tcp, 5901) == "VNC");
    CHECK(insecure_protocol(Protocol::tcp, 3389) == "RDP");
    CHECK(insecure_protocol(Protocol::udp, 137) == "NetBIOS");
    CHECK_FALSE(insecure_protocol(Protocol::tcp, 443));
    CHECK_FALSE(insecure_protocol(Protocol::udp, 23));
}

TEST_CASE("alerts: one alert per edge per hour, the next one counts what was held back", "[alerts]") {
    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    TempDir tmp("alerts");
    AlertDispatcher dispatcher{AlertLimiter(3600)};
    dispatcher.add_sink(std::make_unique<JsonLinesAlertSink>(tmp.path / "alerts.jsonl"));
    auto telnet = [&](double t) {
        return *detector.assess(edge("10.200.0.21", "10.110.0.21", Protocol::tcp, 23, t), false, true);
    };
    auto other = *detector.assess(edge("10.110.0.41", "8.8.8.8", Protocol::tcp, 443, 1500), true, false);
    dispatcher.dispatch({telnet(1000), telnet(1500), other});
    dispatcher.dispatch({telnet(2000)});
    dispatcher.dispatch({telnet(4700), telnet(4800)});
    CHECK(dispatcher.sent() == 3);
    CHECK(dispatcher.suppressed() == 3);
    auto lines = file_lines(tmp.path / "alerts.jsonl");
    REQUIRE(lines.size() == 3);
    auto first = nlohmann::json::parse(lines[0]);
    auto third = nlohmann::json::parse(lines[2]);
    CHECK(first["suppressed"] == 0);
    CHECK(first["last_seen"] == "1970-01-01T00:16:42Z");
    CHECK(third["suppressed"] == 2);
    CHECK(third["last_seen"] == "1970-01-01T01:18:22Z");
    CHECK_THAT(third["message"].get<std::string>(), Catch::EndsWith("(2 similar alerts for this edge suppressed)"));

    SECTION("the limiter's marks survive a restart") {
        AlertLimiter restored(3600);
        restored.restore(dispatcher.limiter().marks());
        Alert again = telnet(5000);
        CHECK_FALSE(restored.admit(again));  // within the hour after 4702
        Alert later = telnet(9000);
        CHECK(restored.admit(later));
        CHECK(later.suppressed == 2);  // 4800 and 5000
    }
}

TEST_CASE("alerts: the JSON-lines record", "[alerts]") {
    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    TempDir tmp("alerts");
    {
        JsonLinesAlertSink sink(tmp.path / "a.jsonl");
        sink.send(*detector.assess(edge("10.200.0.21", "10.110.0.21", Protocol::tcp, 23, 1772532000), true, false));
    }
    auto lines = file_lines(tmp.path / "a.jsonl");
    REQUIRE(lines.size() == 1);
    auto j = nlohmann::json::parse(lines[0]);
    CHECK(j["kind"] == "denied-attempt");
    CHECK(j["findings"] == nlohmann::json({"denied-attempt", "insecure-protocol", "new-peer"}));
    CHECK(j["severity"] == "critical");
    CHECK(j["device"] == "pump-icu-01");
    CHECK(j["role"] == "infusion-pump");
    CHECK(j["lifecycle"] == "end-of-support");
    CHECK(j["fda_class"] == "II");
    CHECK(j["phi"] == "low");
    CHECK(j["downtime_impact"] == "high");
    CHECK(j["risk"] == "high");
    CHECK(j["initiator"] == nlohmann::json({{"address", "10.200.0.21"}, {"name", "ws-icu-01"}}));
    CHECK(j["responder"] == nlohmann::json({{"address", "10.110.0.21"}, {"name", "pump-icu-01"}}));
    CHECK(j["protocol"] == "tcp");
    CHECK(j["port"] == 23);
    CHECK(j["time"] == "2026-03-03T10:00:02Z");
    CHECK(j["insecure_protocol"] == "telnet");
    CHECK(j["rule"] == "deny no-telnet-pumps");
    CHECK(j["connections"] == 3);
    CHECK(j["bytes"] == 420);
}

TEST_CASE("alerts: RFC 5424 syslog over UDP to a collector on 127.0.0.1", "[alerts]") {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);

    AlertDetector detector(*example_pipeline().book, example_pipeline().policy, kToday);
    {
        SyslogAlertSink sink("127.0.0.1:" + std::to_string(port));
        sink.send(*detector.assess(edge("10.200.0.21", "10.110.0.21", Protocol::tcp, 23), true, false));
    }
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    ::close(fd);
    REQUIRE(n > 0);
    std::string message(buffer, static_cast<size_t>(n));
    INFO(message);

    // RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
    std::regex header(R"(^<(\d{1,3})>1 (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z) ([!-~]{1,255}) (wardgate) (\d+) )"
                      R"(([!-~]{1,32}) (\[wardgate@32473( [^ =\]"]+="(?:[^"\\\]]|\\.)*")+\]) (.+)$)");
    std::smatch m;
    REQUIRE(std::regex_match(message, m, header));
    CHECK(std::stoi(m[1]) == 13 * 8 + 2);  // log audit, critical
    CHECK(m[5] == std::to_string(::getpid()));
    CHECK(m[6] == "denied-attempt");
    const std::string sd = m[7];
    CHECK_THAT(sd, Catch::Contains(R"(device="pump-icu-01")"));
    CHECK_THAT(sd, Catch::Contains(R"(role="infusion-pump")"));
    CHECK_THAT(sd, Catch::Contains(R"(lifecycle="end-of-support")"));
    CHECK_THAT(sd, Catch::Contains(R"(risk="high")"));
    CHECK_THAT(sd, Catch::Contains(R"(initiator="10.200.0.21")"));
    CHECK_THAT(sd, Catch::Contains(R"(port="23")"));
    CHECK_THAT(sd, Catch::Contains(R"(suppressed="0")"));
    CHECK_THAT(m[9].str(), Catch::StartsWith("pump-icu-01 (infusion-pump, end-of-support, risk high)"));
}

TEST_CASE("alerts: wardgate ingest --site --alerts raises them for edges new to the store", "[alerts]") {
    TempDir tmp("alerts");
    const std::string db = (tmp.path / "b.db").string();
    const std::string alerts = (tmp.path / "alerts.jsonl").string();
    {
        std::ofstream(tmp.path / "day1.csv") << "initiator,responder,protocol,port,start\n"
                                                "10.110.0.21,10.50.0.30,tcp,443,2026-03-01T08:00:00Z\n"
                                                "10.130.0.21,10.50.0.10,tcp,104,2026-03-01T08:00:00Z\n";
        std::ofstream(tmp.path / "day2.csv") << "initiator,responder,protocol,port,start\n"
                                                "10.110.0.21,10.50.0.30,tcp,443,2026-03-02T08:00:00Z\n"
                                                "10.130.0.21,10.50.0.10,tcp,9999,2026-03-02T08:00:00Z\n"
                                                "10.200.0.21,10.110.0.21,tcp,23,2026-03-02T09:00:00Z\n"
                                                "10.110.0.41,8.8.8.8,tcp,443,2026-03-02T10:00:00Z\n";
    }
    const std::string common = "ingest --db " + db + " --site " + kExampleSite + " --today 2026-03-10 --alerts " + alerts;
    auto r = testing::run_wardgate(common + " " + (tmp.path / "day1.csv").string() + " " + (tmp.path / "day2.csv").string());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = file_lines(alerts);
    std::set<std::string> kinds;
    for (const auto& l : lines) kinds.insert(nlohmann::json::parse(l)["kind"].get<std::string>());
    // day1's lab -> PACS tcp/104 is unexplained but first seen with no baseline: a new peer.
    CHECK(kinds == std::set<std::string>{"new-peer", "new-port", "denied-attempt", "internet-contact"});
    CHECK(lines.size() == 4);
    CHECK_THAT(r.out, Catch::Contains("alerts: 4 raised, 0 suppressed"));

    auto again = testing::run_wardgate(common + " " + (tmp.path / "day2.csv").string());
    CHECK_THAT(again.out, Catch::Contains("alerts: 0 raised"));
    CHECK(file_lines(alerts).size() == 4);

    auto no_site = testing::run_wardgate("ingest --db " + db + " --alerts " + alerts + " " + (tmp.path / "day1.csv").string());
    CHECK(no_site.exit_code == 1);
    CHECK_THAT(no_site.err, Catch::Contains("need --site"));
}

TEST_CASE("alerts: a new flow few of the device's siblings have is a peer deviation", "[alerts][deviation]") {
    TempDir tmp("alerts-dev");
    const std::string db = (tmp.path / "b.db").string();
    const std::string alerts = (tmp.path / "alerts.jsonl").string();
    // pump-icu-09's five siblings of the same model are all in the example site's conn.log; none
    // of them reaches 10.50.0.77.
    std::ofstream(tmp.path / "day.csv") << "initiator,responder,protocol,port,start\n"
                                           "10.110.0.29,10.50.0.77,tcp,9999,2026-03-02T08:00:00Z\n";
    auto r = testing::run_wardgate("ingest --db " + db + " --site " + kExampleSite + " --today 2026-03-10 --alerts " +
                                   alerts + " " + (tmp.path / "day.csv").string());
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto lines = file_lines(alerts);
    REQUIRE(lines.size() == 1);
    auto j = nlohmann::json::parse(lines.front());
    CHECK(j["kind"] == "peer-deviation");
    CHECK(j["findings"] == nlohmann::json({"peer-deviation", "new-peer"}));
    CHECK(j["deviation"] == "reaches 10.50.0.77 tcp/9999; 0 of its 5 siblings do");
    CHECK_THAT(j["message"].get<std::string>(),
               Catch::Contains("pump-icu-09 (infusion-pump, support, risk high): unlike its siblings: reaches 10.50.0.77 "
                               "tcp/9999; 0 of its 5 siblings do: pump-icu-09 -> 10.50.0.77 tcp/9999; also new-peer"));
}
