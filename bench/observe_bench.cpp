// wardgate-bench-observe: figures for the observation side.
//  1. pcap read: packets/s and flows/s through decoding and connection tracking;
//  2. baseline store: committing N distinct edges (SQLite, WAL), the database size;
//  3. ingesting a big Zeek conn.log into the store: time and peak memory.
// Each phase runs in a child process so its peak RSS is its own. Inputs are synthetic
// and written to a scratch directory.
#include <CLI/CLI.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "wardgate/flows/pcap.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/ingest.hpp"

using namespace wardgate;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Runs fn in a child so that its memory figures are not mixed with another phase's.
void in_child(const std::function<void()>& fn) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        std::fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
}

void le32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void be16(std::string& s, uint16_t v) {
    s.push_back(static_cast<char>(v >> 8));
    s.push_back(static_cast<char>(v));
}
void be32(std::string& s, uint32_t v) {
    be16(s, static_cast<uint16_t>(v >> 16));
    be16(s, static_cast<uint16_t>(v));
}

// Ethernet + IPv4 + TCP frame with `payload` bytes of data.
std::string tcp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags, uint16_t payload) {
    std::string f(12, '\x02');
    be16(f, 0x0800);
    f.push_back(0x45);
    f.push_back(0);
    be16(f, static_cast<uint16_t>(40 + payload));
    be16(f, 0);
    be16(f, 0x4000);
    f.push_back(64);
    f.push_back(6);
    be16(f, 0);
    be32(f, src);
    be32(f, dst);
    be16(f, sport);
    be16(f, dport);
    be32(f, 1);
    be32(f, 1);
    f.push_back(0x50);
    f.push_back(static_cast<char>(flags));
    be16(f, 65535);
    be32(f, 0);
    f.append(payload, 'x');
    return f;
}

// `flows` TCP connections, `per_flow` packets each (handshake, data, FIN), interleaved
// 256 at a time so the table holds many flows at once.
void write_capture(const fs::path& file, uint64_t flows, int per_flow) {
    std::ofstream out(file, std::ios::binary);
    std::string header;
    le32(header, 0xa1b2c3d4);
    header += std::string("\x02\x00\x04\x00", 4);
    le32(header, 0);
    le32(header, 0);
    le32(header, 65535);
    le32(header, 1);
    out << header;
    double t = 1.7e9;
    std::string record;
    for (uint64_t base = 0; base < flows; base += 256) {
        uint64_t group = std::min<uint64_t>(256, flows - base);
        for (int step = 0; step < per_flow; ++step) {
            for (uint64_t i = 0; i < group; ++i) {
                uint64_t n = base + i;
                uint32_t client = 0x0A000000u | static_cast<uint32_t>(n % 60000);
                uint32_t server = 0x0A320000u | static_cast<uint32_t>(n % 97);
                uint16_t sport = static_cast<uint16_t>(32768 + n % 28000);
                bool to_server = step % 2 == 0;
                // SYN, SYN+ACK, data both ways, then FIN from each side.
                uint8_t flags = step == 0 ? 0x02 : step == 1 ? 0x12 : step >= per_flow - 2 ? 0x11 : 0x18;
                std::string f = to_server ? tcp_frame(client, server, sport, 443, flags, step > 1 ? 200 : 0)
                                          : tcp_frame(server, client, 443, sport, flags, step > 1 ? 1200 : 0);
                t += 1e-4;
                record.clear();
                le32(record, static_cast<uint32_t>(t));
                le32(record, static_cast<uint32_t>((t - static_cast<uint32_t>(t)) * 1e6));
                le32(record, static_cast<uint32_t>(f.size()));
                le32(record, static_cast<uint32_t>(f.size()));
                out << record << f;
            }
        }
    }
}

void write_conn_log(const fs::path& file, uint64_t rows, uint64_t edges) {
    std::ofstream out(file);
    out << "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
           "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t"
           "resp_bytes\tconn_state\n"
           "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";
    char line[256];
    for (uint64_t i = 0; i < rows; ++i) {
        uint64_t e = (i * 2654435761u) % edges;
        std::snprintf(line, sizeof line, "%.6f\tC%llu\t10.%u.%u.%u\t%u\t10.50.0.%u\t%u\ttcp\t-\t0.5\t300\t1200\tSF\n",
                      1.7e9 + static_cast<double>(i) * 0.01, static_cast<unsigned long long>(i),
                      static_cast<unsigned>(e >> 16 & 255), static_cast<unsigned>(e >> 8 & 255),
                      static_cast<unsigned>(e & 255), static_cast<unsigned>(32768 + i % 28000),
                      static_cast<unsigned>(e % 200), static_cast<unsigned>(1000 + e % 7));
        out << line;
    }
}

