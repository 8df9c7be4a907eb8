// wardgate graph: edges coloured by why they exist (checked against explain), a legend,
// devices with identical needs grouped, one device's or segment's neighbourhood, and SVG
// laid out by Graphviz's library.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"

using namespace wardgate::testing;

namespace {

struct DotEdge {
    std::string from, to, label, style;
};

std::vector<DotEdge> dot_edges(const std::string& dot) {
    static const std::regex line(R"re(^  "([^"]+)" -> "([^"]+)" \[label="([^"]*)", (.*)\];$)re");
    std::vector<DotEdge> out;
    std::istringstream in(dot);
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (!std::regex_match(l, m, line)) continue;
        // One label line per service ("tcp/21 x1\ntcp/22 x1"): one DotEdge each.
        const std::string label = m[3];
        for (size_t at = 0; at <= label.size();) {
            size_t next = label.find("\\n", at);
            if (next == std::string::npos) next = label.size();
            out.push_back({m[1], m[2], label.substr(at, next - at), m[4]});
            at = next + 2;
        }
    }
    return out;
}

const std::string kGraph = "graph " + kExampleSite + " --today 2026-11-22";

}  // namespace

TEST_CASE("graph: each edge's colour says what the policy does with it, as explain does", "[graph][cli]") {
    auto r = run_wardgate(kGraph + " --no-group");
    REQUIRE(r.exit_code == 0);
    auto edges = dot_edges(r.out);
    REQUIRE(edges.size() > 50);
    std::set<std::string> devices;  // drawn as boxes
    const std::regex box(R"re(^    "([^"]+)" \[label="[^"]*", shape=box\];$)re");
    std::istringstream nodes(r.out);
    for (std::string l; std::getline(nodes, l);) {
        std::smatch m;
        if (std::regex_match(l, m, box)) devices.insert(m[1]);
    }
    REQUIRE(devices.size() > 20);
    std::map<std::string, int> compared;
    for (const auto& e : edges) {
        if (e.style.starts_with("style=dashed")) continue;  // declared, never seen: no traffic to judge
        if (!devices.contains(e.from) || !devices.contains(e.to)) continue;
        const std::string service = e.label.substr(0, e.label.find(' '));
        auto x = run_wardgate("explain " + kExampleSite + " --today 2026-11-22 " + e.from + " " + e.to + " " + service);
        INFO(e.from << " -> " << e.to << " " << service << " [" << e.style << "]\n" << x.out);
        if (e.style == "color=red, penwidth=2") {
            CHECK(x.exit_code == 2);
            ++compared["blocked"];
        } else {
            CHECK(x.exit_code == 0);
            if (e.style == "color=darkgreen") CHECK(x.out.find("baseline") != std::string::npos);
            ++compared[e.style];
        }
    }
    CHECK(compared["blocked"] > 0);
    CHECK(compared["color=black"] + compared["color=blue"] + compared["color=darkgreen"] > 0);
}

TEST_CASE("graph: DOT a person can read: line breaks, a legend, grouped devices", "[graph][cli]") {
    auto grouped = run_wardgate(kGraph);
    auto every = run_wardgate(kGraph + " --no-group");
    REQUIRE(grouped.exit_code == 0);
    REQUIRE(every.exit_code == 0);
    SECTION("labels break lines with DOT's escape, never a literal backslash-n") {
        CHECK(grouped.out.find("\\\\n") == std::string::npos);
        CHECK(every.out.find("\"pump-icu-01\\ninfusion-pump, end-of-support\"") != std::string::npos);
    }
    SECTION("a legend explains each colour the graph uses, and only those") {
        CHECK(grouped.out.find("subgraph \"cluster_legend\"") != std::string::npos);
        CHECK(grouped.out.find("[label=\"seen, and the policy blocks it\", color=red, penwidth=2];") != std::string::npos);
        CHECK(grouped.out.find("[label=\"kept as observed behaviour (baseline)\", color=darkgreen];") != std::string::npos);
        CHECK(grouped.out.find("[label=\"declared, never seen\", style=dashed, color=gray];") != std::string::npos);
        CHECK(grouped.out.find("seen, nothing declares it") == std::string::npos);  // every seen edge is judged
    }
    SECTION("devices with identical needs are one node; their edges one edge with the counts summed") {
        std::smatch m;
        const std::regex group(R"re("(pump-icu-\d\d) \+(\d+)" \[label="(\d+) devices, infusion-pump, support\\n([^"]*)")re");
        REQUIRE(std::regex_search(grouped.out, m, group));
        const std::string node = m[1].str() + " +" + m[2].str();
        const int members = std::stoi(m[3]);
        CHECK(members == std::stoi(m[2]) + 1);
        std::vector<std::string> names;
        std::string list = std::regex_replace(m[4].str(), std::regex(R"(\\n|,)"), " ");
        std::istringstream in(list);
        for (std::string n; in >> n;)
            if (n.starts_with("pump-")) names.push_back(n);
        REQUIRE(names.size() == static_cast<size_t>(members));
        // Each member's own edges, in the full graph, sum to the group's edge.
        std::map<std::string, uint64_t> summed;
        for (const auto& e : dot_edges(every.out))
            for (const auto& n : names)
                if (e.from == n) {
                    const auto space = e.label.find(" x");
                    summed[e.to + " " + e.label.substr(0, space)] += space == std::string::npos ? 0 : std::stoull(e.label.substr(space + 2));
                }
        int checked = 0;
        for (const auto& e : dot_edges(grouped.out)) {
            if (e.from != node || e.to.find(" +") != std::string::npos) continue;  // to another group: other names
            const auto space = e.label.find(" x");
            const std::string key = e.to + " " + e.label.substr(0, space);
            REQUIRE(summed.contains(key));
            if (space != std::string::npos) CHECK(std::stoull(e.label.substr(space + 2)) == summed[key]);
            ++checked;
        }
        CHECK(checked > 0);
        for (const auto& e : dot_edges(grouped.out)) CHECK(e.from != names.back());  // no member drawn on its own
        CHECK(dot_edges(grouped.out).size() < dot_edges(every.out).size());
    }
}

TEST_CASE("graph: one device's or one segment's neighbourhood", "[graph][cli]") {
    auto device = run_wardgate(kGraph + " --device pump-icu-01");
    REQUIRE(device.exit_code == 0);
    auto edges = dot_edges(device.out);
    REQUIRE(!edges.empty());
    for (const auto& e : edges) CHECK((e.from == "pump-icu-01" || e.to == "pump-icu-01"));
    CHECK(device.out.find("label=\"St. Example General Hospital: pump-icu-01\"") != std::string::npos);

    auto segment = run_wardgate(kGraph + " --segment lab --no-group");
    REQUIRE(segment.exit_code == 0);
    for (const auto& e : dot_edges(segment.out))
        CHECK((e.from.starts_with("lab-") || e.to.starts_with("lab-") || e.from == "10.130.0.200"));

    auto unknown = run_wardgate(kGraph + " --device pump-99");
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("--device: no device \"pump-99\" in the site") != std::string::npos);
}

TEST_CASE("graph: SVG from Graphviz's library, well-formed, naming the devices", "[graph][cli]") {
    TempDir dir("graph-svg");
    const auto file = dir.path / "site.svg";
    auto r = run_wardgate(kGraph + " --format svg -o " + file.string());
    REQUIRE(r.exit_code == 0);
    const std::string svg = read_text(file);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find(">pump&#45;icu&#45;01, ") != std::string::npos);  // Graphviz writes '-' as a character reference
    CHECK(svg.find(">segment icu</text>") != std::string::npos);
    CHECK(svg.find(">legend</text>") != std::string::npos);
    CHECK(std::system(("python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' " + file.string()).c_str()) == 0);
    // Same inputs, same drawing.
    auto again = run_wardgate(kGraph + " --format svg");
    CHECK(again.out == svg);
}

TEST_CASE("graph: the README's example is what the command prints", "[graph][cli]") {
    const std::string readme = read_text(kSourceDir + "/README.md");
    const std::string marker = "$ build/wardgate graph policies/example-hospital --device pump-icu-01\n";
    auto at = readme.find(marker);
    REQUIRE(at != std::string::npos);
    at += marker.size();
    const std::string block = readme.substr(at, readme.find("$ ", at) - at);
    auto r = run_wardgate("graph " + kExampleSite + " --device pump-icu-01");
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(block);
    int compared = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line == "...") continue;
        INFO(line);
        CHECK(r.out.find(line + "\n") != std::string::npos);
        ++compared;
    }
    CHECK(compared >= 7);
}

TEST_CASE("graph and plan say what a flow carried", "[graph][plan][dissect]") {
    auto graph = run_wardgate(kGraph);
    REQUIRE(graph.exit_code == 0);
    CHECK(graph.out.find("\"pump-icu-11\" -> \"10.50.0.80\" [label=\"tcp/8080 x6 (http)\", color=red, penwidth=2];") !=
          std::string::npos);
    auto plan = run_wardgate("plan " + kExampleSite + " --today 2026-11-22");
    CHECK(plan.out.find("pump-icu-11 (10.110.0.31) -> 10.50.0.80 (10.50.0.80) tcp/8080 (http)  6 conn") != std::string::npos);
    auto json = run_wardgate("plan " + kExampleSite + " --today 2026-11-22 --format json");
    bool found = false;
    const auto parsed = nlohmann::json::parse(json.out);
    for (const auto& device : parsed["impact"])
        for (const auto& f : device["flows"])
            if (f["responder_ip"] == "10.50.0.80" && f["service"] == "tcp/8080") {
                CHECK(f["applications"] == nlohmann::json::array({"http"}));
                found = true;
            }
    CHECK(found);
}
