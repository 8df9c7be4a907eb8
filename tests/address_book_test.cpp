// The address book: which segment, device or endpoint an address belongs to.
#include <catch2/catch.hpp>

#include <random>

#include "wardgate/graph/address_book.hpp"

using namespace wardgate;

namespace {

// The definition: the first segment, in declaration order, with a subnet holding the address.
int first_segment_holding(const Site& site, const IpAddress& a) {
    for (size_t i = 0; i < site.segments.size(); ++i)
        for (const auto& p : site.segments[i].subnets)
            if (p.contains(a)) return static_cast<int>(i);
    return -1;
}

Prefix random_prefix(std::mt19937& rng, bool v6) {
    IpAddress a;
    a.family = v6 ? Family::v6 : Family::v4;
    // Few distinct leading bytes, so that subnets and probes land near each other.
    a.bytes[0] = v6 ? 0xfd : 10;
    a.bytes[1] = static_cast<uint8_t>(rng() % 4);
    a.bytes[2] = static_cast<uint8_t>(rng() % 16);
    Prefix p{a, static_cast<uint8_t>(v6 ? 40 + rng() % 25 : 16 + rng() % 13)};
    for (int bit = p.length; bit < a.bit_width(); ++bit) p.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    return p;
}

IpAddress random_probe(std::mt19937& rng, const Site& site) {
    const auto& seg = site.segments[rng() % site.segments.size()];
    IpAddress a = seg.subnets[rng() % seg.subnets.size()].address;
    for (int i = a.family == Family::v4 ? 2 : 4; i < (a.family == Family::v4 ? 4 : 16); ++i)
        if (rng() % 2) a.bytes[i] = static_cast<uint8_t>(rng());
    return a;
}

}  // namespace

TEST_CASE("an address's segment is the first segment holding it, overlapping or not", "[graph][address-book]") {
    std::mt19937 rng(11);
    for (int round = 0; round < 300; ++round) {
        Site site;
        const bool disjoint = round % 2 == 0;
        std::vector<Prefix> taken;
        const int segments = 1 + static_cast<int>(rng() % 40);
        for (int s = 0; s < segments; ++s) {
            Segment seg;
            seg.name = "s" + std::to_string(s);
            for (int k = 0; k <= static_cast<int>(rng() % 3); ++k) {
                Prefix p = random_prefix(rng, rng() % 3 == 0);
                // A validated site has no two segments overlapping; a site built in code may.
                bool clash = std::any_of(taken.begin(), taken.end(), [&](const Prefix& t) { return t.contains(p) || p.contains(t); });
                if (disjoint && clash) continue;
                taken.push_back(p);
                seg.subnets.push_back(p);
            }
            if (!seg.subnets.empty()) site.segments.push_back(seg);
        }
        if (site.segments.empty()) continue;
        const AddressBook book(site);
        for (int probe = 0; probe < 200; ++probe) {
            const IpAddress a = random_probe(rng, site);
            INFO("round " << round << ", " << a.to_string());
            REQUIRE(book.segment_of(a) == first_segment_holding(site, a));
        }
    }
}

TEST_CASE("an address's device is the first device holding it, among scattered addresses", "[graph][address-book]") {
    // Devices with IPv4 and IPv6 addresses scattered over many /16s (and at their edges), a
    // few addresses claimed twice (a site built in code; validation refuses it): resolve finds
    // the first device holding the address, and nothing for an address no device holds.
    std::mt19937 rng(19);
    for (int round = 0; round < 20; ++round) {
        Site site;
        std::vector<IpAddress> probes;
        auto v4 = [](uint32_t value) { return IpAddress::v4(value); };
        const int devices = 1 + static_cast<int>(rng() % 3000);
        for (int d = 0; d < devices; ++d) {
            Device device;
            device.name = "d" + std::to_string(d);
            const uint32_t edge = rng() % 4 == 0 ? (rng() % 2 ? 0xffffu : 0u) : rng() & 0xffffu;
            const uint32_t value = (0x0a000000u + (rng() % 64 << 16)) | edge;
            device.addresses.push_back(rng() % 50 == 0 && !probes.empty() ? probes[rng() % probes.size()] : v4(value));
            if (rng() % 5 == 0) {
                IpAddress six = *IpAddress::parse("fd00::");
                six.bytes[15] = static_cast<uint8_t>(rng());
                six.bytes[14] = static_cast<uint8_t>(rng() % 4);
                device.addresses.push_back(six);
            }
            for (const auto& a : device.addresses) {
                probes.push_back(a);
                if (a.family == Family::v4) probes.push_back(v4(a.v4_value() + 1));
            }
            site.devices.push_back(std::move(device));
        }
        AddressBook book(site);
        INFO("round " << round);
        for (const auto& a : probes) {
            INFO("address " << a.to_string());
            std::optional<uint32_t> expected;
            for (uint32_t i = 0; i < site.devices.size() && !expected; ++i)
                for (const auto& mine : site.devices[i].addresses)
                    if (mine == a) expected = i;
            Entity e = book.resolve(a);
            REQUIRE((e.kind == Entity::Kind::device) == expected.has_value());
            if (expected) REQUIRE(e.index == *expected);
        }
    }
}
