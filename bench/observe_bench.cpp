// wardgate-bench-observe: figures for the observation side.
//  1. pcap read: packets/s and flows/s through decoding and connection tracking;
//  2. baseline store: committing N distinct edges (SQLite, WAL), the database size;
//  3. ingesting a big Zeek conn.log into the store: time and peak memory.
// --phase records: N flow records into the store in periodic commits (as `wardgate observe`
// does), against the same records stored one row each in a plain SQLite table.
// --write-pcap / --write-conn-log only write the synthetic inputs, for scripts/bench-observe.
// Each phase runs in a child process so its peak RSS is its own. Inputs are synthetic
// and written to a scratch directory.
#include <CLI/CLI.hpp>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

// A frame as a VXLAN tunnel (VNI 110) between two VTEPs carries it, as an SD-Access fabric
// mirrors it: outer Ethernet, IPv4, UDP to 4789, the VXLAN header, then the frame.
std::string vxlan_frame(const std::string& inner, uint16_t sport) {
    std::string f(12, '\x04');
    be16(f, 0x0800);
    f.push_back(0x45);
    f.push_back(0);
    be16(f, static_cast<uint16_t>(20 + 8 + 8 + inner.size()));
    be16(f, 0);
    be16(f, 0x4000);
    f.push_back(64);
    f.push_back(17);
    be16(f, 0);
    be32(f, 0xC0000201);  // 192.0.2.1
    be32(f, 0xC0000202);
    be16(f, sport);
    be16(f, 4789);
    be16(f, static_cast<uint16_t>(8 + 8 + inner.size()));
    be16(f, 0);
    be32(f, 0x08000000);
    be32(f, 110 << 8);
    return f + inner;
}