uint64_t db_bytes(const fs::path& db) {
    uint64_t total = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        auto size = fs::file_size(db.string() + suffix, ec);
        if (!ec) total += size;
    }
    return total;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"wardgate-bench-observe: pcap read rate, baseline store ingest, memory while ingesting"};
    uint64_t flows = 200000, store_edges = 500000, conn_rows = 5000000, conn_edges = 200000;
    int per_flow = 10;
    std::string dir = (fs::temp_directory_path() / ("wardgate-bench-observe-" + std::to_string(getpid()))).string();
    bool keep = false;
    app.add_option("--flows", flows, "TCP connections in the synthetic capture");
    app.add_option("--packets-per-flow", per_flow, "Packets per connection (at least 4)")->check(CLI::Range(4, 1000));
    app.add_option("--store-edges", store_edges, "Distinct edges committed to the store");
    app.add_option("--conn-rows", conn_rows, "Rows of the synthetic conn.log");
    app.add_option("--conn-edges", conn_edges, "Distinct edges among them");
    app.add_option("--dir", dir, "Scratch directory");
    app.add_flag("--keep", keep, "Keep the scratch directory");
    CLI11_PARSE(app, argc, argv);
    fs::create_directories(dir);

    // 1. pcap
    const fs::path capture = fs::path(dir) / "bench.pcap";
    auto t = std::chrono::steady_clock::now();
    write_capture(capture, flows, per_flow);
    std::printf("capture: %llu packets, %.1f MiB (written in %.2f s)\n",
                static_cast<unsigned long long>(flows * per_flow), fs::file_size(capture) / 1048576.0, seconds_since(t));
    in_child([&] {
        uint64_t seen = 0;
        auto start = std::chrono::steady_clock::now();
        PcapSummary s = read_pcap(capture, [&](const PcapFlow&) { ++seen; });
        double secs = seconds_since(start);
        std::printf("pcap read: %llu packets, %llu flows in %.3f s: %.2f M packets/s, %.0f MiB/s, peak %llu flows, "
                    "peak RSS %.1f MiB (file mapped: %.1f MiB)\n",
                    static_cast<unsigned long long>(s.read.rows), static_cast<unsigned long long>(seen), secs,
                    s.read.rows / secs / 1e6, fs::file_size(capture) / 1048576.0 / secs,
                    static_cast<unsigned long long>(s.peak_flows), peak_rss_mib(), fs::file_size(capture) / 1048576.0);
    });

    // 2. store: N distinct edges in one file's transaction
    in_child([&] {
        const fs::path db = fs::path(dir) / "store.db";
        std::vector<ObservedEdge> edges;
        edges.reserve(store_edges);
        for (uint64_t i = 0; i < store_edges; ++i) {
            ObservedEdge e;
            e.key.initiator = IpAddress::v4(0x0A000000u | static_cast<uint32_t>(i));
            e.key.responder = IpAddress::v4(0x0A320000u | static_cast<uint32_t>(i % 251));
            e.key.protocol = Protocol::tcp;
            e.key.responder_port = static_cast<uint16_t>(1 + i % 4000);
            e.stats = EdgeStats{1.7e9, 1.7e9 + 60, 5, 10000, true};
            edges.push_back(e);
        }
        BaselineStore store(db);
        IngestedFile f;
        f.file.hash = "bench";
        f.file.path = "bench";
        f.source = "bench";
        f.format = "csv";
        auto start = std::chrono::steady_clock::now();
        auto r = store.commit_file(f, edges);
        double secs = seconds_since(start);
        std::printf("store commit: %llu new edges in %.3f s: %.0f edges/s; database %.1f MiB (%.0f bytes/edge)\n",
                    static_cast<unsigned long long>(r.new_edges.size()), secs, store_edges / secs,
                    db_bytes(db) / 1048576.0, static_cast<double>(db_bytes(db)) / store_edges);
        // The same edges again under another file: all updates, nothing new.
        f.file.hash = "bench-2";
        start = std::chrono::steady_clock::now();
        r = store.commit_file(f, edges);
        secs = seconds_since(start);
        std::printf("store commit, all known: %llu edges in %.3f s: %.0f edges/s; database %.1f MiB\n",
                    static_cast<unsigned long long>(store_edges), secs, store_edges / secs, db_bytes(db) / 1048576.0);
    });

    // 3. a big conn.log through ingest_file
    const fs::path conn = fs::path(dir) / "conn.log";
    t = std::chrono::steady_clock::now();
    write_conn_log(conn, conn_rows, conn_edges);
    std::printf("conn.log: %llu rows, %llu edges, %.1f MiB (written in %.2f s)\n",
                static_cast<unsigned long long>(conn_rows), static_cast<unsigned long long>(conn_edges),
                fs::file_size(conn) / 1048576.0, seconds_since(t));
    in_child([&] {
        const fs::path db = fs::path(dir) / "conn.db";
        BaselineStore store(db);
        double before = peak_rss_mib();
        auto start = std::chrono::steady_clock::now();
        auto r = ingest_file(store, conn);
        double secs = seconds_since(start);
        std::printf("conn.log ingest: %llu records, %llu edges in %.2f s: %.2f M rows/s; peak RSS %.1f MiB "
                    "(%.1f MiB before; the file, %.1f MiB, is mapped and counts as it is read); database %.1f MiB\n",
                    static_cast<unsigned long long>(r.records), static_cast<unsigned long long>(r.edges), secs,
                    r.records / secs / 1e6, peak_rss_mib(), before, fs::file_size(conn) / 1048576.0,
                    db_bytes(db) / 1048576.0);
    });
    if (!keep) fs::remove_all(dir);
    return 0;
}
