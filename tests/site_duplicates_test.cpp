// A hundred thousand devices are checked for repeated names, addresses and MACs by sorting and
// by a flat name table, not by maps: the checks must report exactly what a plain map reports,
// each later claim against the first, in the inventory's order.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <random>

#include "support/temp_site.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/name_index.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/site/site_names.hpp"

using namespace wardgate;
using namespace wardgate::testing;

TEST_CASE("the name index finds what a map finds, the first of equal names", "[site][names]") {
    std::mt19937 rng(20261206);
    std::vector<std::string> names;
    for (int i = 0; i < 20000; ++i) names.push_back(fmt::format("dev-{}", rng() % 12000));
    names.push_back("");
    names.push_back("");
    NameIndex index;  // grows from nothing
    std::map<std::string, uint32_t> first;
    for (uint32_t i = 0; i < names.size(); ++i) {
        auto [it, fresh] = first.emplace(names[i], i);
        auto earlier = index.insert(names[i], i);
        REQUIRE(earlier.has_value() == !fresh);
        if (earlier) REQUIRE(*earlier == it->second);
    }
    CHECK(index.size() == first.size());
    for (const auto& [name, at] : first) REQUIRE(index.find(name) == std::optional<uint32_t>(at));
    for (int i = 12000; i < 12100; ++i) CHECK_FALSE(index.find(fmt::format("dev-{}", i)));
    CHECK_FALSE(NameIndex().find("dev-1"));
}

TEST_CASE("repeated device names, addresses and MACs are each reported against the first, in inventory order", "[site][names]") {
    std::mt19937 rng(7);
    // A small pool, so that many devices share: scattered IPv4, IPv6, the endpoints' own hosts.
    std::vector<std::string> pool;
    for (int i = 0; i < 900; ++i) pool.push_back(fmt::format("10.{}.{}.{}", 7 + rng() % 3, rng() % 256, 1 + rng() % 250));
    for (int i = 0; i < 100; ++i) pool.push_back(fmt::format("fd00:7::{:x}", 1 + rng() % 400));
    pool.push_back("10.50.0.10");   // endpoint pacs
    pool.push_back("fd00:50::20");  // endpoint drug-library
    struct Generated {
        std::string name, mac;
        std::vector<std::string> addresses;
        int line;
    };
    std::vector<Generated> devices;
    std::string text;
    int line = 1;
    for (int i = 0; i < 3000; ++i) {
        Generated g;
        g.name = rng() % 10 == 0 ? fmt::format("pump-{}", rng() % 3000) : fmt::format("pump-{}", i);
        if (rng() % 2) g.mac = fmt::format("00:0a:f7:00:{:02x}:{:02x}", rng() % 4, rng() % 256);
        for (unsigned n = 1 + rng() % 2; n > 0; --n) g.addresses.push_back(pool[rng() % pool.size()]);
        g.line = line;
        std::string addresses;
        for (const auto& a : g.addresses) addresses += (addresses.empty() ? "\"" : ", \"") + a + "\"";
        text += fmt::format("[[device]]\nname = \"{}\"\naddresses = [{}]\n{}role = \"infusion-pump\"\nvendor = \"Acme\"\n"
                            "model = \"Pump 1\"\nsegment = \"lab\"\nlifecycle = \"support\"\n\n",
                            g.name, addresses, g.mac.empty() ? "" : "mac = \"" + g.mac + "\"\n");
        line += g.mac.empty() ? 9 : 10;
        devices.push_back(std::move(g));
    }

    // What a map from each value to its first holder says, in the order the checks run.
    std::vector<std::string> expected;
    std::map<std::string, size_t> first_name;
    for (size_t i = 0; i < devices.size(); ++i)
        if (auto [it, fresh] = first_name.emplace(devices[i].name, i); !fresh)
            expected.push_back(fmt::format("{} device.name: duplicate device name \"{}\" (first defined at devices.toml:{})",
                                           devices[i].line, devices[i].name, devices[it->second].line));
    std::map<std::string, size_t> first_address;
    for (size_t i = 0; i < devices.size(); ++i)
        for (const auto& a : devices[i].addresses) {
            auto [it, fresh] = first_address.emplace(a, i);
            if (!fresh && it->second != i)
                expected.push_back(fmt::format("{} device.addresses: {} of device \"{}\" is already the address of device \"{}\"",
                                               devices[i].line, a, devices[i].name, devices[it->second].name));
        }
    std::map<std::string, size_t> first_mac;
    for (size_t i = 0; i < devices.size(); ++i) {
        if (devices[i].mac.empty()) continue;
        if (auto [it, fresh] = first_mac.emplace(devices[i].mac, i); !fresh)
            expected.push_back(fmt::format("{} device.mac: MAC {} of device \"{}\" is already the MAC of device \"{}\"",
                                           devices[i].line, devices[i].mac, devices[i].name, devices[it->second].name));
    }
    for (const auto& [endpoint, host] : {std::pair{"pacs", "10.50.0.10"}, std::pair{"drug-library", "fd00:50::20"}})
        if (auto it = first_address.find(host); it != first_address.end())
            expected.push_back(fmt::format("endpoint.addresses: {} of endpoint \"{}\" is the address of device \"{}\"", host,
                                           endpoint, devices[it->second].name));
    REQUIRE(first_address.count("10.50.0.10"));
    REQUIRE(first_address.count("fd00:50::20"));

    auto files = small_site_files();
    files["site.toml"] += "\n[[segment]]\nname = \"lab\"\nkind = \"devices\"\nipv4 = [\"10.7.0.0/16\", \"10.8.0.0/15\"]\n"
                          "ipv6 = [\"fd00:7::/64\"]\n";
    files["devices.toml"] = text;
    TempSite site(files);
    std::vector<std::string> got;
    try {
        load_site(site.dir());
        FAIL("the repeated values were accepted");
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) {
            if (d.field == "endpoint.addresses" && d.message.find("is the address of device") != std::string::npos)
                got.push_back(d.field + ": " + d.message);
            else if (d.field == "device.name" || d.field == "device.mac" ||
                     (d.field == "device.addresses" && d.message.find("is already the address") != std::string::npos))
                got.push_back(fmt::format("{} {}: {}", d.line, d.field, d.message));
        }
    }
    CHECK(expected.size() > 500);
    for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i) REQUIRE(got[i] == expected[i]);
    CHECK(got.size() == expected.size());
}
