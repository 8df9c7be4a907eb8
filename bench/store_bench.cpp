// Edge records per second committed into a baseline store by one or several writers at once,
// each writer with its own connection, batches as a collector commits them (one transaction
// per batch). Half of each batch's edges are shared by every writer (sensors that see the same
// traffic), half are the writer's own; addresses are scattered over a /16.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <random>
#include <thread>

#include "wardgate/store/baseline_store.hpp"

namespace {

wardgate::IpAddress address(uint32_t value) {
    wardgate::IpAddress a;
    a.family = wardgate::Family::v4;
    for (int i = 0; i < 4; ++i) a.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (24 - 8 * i));
    return a;
}

std::vector<wardgate::ObservedEdge> batch(int writer, int number, int size, std::mt19937& own) {
    std::vector<wardgate::ObservedEdge> out;
    out.reserve(static_cast<size_t>(size));
    // The shared half draws from a sequence every writer repeats for the same batch number.
    std::mt19937 common(static_cast<unsigned>(number));
    for (int i = 0; i < size; ++i) {
        const bool shared = i % 2 == 0;
        std::mt19937& random = shared ? common : own;
        const uint32_t host = static_cast<uint32_t>(random() % 65536);
        wardgate::ObservedEdge e;
        e.key.initiator = address((shared ? 0x0a140000u : 0x0a150000u + (static_cast<uint32_t>(writer) << 12)) | host);
        e.key.responder = address(0x0a320000u | static_cast<uint32_t>(random() % 4096));
        e.key.protocol = random() % 4 ? wardgate::Protocol::tcp : wardgate::Protocol::udp;
        e.key.responder_port = static_cast<uint16_t>(1 + random() % 2000);
        e.stats.first_seen = 1.77e9 + number * 60.0 + static_cast<double>(random() % 60);
        e.stats.last_seen = e.stats.first_seen + 1;
        e.stats.connections = 1 + random() % 20;
        e.stats.bytes = random() % 1000000;
        e.stats.established = true;
        e.days.insert(wardgate::utc_day(e.stats.first_seen));
        e.stats.days_seen = 1;
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Edge records per second into a baseline store, from one or several writers at once"};
    std::string db;
    int writers = 1, batches = 20, size = 20000;
    app.add_option("--db", db, "SQLite file or postgresql:// URI")->required();
    app.add_option("--writers", writers, "Writers at once, each with its own connection");
    app.add_option("--batches", batches, "Batches (transactions) per writer");
    app.add_option("--batch-edges", size, "Edge records per batch");
    CLI11_PARSE(app, argc, argv);

    { wardgate::BaselineStore create(db); }
    // Batches are made before the clock starts: only the store is timed.
    std::vector<std::vector<std::vector<wardgate::ObservedEdge>>> work(static_cast<size_t>(writers));
    for (int w = 0; w < writers; ++w) {
        std::mt19937 random(static_cast<unsigned>(1000 + w));
        for (int b = 0; b < batches; ++b) work[static_cast<size_t>(w)].push_back(batch(w, b, size, random));
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
        threads.emplace_back([&, w] {
            wardgate::BaselineStore store(db);
            for (int b = 0; b < batches; ++b) {
                wardgate::IngestedFile f;
                f.file.path = "bench";
                f.file.hash = fmt::format("bench-{}-{}", w, b);
                f.source = fmt::format("collector-{}", w % 2);  // two writers per source: they meet on rows
                f.format = "netflow";
                f.records = static_cast<uint64_t>(size);
                store.commit_file(f, work[static_cast<size_t>(w)][static_cast<size_t>(b)]);
            }
        });
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double records = double(writers) * batches * size;
    wardgate::BaselineStore store(db);
    fmt::print("{} writers {:.0f} records {:.3f} s {:.0f} records/s {} edges\n", writers, records, seconds,
               records / seconds, store.edge_count());
}
