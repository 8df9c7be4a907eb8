// The collector against real exporters and collectors: softflowd exports a capture, and
// what the collector decodes is compared with what nfcapd stored (read back with nfdump).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/clock.hpp"
#include "support/test_paths.hpp"
#include "support/netflow_packets.hpp"
#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "wardgate/flows/netflow_collector.hpp"
#include "wardgate/store/baseline_store.hpp"

extern char** environ;

using namespace wardgate;
using namespace wardgate::netflow;
using wardgate::testing::Clock;
using wardgate::testing::Message;
using wardgate::testing::read_text;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// A child process whose output goes to a file; killed if still running at the end.
class LoggedChild {
public:
    LoggedChild(const std::vector<std::string>& argv, const fs::path& log) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) pid_ = -1;
        REQUIRE(pid_ > 0);
    }
    ~LoggedChild() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    // Waits for the child to end; returns its exit status, or -1 if it is still running.
    int wait_for(double seconds) {
        auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
        do {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } while (Clock::now() < deadline);
        return -1;
    }
    void signal(int sig) { ::kill(pid_, sig); }

private:
    pid_t pid_ = -1;
};

int run(const std::vector<std::string>& argv, const fs::path& log, double seconds = 10) {
    LoggedChild c(argv, log);
    return c.wait_for(seconds);
}

