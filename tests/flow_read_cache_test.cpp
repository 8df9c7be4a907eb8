// serve's flow cache: an inventory edit classifies the same observations without reading the
// flow files again, and a file whose contents changed is read again whatever its size and time.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
namespace fs = std::filesystem;

namespace {

std::string ruleset_of(const Pipeline& p) { return nft::print_ruleset(nft::lower_policy(p.policy)); }

size_t established(const Pipeline& p) {
    size_t n = 0;
    for (const auto& c : p.edges) n += c.observed.stats.established;
    return n;
}

// The example site copied to a temporary directory, with pipeline options with and without
// the flow cache.
struct ExampleCopy {
    explicit ExampleCopy(const std::string& name) : tmp(name), site(tmp.path / "site") {
        fs::copy(testing::kExampleSite, site, fs::copy_options::recursive);
        fresh.today = *parse_date("2026-11-22");
        cached = fresh;
        cached.flow_cache = &cache;
    }
    ExampleCopy(const ExampleCopy&) = delete;
    ExampleCopy& operator=(const ExampleCopy&) = delete;
    ExampleCopy(ExampleCopy&&) = delete;
    ExampleCopy& operator=(ExampleCopy&&) = delete;
    ~ExampleCopy() = default;
    std::tuple<const fs::path&, const PipelineOptions&, const PipelineOptions&, FlowReadCache&> parts() {
        return {site, fresh, cached, cache};
    }

    testing::TempDir tmp;
    fs::path site;
    PipelineOptions fresh, cached;
    FlowReadCache cache;
};

}  // namespace

TEST_CASE("the flow cache gives what a fresh read gives and reads a changed file again", "[pipeline][cache]") {
    ExampleCopy example("flow-cache");
    auto [site, fresh, cached, cache] = example.parts();

    const Pipeline reference = run_pipeline(site, fresh);
    REQUIRE(established(reference) > 0);
    run_pipeline(site, cached);  // fills the cache
    REQUIRE(cache.files.size() == 1);
    REQUIRE(cache.edges.size() == reference.edges.size());
    const Pipeline again = run_pipeline(site, cached);
    CHECK(ruleset_of(again) == ruleset_of(reference));
    CHECK(again.edges.size() == reference.edges.size());
    CHECK(again.reads.size() == 1);
    CHECK(again.reads.at(0).summary.rows == reference.reads.at(0).summary.rows);
    CHECK(again.policy.refused.size() == reference.policy.refused.size());

    SECTION("the cache is what the second load used") {
        cache.edges = SharedEdges();
        CHECK(run_pipeline(site, cached).edges.empty());
    }
    SECTION("the same size and modification time with other contents is read again") {
        const fs::path log = site / "flows" / "conn.log";
        const auto when = fs::last_write_time(log);
        const auto size = fs::file_size(log);
        std::string text = testing::read_text(log);
        // Every completed connection becomes one never answered: the same length.
        for (size_t at = text.find("\tSF\t"); at != std::string::npos; at = text.find("\tSF\t", at)) text.replace(at, 4, "\tS0\t");
        std::ofstream(log, std::ios::binary | std::ios::trunc) << text;
        fs::last_write_time(log, when);
        REQUIRE(fs::file_size(log) == size);

        const Pipeline changed = run_pipeline(site, cached);
        const Pipeline changed_fresh = run_pipeline(site, fresh);
        CHECK(established(changed) < established(reference));
        CHECK(established(changed) == established(changed_fresh));
        CHECK(ruleset_of(changed) == ruleset_of(changed_fresh));
        CHECK(ruleset_of(changed) != ruleset_of(reference));
    }
    SECTION("a flow file gone is reported as it is without the cache") {
        fs::remove(site / "flows" / "conn.log");
        CHECK_THROWS_AS(run_pipeline(site, cached), InputError);
    }
}

TEST_CASE("a flow file left untouched is not hashed again, and any write to it is seen", "[pipeline][cache]") {
    ExampleCopy example("flow-cache-stat");
    auto [site, fresh, cached, cache] = example.parts();

    run_pipeline(site, cached);
    REQUIRE(cache.files.size() == 1);
    const int64_t written_then_hashed = cache.files[0].hashed_ns;
    run_pipeline(site, cached);
    // Hashed within moments of its last write: its time proves nothing yet, so hashed again.
    CHECK(cache.files[0].hashed_ns > written_then_hashed);

    std::this_thread::sleep_for(std::chrono::milliseconds(3200));
    run_pipeline(site, cached);
    const int64_t quiet = cache.files[0].hashed_ns;
    const std::string digest = cache.files[0].sha256;
    const Pipeline reused = run_pipeline(site, cached);
    CHECK(cache.files[0].hashed_ns == quiet);  // stat says untouched: not read to be hashed
    CHECK(cache.files[0].sha256 == digest);
    CHECK(ruleset_of(reused) == ruleset_of(run_pipeline(site, fresh)));

    // Rewritten to the same size with its modification time put back: the change time moves.
    const fs::path log = site / "flows" / "conn.log";
    const auto when = fs::last_write_time(log);
    std::string text = testing::read_text(log);
    for (size_t at = text.find("\tSF\t"); at != std::string::npos; at = text.find("\tSF\t", at)) text.replace(at, 4, "\tS0\t");
    std::ofstream(log, std::ios::binary | std::ios::trunc) << text;
    fs::last_write_time(log, when);
    const Pipeline changed = run_pipeline(site, cached);
    CHECK(cache.files[0].sha256 != digest);
    CHECK(established(changed) < established(reused));
    CHECK(ruleset_of(changed) == ruleset_of(run_pipeline(site, fresh)));
}
