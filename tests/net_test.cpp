#include <catch2/catch.hpp>

#include "wardgate/core/net.hpp"

using namespace wardgate;

TEST_CASE("prefixes parse, reject host bits and contain addresses") {
    auto p = Prefix::parse("10.20.0.0/24");
    REQUIRE(p);
    CHECK(p->contains(*IpAddress::parse("10.20.0.77")));
    CHECK_FALSE(p->contains(*IpAddress::parse("10.20.1.1")));
    CHECK_FALSE(Prefix::parse("10.20.0.1/24"));
    CHECK_FALSE(Prefix::parse("10.20.0.0/33"));
    CHECK_FALSE(Prefix::parse("300.1.1.1"));
    auto v6 = Prefix::parse("fd00:20::/64");
    REQUIRE(v6);
    CHECK(v6->contains(*IpAddress::parse("fd00:20::5")));
    CHECK_FALSE(v6->contains(*IpAddress::parse("10.20.0.5")));
    CHECK(Prefix::parse("fd00::1")->is_host());
}

TEST_CASE("contiguous prefixes collapse into the fewest covering them") {
    std::vector<Prefix> ps;
    for (int i = 0; i < 4; ++i) ps.push_back(*Prefix::parse("10.0.0." + std::to_string(i)));
    ps.push_back(*Prefix::parse("10.0.0.9"));
    auto out = collapse_prefixes(ps);
    REQUIRE(out.size() == 2);
    CHECK(out[0].to_string() == "10.0.0.0/30");
    CHECK(out[1].to_string() == "10.0.0.9");
}

TEST_CASE("ports reject out of range values and merge adjacent ranges") {
    CHECK_FALSE(PortRange::parse("70000"));
    CHECK_FALSE(PortRange::parse("10-5"));
    CHECK_FALSE(PortRange::parse("abc"));
    CHECK(PortRange::parse("8000-8080")->to_string() == "8000-8080");
    auto merged = normalize_ports({*PortRange::parse("443"), *PortRange::parse("444-450"), *PortRange::parse("80")});
    REQUIRE(merged.size() == 2);
    CHECK(merged[1].to_string() == "443-450");
}
