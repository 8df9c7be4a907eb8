// Readiness to enforce: days observed, what enforcement would block, declared flows unseen.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/pipeline_fixture.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const nlohmann::json& readiness_of(const nlohmann::json& j, const std::string& name) {
    for (const auto& d : j["devices"])
        if (d["device"] == name) return d;
    FAIL("no device " << name);
    static nlohmann::json none;
    return none;
}

}  // namespace

TEST_CASE("readiness: a week of declared traffic is ready, while silence, blocks and unseen declarations are not", "[readiness]") {
    auto files = small_site_files();
    // ct-01 stores to the PACS on seven days, and does nothing else.
    std::string log = files["flows/conn.log"];
    log = log.substr(0, log.find("1763683200"));  // the header only
    for (int day = 0; day < 7; ++day)
        log += fmt::format("{}.000000\tR{}\t10.120.0.11\t4000{}\t10.50.0.10\t104\ttcp\tdicom\t9.0\t90000\t100\tSF\n",
                           1763683800 + day * 86400, day, day);
    // pump-01 is reached by ws-01 on tcp/8080 once: end of support, so its stance blocks it.
    log += "1763683900.000000\tP1\t10.200.0.31\t40100\t10.110.0.21\t8080\ttcp\t-\t1.0\t10\t10\tSF\n";
    files["flows/conn.log"] = log;
    TempSite site(files, false);
    auto r = run_wardgate("readiness " + site.dir().string() + " --today 2026-11-22 --format json");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);  // not all ready
    const auto j = nlohmann::json::parse(r.out);
    const auto& ct = readiness_of(j, "ct-01");
    CHECK(ct["days_observed"] == 7);
    CHECK(ct["would_block"] == 0);
    CHECK(ct["declared_unseen"] == 0);
    CHECK(ct["ready"] == true);
    CHECK(ct["verdict"] == "ready to enforce: 7 days observed, 0 flows enforcement would block, 0 declared flows unseen");
    // pump-03 was never seen: its two required declarations (drug library, time) never were either.
    const auto& p3 = readiness_of(j, "pump-03");
    CHECK(p3["days_observed"] == 0);
    CHECK(p3["last_seen"].is_null());
    CHECK(p3["verdict"] == "not ready: 0 days observed (needs 7), 2 declared flows never seen");
    const auto& p1 = readiness_of(j, "pump-01");
    CHECK(p1["would_block"] == 1);
    CHECK(p1["verdict"] == "not ready: 1 day observed (needs 7), 1 observed flow enforcement would block, 2 declared "
                           "flows never seen");
    // By segment: radiology (ct-01 alone) is ready, the ICU is not.
    bool radiology = false;
    for (const auto& s : j["segments"])
        if (s["name"] == "radiology") {
            CHECK(s["ready"] == 1);
            CHECK(s["devices"] == 1);
            radiology = true;
        }
    CHECK(radiology);
    auto text = run_wardgate("readiness " + site.dir().string() + " --today 2026-11-22");
    CHECK_THAT(text.out, Catch::Contains("  radiology              1 of 1 ready: ready to enforce\n"));
    CHECK_THAT(text.out, Catch::Contains("  infusion-pump          0 of 3 ready\n"));
    // With a shorter requirement the CT is still ready, and a longer one takes that away.
    auto strict = nlohmann::json::parse(run_wardgate("readiness " + site.dir().string() + " --today 2026-11-22 --days 8 --format json").out);
    CHECK(readiness_of(strict, "ct-01")["ready"] == false);
}
