// The service's scorecard, computed beside the event loop: only the latest site's is reported.
#include <catch2/catch.hpp>

#include <poll.h>

#include <future>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "../src/service/background_job.hpp"
#include "../src/service/background_scorer.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/test_paths.hpp"

using namespace wardgate;
using wardgate::service::detail::BackgroundScorer;

namespace {

std::vector<std::tuple<std::string, double, size_t>> values(const std::vector<Kpi>& kpis) {
    std::vector<std::tuple<std::string, double, size_t>> out;
    for (const auto& k : kpis) out.emplace_back(k.key, k.value, k.of.value_or(0));
    return out;
}

// Waits for the scorer's descriptor, then takes what it has.
std::optional<std::vector<Kpi>> next_result(BackgroundScorer& scorer) {
    pollfd fd{scorer.fd(), POLLIN, 0};
    REQUIRE(poll(&fd, 1, 30000) == 1);
    return scorer.take();
}

}  // namespace

TEST_CASE("the background scorecard reports the latest site submitted, once", "[service][scorecard]") {
    auto early = std::make_shared<const Pipeline>(testing::pipeline_for(testing::kExampleSite, "2026-11-22"));
    // Years later every device has reached its end of support: another scorecard.
    auto late = std::make_shared<const Pipeline>(testing::pipeline_for(testing::kExampleSite, "2040-01-01"));
    const auto early_kpis = values(compute_scorecard(*early->book, early->edges, early->today).kpis);
    const auto late_kpis = values(compute_scorecard(*late->book, late->edges, late->today).kpis);
    REQUIRE(early_kpis != late_kpis);

    BackgroundScorer scorer;
    SECTION("one site") {
        scorer.submit(early);
        auto kpis = next_result(scorer);
        REQUIRE(kpis);
        CHECK(values(*kpis) == early_kpis);
        // Nothing more to report.
        pollfd fd{scorer.fd(), POLLIN, 0};
        CHECK(poll(&fd, 1, 0) == 0);
        CHECK_FALSE(scorer.take());
    }
    SECTION("a site submitted while another is scored replaces it") {
        scorer.submit(early);
        scorer.submit(early);
        scorer.submit(late);
        std::optional<std::vector<Kpi>> kpis;
        for (int i = 0; i < 3 && !kpis; ++i) kpis = next_result(scorer);
        REQUIRE(kpis);
        CHECK(values(*kpis) == late_kpis);
        CHECK_FALSE(scorer.take());
    }
}

TEST_CASE("a background job answers once through its descriptor, with its result or what it threw", "[service]") {
    using wardgate::service::detail::BackgroundJob;
    BackgroundJob<int> job;
    auto wait = [&] {
        pollfd fd{job.fd(), POLLIN, 0};
        return poll(&fd, 1, 30000);
    };
    CHECK(!job.busy());
    CHECK(!job.take());  // nothing started: nothing to take
    std::promise<void> go;
    auto gate = go.get_future().share();
    job.start([gate] {
        gate.wait();
        return 42;
    });
    CHECK(job.busy());
    pollfd early{job.fd(), POLLIN, 0};
    CHECK(poll(&early, 1, 0) == 0);  // not readable while the job runs
    go.set_value();
    REQUIRE(wait() == 1);
    CHECK(job.take() == 42);
    CHECK(!job.busy());
    CHECK(!job.take());  // taken once

    job.start([]() -> int { throw std::runtime_error("netlink reply: Operation not permitted"); });
    REQUIRE(wait() == 1);
    CHECK_THROWS_WITH(job.take(), "netlink reply: Operation not permitted");
    CHECK(!job.busy());
}