template <typename Predicate>
bool eventually(Predicate done, double seconds = 10) {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

uint16_t free_udp_port() {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Is a UDP socket bound to 127.0.0.1:port? (/proc/net/udp lists it in hex)
bool udp_bound(uint16_t port) {
    char needle[32];
    std::snprintf(needle, sizeof needle, "0100007F:%04X", port);
    return read_text("/proc/net/udp").find(needle) != std::string::npos;
}

void send_to_loopback(uint16_t port, const std::vector<uint8_t>& bytes, bool v6 = false) {
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (v6) {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_loopback;
        a.sin6_port = htons(port);
        ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    ::close(fd);
}

// Runs softflowd over a capture to 127.0.0.1:port; returns the records it says it exported.
// Reading a file, softflowd 1.1.0 waits on its control socket: the first command lets it
// read the whole capture, "shutdown" then expires every flow and exports it.
uint64_t softflowd_export(const std::string& capture, uint16_t port, const std::vector<std::string>& export_options,
                          const fs::path& dir, const std::string& tag) {
    const fs::path ctl = dir / (tag + ".ctl");
    std::vector<std::string> argv = {"softflowd", "-r", capture, "-n", "127.0.0.1:" + std::to_string(port), "-d",
                                     "-p", (dir / (tag + ".pid")).string(), "-c", ctl.string()};
    argv.insert(argv.end(), export_options.begin(), export_options.end());
    LoggedChild softflowd(argv, dir / (tag + ".log"));
    // The socket file appears before softflowd listens on it: try until it answers.
    REQUIRE(eventually([&] { return run({"softflowctl", "-c", ctl.string(), "statistics"}, dir / (tag + "-ctl1.log")) == 0; }));
    REQUIRE(run({"softflowctl", "-c", ctl.string(), "shutdown"}, dir / (tag + "-ctl2.log")) == 0);
    std::smatch match;
    std::string log;
    const std::regex exported(R"(Flows exported: \d+ \((\d+) records\))");
    REQUIRE(eventually([&] {
        log = read_text(dir / (tag + ".log"));
        return std::regex_search(log, match, exported);
    }));
    INFO(log);
    return std::stoull(match[1]);
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(' ');
    auto e = s.find_last_not_of(' ');
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

TEST_CASE("softflowd exports decode to the flows nfcapd stores", "[netflow][export]") {
    struct Variant {
        std::string name;
        std::vector<std::string> options;
    };
    auto variant = GENERATE(Variant{"v5", {"-v", "5"}}, Variant{"v9", {"-v", "9", "-6"}},
                            Variant{"ipfix", {"-v", "10", "-6"}}, Variant{"ipfix-biflow", {"-v", "10", "-6", "-b"}});
    INFO(variant.name);
    TempDir dir("netflow-export");
    const std::string capture = WARDGATE_SHARED_DATA "/zeek/wikipedia/wikipedia.pcap";

    Collector collector("127.0.0.1:0");
    std::mutex mutex;
    std::vector<NetflowRecord> ours;
    collector.on_records = [&](std::span<const NetflowRecord> records) {
        std::lock_guard lock(mutex);
        ours.insert(ours.end(), records.begin(), records.end());
    };
    uint64_t exported = 0;
    {
        std::atomic<bool> stop{false};
        std::thread receiver([&] {
            while (!stop) collector.poll(50);
        });
        struct Join {
            std::atomic<bool>& stop;
            std::thread& thread;
            ~Join() {
                stop = true;
                thread.join();
            }
        } join{stop, receiver};
        exported = softflowd_export(capture, collector.port(), variant.options, dir.path, "ours");
        REQUIRE(eventually([&] {
            std::lock_guard lock(mutex);
            return ours.size() >= exported;
        }));
    }

    const uint16_t nfcapd_port = free_udp_port();
    const fs::path store = dir.path / "nfcapd";
    fs::create_directories(store);
    {
        LoggedChild nfcapd({"nfcapd", "-w", store.string(), "-b", "127.0.0.1", "-p", std::to_string(nfcapd_port)},
                     dir.path / "nfcapd.log");
        REQUIRE(eventually([&] { return udp_bound(nfcapd_port); }));
        CHECK(softflowd_export(capture, nfcapd_port, variant.options, dir.path, "theirs") == exported);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        nfcapd.signal(SIGTERM);
        REQUIRE(nfcapd.wait_for(10) == 0);
    }
    const fs::path listing = dir.path / "nfdump.txt";
    REQUIRE(run({"nfdump", "-R", store.string(), "-q", "-N", "-6", "-o", "fmt:%sa,%da,%sp,%dp,%pr,%ipkt,%ibyt,%opkt,%obyt"},
                listing) == 0);
    std::vector<std::string> theirs;
    std::istringstream lines(read_text(listing));
    for (std::string line; std::getline(lines, line);) {
        if (line.find(',') == std::string::npos) continue;
        std::string row, field;
        std::istringstream fields(line);
        while (std::getline(fields, field, ',')) row += (row.empty() ? "" : ",") + trim(field);
        theirs.push_back(row);
    }
    std::vector<std::string> mine;
    for (const auto& r : ours)
        mine.push_back(r.source.to_string() + "," + r.destination.to_string() + "," + std::to_string(r.source_port) +
                       "," + std::to_string(r.destination_port) + "," + std::to_string(r.ip_protocol) + "," +
                       std::to_string(r.packets) + "," + std::to_string(r.bytes) + "," +
                       std::to_string(r.reverse_packets) + "," + std::to_string(r.reverse_bytes));
    std::sort(theirs.begin(), theirs.end());
    std::sort(mine.begin(), mine.end());
    CHECK(exported > 20);
    CHECK(mine.size() == exported);
    CHECK(mine == theirs);

    const auto& counters = collector.decoder().counters();
    CHECK(counters.malformed_packets == 0);
    CHECK(counters.lost_records == 0);
    CHECK(counters.lost_packets == 0);
    CHECK(collector.receiver_stats().kernel_drops == 0);

    // The roles match Zeek's conn.log for the same capture: the web clients and the DNS resolver's clients.
    size_t web = 0, dns = 0;
    for (const auto& r : ours) {
        INFO(r.source.to_string() << ":" << r.source_port << " -> " << r.destination.to_string() << ":"
                                  << r.destination_port);
        if (r.flow.protocol == Protocol::tcp) {
            ++web;
            CHECK(r.flow.responder_port == 80);
            CHECK(r.flow.initiator.to_string().starts_with("141.142.220."));
        } else if (r.source_port == 53 || r.destination_port == 53) {
            ++dns;
            CHECK(r.flow.responder == *IpAddress::parse("141.142.2.2"));
            CHECK(r.flow.responder_port == 53);
            CHECK(r.flow.initiator == *IpAddress::parse("141.142.220.118"));
        }
    }
    CHECK(web >= 9);
    CHECK(dns >= 14);
    Aggregator edges = collector.take_edges();
    uint64_t connections = 0;
    for (const auto& e : edges.edges())
        if (e.key.protocol == Protocol::tcp) connections += e.stats.connections;
    // Ten TCP connections. Exported one direction per record, one of them (to 173.192.163.128)
    // only has its reply direction in the capture: an edge without a connection counted.
    CHECK(connections == (variant.name == "ipfix-biflow" ? 10 : 9));
    CHECK(edges.size() >= 4);
}

TEST_CASE("The collector receives over IPv4 and IPv6 loopback", "[netflow]") {
    for (std::string listen : {"127.0.0.1:0", "[::1]:0"}) {
        INFO(listen);
        Collector c(listen);
        CHECK(c.port() != 0);
        CHECK(c.receiver_stats().receive_buffer > 0);
        auto packet = wardgate::testing::v5_packet(1, {{"10.0.0.5", "10.0.1.9", 51000, 2575, 6, 0x1b, 4, 400}});
        send_to_loopback(c.port(), packet, listen.front() == '[');
        send_to_loopback(c.port(), {0, 9, 0}, listen.front() == '[');
        REQUIRE(eventually([&] {
            c.poll(50);
            return c.receiver_stats().datagrams == 2;
        }));
        auto edges = c.take_edges().edges();
        REQUIRE(edges.size() == 1);
        CHECK(edges[0].key.initiator == *IpAddress::parse("10.0.0.5"));
        CHECK(edges[0].key.responder_port == 2575);
        CHECK(edges[0].stats.bytes == 400);
        CHECK(c.decoder().counters().malformed.at(kShortHeader) == 1);
        auto m = c.decoder().malformations();
        REQUIRE(m.size() == 1);
        CHECK(m[0].exporter.starts_with(listen.front() == '[' ? "[::1]:" : "127.0.0.1:"));
        CHECK(c.take_edges().size() == 0);
    }
}

TEST_CASE("wardgate collect commits edges to the store and stops on SIGTERM", "[netflow]") {
    TempDir dir("netflow-collect");
    const fs::path db = dir.path / "baseline.db";
    const fs::path log = dir.path / "collect.log";
    LoggedChild collect({WARDGATE_BINARY, "collect", "--listen", "127.0.0.1:0", "--db", db.string(), "--flush-seconds", "1"},
                  log);
    std::smatch match;
    const std::regex listening(R"(\(port (\d+)\))");
    std::string text;
    REQUIRE(eventually([&] {
        text = read_text(log);
        return std::regex_search(text, match, listening);
    }));
    const auto port = static_cast<uint16_t>(std::stoi(match[1]));

    Message m(10, 0, 3, 1700000000);
    m.begin_set(2).template_record(300, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}}).end_set();
    m.begin_set(300);
    m.p.ip4("10.20.0.5").ip4("10.20.0.9").u16(50000).u16(11112).u8(6).u32(1500).u32(12);
    m.p.ip4("10.20.0.9").ip4("10.20.0.5").u16(11112).u16(50000).u8(6).u32(900).u32(10);
    m.end_set();
    send_to_loopback(port, m.finish());
    Message late(10, 7, 3, 1700000001);  // five records missing
    send_to_loopback(port, late.finish());
    send_to_loopback(port, {0, 5, 1});
    REQUIRE(eventually([&] { return read_text(log).find("committed 2 records") != std::string::npos; }));
    collect.signal(SIGTERM);
    REQUIRE(collect.wait_for(10) == 0);
    text = read_text(log);
    INFO(text);
    CHECK(text.find("3 datagrams (v5 1, v9 0, IPFIX 2), 2 records, 1 edges") != std::string::npos);
    CHECK(text.find("1 new edges") != std::string::npos);
    CHECK(text.find("lost by sequence: 5 records") != std::string::npos);
    CHECK(text.find("short header: 1") != std::string::npos);
    CHECK(text.find("kernel drops: 0") != std::string::npos);

    BaselineStore store(db);
    auto stored = store.query();
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].source == "netflow");
    CHECK(stored[0].key.initiator == *IpAddress::parse("10.20.0.5"));
    CHECK(stored[0].key.responder == *IpAddress::parse("10.20.0.9"));
    CHECK(stored[0].key.responder_port == 11112);
    CHECK(stored[0].stats.connections == 1);
    CHECK(stored[0].stats.bytes == 2400);
    CHECK(stored[0].stats.established);
    auto files = store.files();
    REQUIRE(files.size() == 1);
    CHECK(files[0].format == "netflow");
    CHECK(files[0].records == 2);
}

