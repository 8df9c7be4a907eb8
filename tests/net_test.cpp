#include <arpa/inet.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

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

TEST_CASE("collapsed prefixes cover exactly the addresses given, in the fewest aligned blocks", "[net]") {
    // Random hosts and prefixes inside 10.0.0.0/22 (and a few IPv6): every address of the range
    // is covered after collapsing exactly when it was before; the result is sorted, disjoint,
    // and holds no two halves of one prefix (so no shorter list covers the same addresses).
    std::mt19937 rng(20261206);
    auto v4 = [&](uint32_t offset, uint8_t length) {
        IpAddress a = *IpAddress::parse("10.0.0.0");
        a.bytes[2] = static_cast<uint8_t>(offset >> 8);
        a.bytes[3] = static_cast<uint8_t>(offset & 0xff);
        Prefix p{a, length};
        const int host_bits = 32 - length;
        uint32_t mask = host_bits >= 32 ? 0 : ~((1u << host_bits) - 1);
        uint32_t net = offset & mask;
        p.address.bytes[2] = static_cast<uint8_t>(net >> 8);
        p.address.bytes[3] = static_cast<uint8_t>(net & 0xff);
        return p;
    };
    for (int round = 0; round < 300; ++round) {
        std::vector<Prefix> in;
        // Some rounds large enough for the IPv4 lists' radix sort.
        const int n = 1 + static_cast<int>(rng() % (round % 10 == 3 ? 6000 : 200));
        for (int i = 0; i < n; ++i) {
            const uint8_t length = static_cast<uint8_t>(rng() % 4 == 0 ? 24 + rng() % 9 : 32);
            in.push_back(v4(rng() % 1024, length));
        }
        if (round % 5 == 0) in.push_back(*Prefix::parse("fd00::" + std::to_string(rng() % 4)));
        auto out = collapse_prefixes(in);
        INFO("round " << round);
        if (round % 5 != 0) {
            // IPv4 only: worked on as numbers. With an IPv6 prefix beside them (sorted last), the
            // list takes the general path: both give the same IPv4 prefixes.
            auto mixed = in;
            mixed.push_back(*Prefix::parse("fd00::/64"));
            auto general = collapse_prefixes(mixed);
            REQUIRE(general.back() == *Prefix::parse("fd00::/64"));
            general.pop_back();
            REQUIRE(out == general);
        }
        REQUIRE(std::is_sorted(out.begin(), out.end()));
        for (uint32_t offset = 0; offset < 1024; ++offset) {
            IpAddress a = v4(offset, 32).address;
            bool before = std::any_of(in.begin(), in.end(), [&](const Prefix& p) { return p.contains(a); });
            size_t after = static_cast<size_t>(std::count_if(out.begin(), out.end(), [&](const Prefix& p) { return p.contains(a); }));
            REQUIRE(after == (before ? 1u : 0u));
        }
        for (const auto& p : in)
            if (p.family() == Family::v6)
                CHECK(std::count_if(out.begin(), out.end(), [&](const Prefix& q) { return q.contains(p); }) == 1);
        // x the lower half of a prefix and y its upper half: one prefix would cover both.
        auto halves = [](const Prefix& x, const Prefix& y) {
            if (x.family() != y.family() || x.length != y.length || x.length == 0) return false;
            const int bit = x.length - 1;
            const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
            if (x.address.bytes[bit / 8] & mask) return false;
            IpAddress upper = x.address;
            upper.bytes[bit / 8] |= mask;
            return upper == y.address;
        };
        for (size_t i = 1; i < out.size(); ++i) CHECK_FALSE(halves(out[i - 1], out[i]));
        // The one-pass check agrees with collapsing: the output passes, the input only when it
        // was collapsed already, and so does every list one neighbour swap or removal away.
        CHECK(is_collapsed(out));
        CHECK(is_collapsed(in) == (in == out));
        if (out.size() > 2) {
            auto swapped = out;
            const size_t k = 1 + rng() % (out.size() - 1);
            std::swap(swapped[k - 1], swapped[k]);
            CHECK_FALSE(is_collapsed(swapped));
            auto fewer = out;
            fewer.erase(fewer.begin() + static_cast<long>(rng() % out.size()));
            CHECK(is_collapsed(fewer) == (fewer == collapse_prefixes(fewer)));
            auto split = out;  // a prefix given as its two halves
            for (size_t i = 0; i < split.size(); ++i) {
                if (split[i].is_host()) continue;
                Prefix lo{split[i].address, static_cast<uint8_t>(split[i].length + 1)}, hi = lo;
                const int bit = split[i].length;
                hi.address.bytes[static_cast<size_t>(bit / 8)] |= static_cast<uint8_t>(0x80 >> (bit % 8));
                split[i] = hi;
                split.insert(split.begin() + static_cast<long>(i), lo);
                CHECK_FALSE(is_collapsed(split));
                break;
            }
        }
    }
}

