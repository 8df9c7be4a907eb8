// The HTML report in a real browser: headless Chromium (Debian's) loads the page, its DOM
// holds what `risk` and `scorecard` print as JSON, it takes a screenshot, and it logs nothing.
#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <regex>
#include <set>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

struct BrowserRun {
    int status = -1;
    std::string out, err;
};

// Chromium with a profile of its own in `dir`; what it prints goes to files there.
BrowserRun chromium(const TempDir& dir, const std::string& args) {
    const auto out = dir.path / "chromium.out", err = dir.path / "chromium.err";
    std::string cmd = "timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars "
                      "--no-first-run --disable-extensions --enable-logging=stderr --v=0 --user-data-dir=" +
                      (dir.path / "profile").string() + " " + args + " >" + out.string() + " 2>" + err.string();
    BrowserRun r;
    r.status = std::system(cmd.c_str());
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
}

std::vector<std::smatch> all_matches(const std::string& text, const std::regex& re) {
    std::vector<std::smatch> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) out.push_back(*it);
    return out;
}

}  // namespace

TEST_CASE("report: one self-contained page whose DOM in a real browser matches risk and scorecard", "[report][browser]") {
    TempDir dir("report");
    const std::string site = kExampleSite + " --today 2026-11-22";
    const auto page = dir.path / "report.html";
    auto made = run_wardgate("report " + site + " -o " + page.string());
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    const std::string html = read_text(page);
    CHECK(html.size() < 2 * 1024 * 1024);
    // Nothing outside the file: no scripts, style sheets, images or frames to fetch.
    CHECK_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*"(https?:|//|file:))", std::regex::icase)));
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<svg") != std::string::npos);  // the graph, inline

    auto dom = chromium(dir, "--dump-dom file://" + page.string());
    INFO(dom.err);
    REQUIRE(dom.status == 0);
    REQUIRE(dom.out.find("<h1>St. Example General Hospital</h1>") != std::string::npos);
    // The browser logged no console message (errors from the page would show as CONSOLE lines).
    CHECK(dom.err.find("CONSOLE") == std::string::npos);

    // The risk ranking: the same devices, in the same order, with the same scores as `risk`.
    const auto risk = nlohmann::json::parse(run_wardgate("risk " + site + " --format json").out);
    auto rows = all_matches(dom.out, std::regex(R"re(<tr class="level-[a-z]+" data-device="([^"]+)" data-score="([0-9]+)">)re"));
    REQUIRE(rows.size() == risk["devices"].size());
    for (size_t i = 0; i < rows.size(); ++i) {
        INFO(i);
        CHECK(rows[i][1] == risk["devices"][i]["device"].get<std::string>());
        CHECK(std::stoi(rows[i][2]) == risk["devices"][i]["score"].get<int>());
    }
    // Every device has its own section, and every link to one lands on it.
    auto sections = all_matches(dom.out, std::regex(R"re(<div class="device" id="([^"]+)" data-device="([^"]+)">)re"));
    CHECK(sections.size() == risk["devices"].size());
    std::set<std::string> ids;
    for (const auto& s : sections) ids.insert(s[1]);
    for (const auto& link : all_matches(dom.out, std::regex(R"re(href="#(device-[^"]+)")re"))) {
        INFO(link[1]);
        CHECK(ids.count(link[1]));
    }
    // The risk matrix counts every device once.
    int counted = 0;
    for (const auto& c : all_matches(dom.out, std::regex(R"re(<div class="count">([0-9]+)</div>)re"))) counted += std::stoi(c[1]);
    CHECK(counted == static_cast<int>(risk["devices"].size()));

    // The scorecard: the same KPIs with the same values as `scorecard`.
    const auto card = nlohmann::json::parse(run_wardgate("scorecard " + site + " --format json").out);
    auto kpis = all_matches(dom.out, std::regex(R"re(<tr data-kpi="([a-z0-9_]+)"><td>[^<]*</td><td class="num value">([^<]+)</td>)re"));
    REQUIRE(kpis.size() == card["kpis"].size());
    for (size_t i = 0; i < kpis.size(); ++i) {
        const auto& k = card["kpis"][i];
        CHECK(kpis[i][1] == k["key"].get<std::string>());
        std::string value = kpis[i][2];
        INFO(value);
        CHECK(value.rfind(fmt::format("{}", k["value"].get<double>()), 0) == 0);
    }
    // The calendar: the Carestream DRs reach their end of support on 2027-02-01.
    CHECK(dom.out.find("data-day=\"2027-02-01\"") != std::string::npos);

    // A screenshot: a real PNG of a real page.
    const auto shot = dir.path / "report.png";
    auto s = chromium(dir, "--window-size=1400,2000 --screenshot=" + shot.string() + " file://" + page.string());
    REQUIRE(s.status == 0);
    const std::string png = read_text(shot);
    REQUIRE(png.size() > 50 * 1024);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_CASE("report: the trend of recorded scorecards and the same page for the same inputs", "[report]") {
    TempSite site;
    TempDir dir("report-trend");
    const std::string db = (dir.path / "b.db").string();
    std::ofstream(dir.path / "empty.csv") << "initiator,responder,protocol,port,start\n";
    REQUIRE(run_wardgate("ingest --db " + db + " " + (dir.path / "empty.csv").string()).exit_code == 0);
    const std::string args = site.dir().string() + " --today 2026-11-22 --db " + db;
    auto s = small_site_files()["site.toml"];
    s.insert(s.find('\n', s.find("name = \"icu\"")) + 1, "monitor = true\n");
    site.write("site.toml", s);
    REQUIRE(run_wardgate("scorecard " + args + " --record").exit_code == 0);
    site.write("site.toml", small_site_files()["site.toml"]);
    REQUIRE(run_wardgate("scorecard " + args + " --record").exit_code == 0);
    auto a = run_wardgate("report " + args);
    auto b = run_wardgate("report " + args);
    REQUIRE(a.exit_code == 0);
    CHECK(a.out == b.out);
    CHECK_THAT(a.out, Catch::Contains("2 earlier run(s) recorded in the store"));
    // enforced devices: 40% then 100% recorded, 100% today: a line of three points, "same".
    std::smatch m;
    REQUIRE(std::regex_search(a.out, m, std::regex(R"re(<tr data-kpi="enforced_devices">.*?<polyline [^>]*points="([^"]+)"/>.*?<td class="(same|better|worse)">)re")));
    const std::string points = m[1];
    CHECK(std::count(points.begin(), points.end(), ',') == 3);
    CHECK(m[2] == "same");
    auto bad = run_wardgate("report " + args + " --horizon 0d");
    CHECK(bad.exit_code == 1);
}