TEST_CASE("wardgate collect --duration stops by itself, alerts on site devices and ages out old edges", "[netflow]") {
    TempDir dir("netflow-collect-site");
    const fs::path db = dir.path / "baseline.db";
    const fs::path log = dir.path / "collect.log";
    const fs::path alerts = dir.path / "alerts.jsonl";
    {
        // An edge last seen in 2020: older than the retention window.
        BaselineStore store(db);
        IngestedFile old;
        old.file.path = "old.csv";
        old.file.hash = "old";
        old.source = "csv";
        old.format = "csv";
        old.records = 1;
        store.commit_file(old, {ObservedEdge{EdgeKey{*IpAddress::parse("10.110.0.21"), *IpAddress::parse("10.50.0.30"),
                                                     Protocol::tcp, 443},
                                             EdgeStats{1.6e9, 1.6e9, 1, 100, true, 0}, {}}});
    }
    const auto now = static_cast<uint32_t>(std::time(nullptr));
    LoggedChild collect({WARDGATE_BINARY, "collect", "--listen", "127.0.0.1:0", "--db", db.string(), "--flush-seconds", "1",
                         "--duration", "4", "--retention-days", "30", "--source", "span-icu", "--site",
                         testing::kExampleSite, "--alerts", alerts.string()},
                        log);
    std::smatch match;
    const std::regex listening(R"(\(port (\d+)\))");
    std::string started;  // match points into it
    REQUIRE(eventually([&] {
        started = read_text(log);
        return std::regex_search(started, match, listening);
    }));
    const auto port = static_cast<uint16_t>(std::stoi(match[1]));
    // The ICU workstation opens telnet on an infusion pump: unexplained and insecure.
    send_to_loopback(port, wardgate::testing::v5_packet(1, {{"10.200.0.21", "10.110.0.21", 50123, 23, 6, 0x1b, 6, 480,
                                                               99000, 99500}},
                                                         100000, now));
    // No signal: --duration ends it, after a last commit.
    REQUIRE(collect.wait_for(20) == 0);
    const std::string text = read_text(log);
    INFO(text);
    CHECK(text.find("1 records, 1 edges") != std::string::npos);
    CHECK(text.find("retention: removed 1 edges") != std::string::npos);

    BaselineStore store(db);
    auto stored = store.query();
    REQUIRE(stored.size() == 1);  // the 2020 edge is gone, the new one stays
    CHECK(stored[0].source == "span-icu");
    CHECK(stored[0].key.responder_port == 23);

    auto lines = read_text(alerts);
    INFO(lines);
    REQUIRE(!lines.empty());
    auto first = nlohmann::json::parse(lines.substr(0, lines.find('\n')));
    CHECK(first["device"] == "pump-icu-01");
    CHECK(first["lifecycle"] == "end-of-support");
    CHECK(first["port"] == 23);
    CHECK(lines.find("\"insecure_protocol\":\"telnet\"") != std::string::npos);
}

