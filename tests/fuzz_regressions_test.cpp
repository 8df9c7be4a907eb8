// Inputs the fuzz targets (fuzz/) once crashed on, kept under tests/data/fuzz-regressions/<target>/
// and fed through the same entry points: each must end in a clean result or a located InputError.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../src/service/status_socket.hpp"
#include "support/netflow_packets.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/netflow.hpp"
#include "wardgate/flows/pcap.hpp"
#include "wardgate/flows/readers.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/site/mud.hpp"

using namespace wardgate;
using wardgate::testing::kSourceDir;
using wardgate::testing::read_text;
namespace fs = std::filesystem;

namespace {

const fs::path kRegressions = fs::path(kSourceDir) / "tests/data/fuzz-regressions";

std::vector<fs::path> inputs_of(const std::string& target) {
    std::vector<fs::path> out;
    if (!fs::is_directory(kRegressions / target)) return out;
    for (const auto& e : fs::directory_iterator(kRegressions / target))
        if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// The error must say where: every diagnostic names a file and says what is wrong.
void check_located(const InputError& e, const std::string& file) {
    REQUIRE_FALSE(e.diagnostics().empty());
    for (const auto& d : e.diagnostics()) {
        INFO(d.to_string());
        CHECK_FALSE(d.file.empty());
        CHECK_FALSE(d.message.empty());
        if (!file.empty()) CHECK(fs::path(d.file).filename() == fs::path(file).filename());
    }
}

// tests/data/fuzz-site with one file replaced, as the site-file fuzz targets build it.
std::map<std::string, std::string> fuzz_site_with(const std::string& relative, const std::string& content) {
    std::map<std::string, std::string> files;
    const fs::path base = fs::path(kSourceDir) / "tests/data/fuzz-site";
    for (const auto& e : fs::recursive_directory_iterator(base))
        if (e.is_regular_file()) files[fs::relative(e.path(), base).string()] = read_text(e.path());
    files[relative] = content;
    return files;
}

const std::map<std::string, std::string> kSiteTargets = {
    {"site-toml", "site.toml"},       {"devices-toml", "devices.toml"},
    {"assets-csv", "assets.csv"},     {"profile-toml", "profiles/acme-p1.toml"},
    {"policy-toml", "policy.toml"},
};

}  // namespace

TEST_CASE("the site the site-file fuzz targets start from is valid", "[fuzz]") {
    testing::TempSite site(fuzz_site_with("site.toml", read_text(fs::path(kSourceDir) / "tests/data/fuzz-site/site.toml")), false);
    Site s = load_site(site.dir());
    CHECK(s.find_device("pump-01"));
    CHECK(s.find_device("pump-02"));  // from assets.csv
}

TEST_CASE("site files that crashed the fuzz targets are reported as input errors", "[fuzz][site]") {
    for (const auto& [target, relative] : kSiteTargets) {
        for (const auto& input : inputs_of(target)) {
            INFO(target << ": " << input.filename().string());
            testing::TempSite site(fuzz_site_with(relative, read_text(input)), false);
            try {
                (void)load_site(site.dir());
            } catch (const InputError& e) {
                check_located(e, "");
            }
        }
    }
}

namespace {

// Some inputs must end in one particular error, not just any located one.
struct ExpectedError {
    std::string target, input;  // tests/data/fuzz-regressions/<target>/<input>
    std::string file;           // as the diagnostic names it
    int line;
    std::string field, message;  // message: a substring
};

const std::vector<ExpectedError> kExpectedSiteErrors = {
    // toml++ converts a float to int64 before any range check: undefined beyond int64's range.
    {"site-toml", "vlan-float-overflow.toml", "site.toml", 10, "segment.vlan", "expected an integer, got a float"},
    {"policy-toml", "port-float-overflow.toml", "policy.toml", 7, "approval.ports", "expected an integer, got a float"},
    {"profile-toml", "port-float-overflow.toml", "acme-p1.toml", 9, "flow.ports", "expected an integer, got a float"},
};

// Times and durations past 9999-12-31: printing one converts it to an integer, which would overflow.
const std::vector<ExpectedError> kExpectedFlowErrors = {
    {"zeek-json", "time-beyond-year-9999.json", "conn.json", 2, "ts", "expected a timestamp"},
    {"zeek-json", "duration-beyond-year-9999.json", "conn.json", 1, "duration", "expected a duration in seconds"},
    {"zeek-tsv", "time-beyond-year-9999.log", "conn.log", 5, "ts", "expected a timestamp"},
    {"flow-csv", "duration-beyond-year-9999.csv", "flows.csv", 3, "duration", "expected a duration in seconds"},
};

using FlowReader = ReadSummary (*)(const fs::path&, Aggregator&, const ProgressCallback&);

// The file name each flow reader is given, as in the fuzz targets.
const std::map<std::string, std::pair<std::string, FlowReader>> kFlowReaders = {
    {"zeek-tsv", {"conn.log", &read_zeek_tsv}},
    {"zeek-json", {"conn.json", &read_zeek_json}},
    {"flow-csv", {"flows.csv", &read_flow_csv}},
};

}  // namespace

TEST_CASE("site files that crashed the fuzz targets give the error they should", "[fuzz][site]") {
    for (const auto& want : kExpectedSiteErrors) {
        INFO(want.target << ": " << want.input);
        const fs::path input = kRegressions / want.target / want.input;
        REQUIRE(fs::is_regular_file(input));
        testing::TempSite site(fuzz_site_with(kSiteTargets.at(want.target), read_text(input)), false);
        try {
            (void)load_site(site.dir());
            FAIL("expected an InputError");
        } catch (const InputError& e) {
            auto it = std::find_if(e.diagnostics().begin(), e.diagnostics().end(), [&](const Diagnostic& d) {
                return d.message.find(want.message) != std::string::npos;
            });
            REQUIRE(it != e.diagnostics().end());
            INFO(it->to_string());
            CHECK(fs::path(it->file).filename() == want.file);
            CHECK(it->line == want.line);
            CHECK(it->field == want.field);
        }
    }
}

TEST_CASE("flow logs that crashed the fuzz targets are reported as input errors", "[fuzz][flows]") {
    testing::TempDir dir("fuzz-regressions");
    for (const auto& [target, reader] : kFlowReaders) {
        for (const auto& input : inputs_of(target)) {
            INFO(target << ": " << input.filename().string());
            auto file = dir.write(reader.first, read_text(input));
            Aggregator out;
            try {
                auto summary = reader.second(file, out, {});
                CHECK(summary.accepted <= summary.rows);
            } catch (const InputError& e) {
                check_located(e, reader.first);
            }
        }
    }
}

TEST_CASE("flow logs that the fuzz targets found unprintable give the error they should", "[fuzz][flows]") {
    testing::TempDir dir("fuzz-regressions");
    for (const auto& want : kExpectedFlowErrors) {
        INFO(want.target << ": " << want.input);
        const fs::path input = kRegressions / want.target / want.input;
        REQUIRE(fs::is_regular_file(input));
        const auto& [name, reader] = kFlowReaders.at(want.target);
        auto file = dir.write(name, read_text(input));
        Aggregator out;
        try {
            (void)reader(file, out, {});
            FAIL("expected an InputError");
        } catch (const InputError& e) {
            REQUIRE(e.diagnostics().size() == 1);
            const Diagnostic& d = e.diagnostics().front();
            INFO(d.to_string());
            CHECK(fs::path(d.file).filename() == want.file);
            CHECK(d.line == want.line);
            CHECK(d.field == want.field);
            CHECK_THAT(d.message, Catch::Contains(want.message));
        }
    }
}

TEST_CASE("captures that crashed the fuzz target are read up to the damage", "[fuzz][pcap]") {
    testing::TempDir dir("fuzz-regressions");
    for (const auto& input : inputs_of("pcap")) {
        INFO(input.filename().string());
        auto file = dir.write("capture.pcap", read_text(input));
        PcapOptions options;
        options.max_flows = 8;
        try {
            uint64_t flows = 0;
            auto summary = read_pcap(file, [&](const PcapFlow&) { ++flows; }, {}, options);
            CHECK(summary.read.accepted == flows);
        } catch (const InputError& e) {
            check_located(e, "capture.pcap");
        }
    }
}

TEST_CASE("MUD files that crashed the fuzz target give diagnostics", "[fuzz][mud]") {
    for (const auto& input : inputs_of("mud")) {
        INFO(input.filename().string());
        Diagnostics diags;
        auto mud = parse_mud(read_text(input), "device.json", diags);
        if (mud) {
            MudTranslateOptions options;
            options.file = "device.json";
            (void)translate_mud(*mud, options, diags);
        } else {
            CHECK_FALSE(diags.empty());
        }
        for (const auto& d : diags.items()) CHECK(d.file == "device.json");
    }
}

TEST_CASE("status requests that crashed the fuzz target get one line of JSON", "[fuzz][service]") {
    using namespace wardgate::service::detail;
    auto answer = [](const nlohmann::json& request) {
        return answer_request(request, [] { return nlohmann::json{{"state", "enforcing"}}; });
    };
    SECTION("bytes that are not UTF-8 are quoted in the error, not thrown") {
        std::string reply = reply_to("{\"request\":\xff\xfe}\n", answer);
        REQUIRE(reply.back() == '\n');
        auto j = nlohmann::json::parse(reply);
        CHECK(j.contains("error"));
    }
    SECTION("a request that is not an object is an error, not a type error") {
        for (const char* request : {"[1,2]", "\"status\"", "7", "null", "{\"request\":7}"}) {
            auto j = nlohmann::json::parse(reply_to(request, answer));
            INFO(request);
            CHECK(j.contains("error"));
        }
        CHECK(nlohmann::json::parse(reply_to("{\"request\":\"status\"}\n", answer))["state"] == "enforcing");
    }
    for (const auto& input : inputs_of("status-request")) {
        INFO(input.filename().string());
        std::string reply = reply_to(read_text(input), answer);
        REQUIRE_FALSE(reply.empty());
        CHECK(reply.find('\n') == reply.size() - 1);
        CHECK_FALSE(nlohmann::json::parse(reply, nullptr, false).is_discarded());
    }
}

TEST_CASE("NetFlow datagrams that crashed the fuzz target are counted as malformed", "[fuzz][netflow]") {
    for (const auto& input : inputs_of("netflow")) {
        INFO(input.filename().string());
        std::string bytes = read_text(input);
        if (bytes.empty()) continue;
        netflow::Decoder decoder;
        netflow::Exporter exporter;
        exporter.address = *IpAddress::parse((bytes[0] & 1) ? "2001:db8::1" : "192.0.2.1");
        // Same framing as fuzz/netflow_fuzz.cpp: datagrams, each after a 2-byte big-endian length.
        const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
        size_t at = 1, datagrams = 0;
        while (at + 2 <= bytes.size()) {
            size_t length = (size_t{data[at]} << 8) | data[at + 1];
            at += 2;
            length = std::min(length, bytes.size() - at);
            (void)decoder.decode(exporter, data + at, length);
            at += length;
            ++datagrams;
        }
        CHECK(decoder.counters().packets == datagrams);
    }
}

TEST_CASE("NetFlow times no date can hold fall back to the export time", "[fuzz][netflow]") {
    // flowStartSeconds and flowEndSeconds are 64 bits: 2^64-1 seconds is far past the year 9999.
    using wardgate::testing::Message;
    Message m(10, 1, 1, 1700000000);
    m.begin_set(2).template_record(256, {{8, 4}, {12, 4}, {4, 1}, {7, 2}, {11, 2}, {150, 8}, {151, 8}}).end_set();
    m.begin_set(256);
    m.p.ip4("10.0.0.1").ip4("10.0.0.2").u8(6).u16(40000).u16(443).u64(~uint64_t{0}).u64(uint64_t{1} << 62);
    m.end_set();
    auto datagram = m.finish();
    netflow::Decoder decoder;
    netflow::Exporter exporter{*IpAddress::parse("192.0.2.1"), 4739};
    auto records = decoder.decode(exporter, datagram.data(), datagram.size());
    REQUIRE(records.size() == 1);
    CHECK(records[0].start == 1700000000.0);
    CHECK(records[0].end == 1700000000.0);
    CHECK(records[0].flow.duration == 0.0);
}