TEST_CASE("IPv4 prefixes of every length, anywhere, collapse as the general path collapses them", "[net]") {
    std::mt19937 rng(20261207);
    for (int round = 0; round < 200; ++round) {
        std::vector<Prefix> in;
        const int n = 1 + static_cast<int>(rng() % (round % 4 == 0 ? 20000 : 300));
        const uint32_t base = rng() & (round % 2 ? 0xffff0000u : 0xffffffffu);
        for (int i = 0; i < n; ++i) {
            // Scattered over the whole space, or every length (/0 included) near one address.
            const auto length = static_cast<uint8_t>(round % 3 == 0 ? 20 + rng() % 13 : rng() % 8 == 0 ? rng() % 33 : 28 + rng() % 5);
            const uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
            const uint32_t address = round % 3 == 0 ? static_cast<uint32_t>(rng()) : base ^ (rng() & 0x0000ffffu);
            in.push_back(Prefix{IpAddress::v4(address & mask), length});
        }
        auto mixed = in;
        mixed.push_back(*Prefix::parse("fd00::/64"));
        auto general = collapse_prefixes(mixed);
        general.pop_back();
        INFO("round " << round);
        REQUIRE(collapse_prefixes(in) == general);
    }
}

TEST_CASE("IPv4 addresses print as inet_ntop prints them", "[net]") {
    std::mt19937 rng(4);
    for (int i = 0; i < 100000; ++i) {
        IpAddress a = *IpAddress::parse("0.0.0.0");
        const uint32_t v = i < 256 ? static_cast<uint32_t>(i) * 0x01010101u : rng();
        for (size_t b = 0; b < 4; ++b) a.bytes[b] = static_cast<uint8_t>(v >> (8 * (3 - b)));
        char buf[INET_ADDRSTRLEN];
        REQUIRE(inet_ntop(AF_INET, a.bytes.data(), buf, sizeof buf));
        REQUIRE(a.to_string() == buf);
        REQUIRE(IpAddress::parse(a.to_string()) == a);
    }
}

TEST_CASE("IPv6 addresses print as inet_ntop prints them", "[net]") {
    // Words drawn mostly from 0, 1, ffff and small values, so that zero runs of every length
    // and place, ties between runs, and IPv4-compatible and -mapped forms all come up.
    std::mt19937 rng(6);
    const uint16_t common[] = {0, 0, 0, 0, 1, 0xffff, 0x10, 0xabc, 0xfd00};
    for (int i = 0; i < 200000; ++i) {
        IpAddress a = *IpAddress::parse("::");
        for (size_t w = 0; w < 8; ++w) {
            const uint16_t v = rng() % 4 ? common[rng() % std::size(common)] : static_cast<uint16_t>(rng());
            a.bytes[2 * w] = static_cast<uint8_t>(v >> 8);
            a.bytes[2 * w + 1] = static_cast<uint8_t>(v);
        }
        char buf[INET6_ADDRSTRLEN];
        REQUIRE(inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf));
        REQUIRE(a.to_string() == buf);
        REQUIRE(IpAddress::parse(a.to_string()) == a);
    }
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

TEST_CASE("addresses compare and prefixes contain as the byte-wise definitions say", "[net]") {
    // The byte-wise definitions: family, then the bytes in order; a prefix holds the addresses
    // that agree with it on its first `length` bits.
    auto reference_less = [](const IpAddress& a, const IpAddress& b) {
        if (a.family != b.family) return a.family < b.family;
        return std::lexicographical_compare(a.bytes.begin(), a.bytes.end(), b.bytes.begin(), b.bytes.end());
    };
    auto reference_contains = [](const Prefix& p, const IpAddress& a) {
        if (p.family() != a.family) return false;
        for (int bit = 0; bit < p.length; ++bit) {
            const int mask = 0x80 >> (bit % 8);
            if ((p.address.bytes[bit / 8] & mask) != (a.bytes[bit / 8] & mask)) return false;
        }
        return true;
    };
    std::mt19937 rng(7);
    auto random_address = [&](const IpAddress& near) {
        IpAddress a = near;
        if (rng() % 4 == 0) a.family = rng() % 2 ? Family::v4 : Family::v6;
        const int width = a.family == Family::v4 ? 4 : 16;
        // Keep a random number of leading bytes of `near`, so that long common prefixes occur.
        for (int i = static_cast<int>(rng() % (width + 1)); i < 16; ++i)
            a.bytes[i] = i < width ? static_cast<uint8_t>(rng()) : 0;
        return a;
    };
    IpAddress last = *IpAddress::parse("10.0.0.1");
    for (int round = 0; round < 200000; ++round) {
        const IpAddress a = random_address(last), b = random_address(a);
        last = b;
        INFO(a.to_string() << " " << b.to_string());
        REQUIRE((a < b) == reference_less(a, b));
        REQUIRE((a == b) == (!reference_less(a, b) && !reference_less(b, a)));
        Prefix p{a, static_cast<uint8_t>(rng() % (a.bit_width() + 1))};
        for (int bit = p.length; bit < a.bit_width(); ++bit) p.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
        INFO(p.to_string());
        REQUIRE(p.contains(b) == reference_contains(p, b));
        REQUIRE(p.contains(p.address));
        REQUIRE(p.contains(p.last()));
    }
}