TEST_CASE("wardgate collect keeps its batches while the PostgreSQL baseline is down and commits each once when it is back",
          "[netflow][postgresql]") {
    TempDir dir("netflow-collect-pg");
    testing::PostgresServer server;
    const std::string db = server.create_database("collect");
    const fs::path log = dir.path / "collect.log";
    LoggedChild collect({WARDGATE_BINARY, "collect", "--listen", "127.0.0.1:0", "--db", db, "--flush-seconds", "1"}, log);
    std::smatch match;
    const std::regex listening(R"(\(port (\d+)\))");
    std::string started;
    REQUIRE(eventually([&] {
        started = read_text(log);
        return std::regex_search(started, match, listening);
    }));
    const auto port = static_cast<uint16_t>(std::stoi(match[1]));
    const auto now = static_cast<uint32_t>(std::time(nullptr));
    auto send = [&](uint32_t sequence, uint16_t dport) {
        send_to_loopback(port, wardgate::testing::v5_packet(sequence, {{"10.20.0.5", "10.20.0.9", 50000, dport, 6, 0x1b, 4,
                                                                        400, 99000, 99500}},
                                                            100000, now));
    };
    auto count = [&](const std::string& what) {
        const std::string text = read_text(log);
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    send(1, 104);
    REQUIRE(eventually([&] { return count("committed 1 records") == 1; }));

    server.stop();
    send(2, 2575);
    REQUIRE(eventually([&] { return count("1 records in 1 batches kept") >= 1; }));
    send(3, 11112);
    REQUIRE(eventually([&] { return count("2 records in 2 batches kept") >= 1; }));
    CHECK_THAT(read_text(log), Catch::Contains("cannot reach the baseline database postgresql://wardgate@"));

    server.start();
    REQUIRE(eventually([&] { return count("committed 1 records") == 3; }, 20));
    collect.signal(SIGTERM);
    REQUIRE(collect.wait_for(10) == 0);
    const std::string text = read_text(log);
    INFO(text);
    CHECK_THAT(text, Catch::Contains("3 records, 3 edges in 3 commits"));

    BaselineStore store(db);
    CHECK(store.files().size() == 3);
    uint64_t connections = 0;
    std::set<uint16_t> ports;
    for (const auto& e : store.query()) {
        connections += e.stats.connections;
        ports.insert(e.key.responder_port);
    }
    CHECK(connections == 3);
    CHECK(ports == std::set<uint16_t>{104, 2575, 11112});
}
