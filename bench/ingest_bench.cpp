// Times wardgate's conn.log ingest alone: read + aggregate into edges, as plan does.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>

#include "wardgate/flows/readers.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Time wardgate's flow-log ingest (rows/s)"};
    std::string file;
    int repeat = 3;
    app.add_option("file", file, "Zeek conn.log, JSON lines or CSV")->required()->check(CLI::ExistingFile);
    app.add_option("--repeat", repeat, "Runs; the fastest is reported");
    CLI11_PARSE(app, argc, argv);
    double best = 1e18;
    uint64_t rows = 0;
    size_t edges = 0;
    for (int i = 0; i < repeat; ++i) {
        wardgate::Aggregator agg;
        auto t0 = std::chrono::steady_clock::now();
        auto summary = wardgate::read_flow_file(file, agg);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::min(best, s);
        rows = summary.rows;
        edges = agg.size();
    }
    fmt::print("{} rows {} edges {:.3f} s {:.0f} rows/s\n", rows, edges, best, double(rows) / best);
}