// `flows` TCP connections, `per_flow` packets each (handshake, data, FIN), interleaved
// 256 at a time so the table holds many flows at once; inside VXLAN when `vxlan`.
void write_capture(const fs::path& file, uint64_t flows, int per_flow, bool vxlan = false) {
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
                if (vxlan) f = vxlan_frame(f, static_cast<uint16_t>(49152 + n % 16384));
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

FlowRecord synthetic_record(uint64_t i, uint64_t edges) {
    uint64_t e = (i * 2654435761u) % edges;
    FlowRecord r;
    r.initiator = IpAddress::v4(0x0A000000u | static_cast<uint32_t>(e >> 3));
    r.responder = IpAddress::v4(0x0A320000u | static_cast<uint32_t>(e % 251));
    r.protocol = Protocol::tcp;
    r.responder_port = static_cast<uint16_t>(1000 + e % 7);
    r.start = 1.7e9 + static_cast<double>(i) * 0.001;
    r.duration = 0.5;
    r.bytes = 1500;
    r.established = true;
    return r;
}

void check_sqlite(int rc, sqlite3* db, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}

// `records` flow records over `edges` distinct edges, committed every `batch` records.
void records_phase(const fs::path& dir, uint64_t records, uint64_t edges, uint64_t batch) {
    double store_rate = 0, rows_rate = 0;
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return;
    in_child([&] {
        const fs::path db = dir / "records.db";
        BaselineStore store(db);
        Aggregator agg;
        uint64_t commits = 0, new_edges = 0;
        auto flush = [&] {
            IngestedFile f;
            f.file.hash = "batch-" + std::to_string(commits);
            f.file.path = "conntrack events";
            f.source = "conntrack";
            f.format = "conntrack";
            f.records = agg.records();
            new_edges += store.commit_file(f, agg.edges()).new_edges.size();
            ++commits;
            agg = Aggregator{};
        };
        auto start = std::chrono::steady_clock::now();
        for (uint64_t i = 0; i < records; ++i) {
            agg.add(synthetic_record(i, edges));
            if ((i + 1) % batch == 0) flush();
        }
        if (agg.records()) flush();
        double secs = seconds_since(start);
        std::printf("store ingest: %llu records -> %llu edges in %llu commits, %.2f s: %.2f M records/s; database %.1f MiB "
                    "(%.0f bytes/edge); peak RSS %.1f MiB\n",
                    static_cast<unsigned long long>(records), static_cast<unsigned long long>(store.edge_count()),
                    static_cast<unsigned long long>(commits), secs, records / secs / 1e6, db_bytes(db) / 1048576.0,
                    static_cast<double>(db_bytes(db)) / static_cast<double>(store.edge_count()), peak_rss_mib());
        double rate = records / secs;
        if (write(pipe_fds[1], &rate, sizeof rate) != sizeof rate) std::exit(1);
    });
    if (read(pipe_fds[0], &store_rate, sizeof store_rate) != sizeof store_rate) store_rate = 0;
    in_child([&] {
        // Baseline: every record as a row, same journal and durability settings.
        const fs::path file = dir / "rows.db";
        sqlite3* db = nullptr;
        check_sqlite(sqlite3_open(file.c_str(), &db), db, "open");
        check_sqlite(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE flows (initiator BLOB, "
                                      "responder BLOB, protocol INTEGER, port INTEGER, start REAL, duration REAL, bytes INTEGER, "
                                      "established INTEGER)", nullptr, nullptr, nullptr), db, "schema");
        sqlite3_stmt* insert = nullptr;
        check_sqlite(sqlite3_prepare_v2(db, "INSERT INTO flows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &insert, nullptr), db, "prepare");
        auto start = std::chrono::steady_clock::now();
        sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        for (uint64_t i = 0; i < records; ++i) {
            FlowRecord r = synthetic_record(i, edges);
            sqlite3_bind_blob(insert, 1, r.initiator.bytes.data(), 4, SQLITE_STATIC);
            sqlite3_bind_blob(insert, 2, r.responder.bytes.data(), 4, SQLITE_STATIC);
            sqlite3_bind_int(insert, 3, static_cast<int>(r.protocol));
            sqlite3_bind_int(insert, 4, r.responder_port);
            sqlite3_bind_double(insert, 5, r.start);
            sqlite3_bind_double(insert, 6, r.duration);
            sqlite3_bind_int64(insert, 7, static_cast<sqlite3_int64>(r.bytes));
            sqlite3_bind_int(insert, 8, r.established);
            check_sqlite(sqlite3_step(insert), db, "insert");
            sqlite3_reset(insert);
            if ((i + 1) % batch == 0) {
                sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
            }
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
        sqlite3_finalize(insert);
        sqlite3_close(db);
        double secs = seconds_since(start);
        std::printf("baseline, one row per record: %llu rows in %.2f s: %.2f M records/s; database %.1f MiB\n",
                    static_cast<unsigned long long>(records), secs, records / secs / 1e6, db_bytes(file) / 1048576.0);
        double rate = records / secs;
        if (write(pipe_fds[1], &rate, sizeof rate) != sizeof rate) std::exit(1);
    });
    if (read(pipe_fds[0], &rows_rate, sizeof rows_rate) != sizeof rows_rate) rows_rate = 0;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    if (rows_rate > 0)
        std::printf("ratio store/rows: %.1fx records/s; database %.0fx smaller\n", store_rate / rows_rate,
                    static_cast<double>(db_bytes(dir / "rows.db")) / static_cast<double>(db_bytes(dir / "records.db")));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"wardgate-bench-observe: pcap read rate, baseline store ingest, memory while ingesting"};
    uint64_t flows = 200000, store_edges = 500000, conn_rows = 5000000, conn_edges = 200000;
    int per_flow = 10;
    std::string dir = (fs::temp_directory_path() / ("wardgate-bench-observe-" + std::to_string(getpid()))).string();
    bool keep = false;
    std::string phase = "all", write_pcap, write_conn, read_capture;
    bool vxlan = false;
    uint64_t records = 10000000, record_edges = 1000000, batch = 1000000;
    app.add_option("--flows", flows, "TCP connections in the synthetic capture");
    app.add_option("--packets-per-flow", per_flow, "Packets per connection (at least 4)")->check(CLI::Range(4, 1000));
    app.add_option("--store-edges", store_edges, "Distinct edges committed to the store");
    app.add_option("--conn-rows", conn_rows, "Rows of the synthetic conn.log");
    app.add_option("--conn-edges", conn_edges, "Distinct edges among them");
    app.add_option("--dir", dir, "Scratch directory");
    app.add_flag("--keep", keep, "Keep the scratch directory");
    app.add_option("--phase", phase, "all: pcap, store and conn.log phases; records: the store ingest of --records")
        ->check(CLI::IsMember({"all", "records"}));
    app.add_option("--records", records, "Flow records for --phase records");
    app.add_option("--record-edges", record_edges, "Distinct edges among them");
    app.add_option("--batch", batch, "Records per commit")->check(CLI::PositiveNumber);
    app.add_option("--write-pcap", write_pcap, "Only write the synthetic capture (--flows, --packets-per-flow) to this file");
    app.add_option("--write-conn-log", write_conn, "Only write the synthetic conn.log (--conn-rows, --conn-edges) to this file");
    app.add_flag("--vxlan", vxlan, "With --write-pcap: every frame inside a VXLAN tunnel");
    app.add_option("--read-pcap", read_capture, "Only read this capture into edges (no store) and print the best of 3 wall times");
    CLI11_PARSE(app, argc, argv);
    if (!read_capture.empty()) {
        double best = 1e9;
        for (int i = 0; i < 3; ++i) {
            Aggregator edges;
            auto start = std::chrono::steady_clock::now();
            read_pcap(read_capture, [&](const PcapFlow& f) { edges.add(f.record); });
            best = std::min(best, seconds_since(start));
        }
        std::printf("%.3f\n", best);
        return 0;
    }
    if (!write_pcap.empty() || !write_conn.empty()) {
        if (!write_pcap.empty()) write_capture(write_pcap, flows, per_flow, vxlan);
        if (!write_conn.empty()) write_conn_log(write_conn, conn_rows, conn_edges);
        return 0;
    }
    fs::create_directories(dir);
    if (phase == "records") {
        records_phase(dir, records, record_edges, batch);
        if (!keep) fs::remove_all(dir);
        return 0;
    }

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
            e.stats = EdgeStats{1.7e9, 1.7e9 + 60, 5, 10000, true, 0};
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
