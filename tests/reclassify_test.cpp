// Classifying the same observations again after an inventory edit, keeping what did not
// change, gives exactly what classifying them from scratch gives.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <set>

#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"

using namespace wardgate;

namespace {

std::vector<ObservedEdge> observed_of(const std::vector<ClassifiedEdge>& edges) {
    std::vector<ObservedEdge> out;
    for (const auto& c : edges) out.push_back(c.observed);
    return out;
}

std::string entity_text(const Entity& e) {
    return fmt::format("{}#{}@{}/{}", static_cast<int>(e.kind), e.index, e.address.to_string(), e.segment);
}

// Every field of a classification; pointers as the positions they name in `site`.
std::string described(const ClassifiedEdge& c, const Site& site) {
    std::string out = fmt::format("{} -> {} {}:{} unrouted {}", entity_text(c.initiator), entity_text(c.responder),
                                  static_cast<int>(c.observed.key.protocol), c.observed.key.responder_port, c.unrouted);
    for (const auto& d : c.declared) {
        auto profile = d.profile - site.profiles.data();
        REQUIRE((profile >= 0 && static_cast<size_t>(profile) < site.profiles.size()));
        out += fmt::format(" declared {}.{}", profile, d.flow - d.profile->flows.data());
    }
    for (const auto* a : c.approvals) out += fmt::format(" approval {}", a - site.approvals.data());
    for (const auto* a : c.expired) out += fmt::format(" expired {}", a - site.approvals.data());
    out += fmt::format(" connections {}", c.observed.stats.connections);
    return out;
}

// One random inventory edit, aimed at the devices the observations talk about.
void edit(Site& site, std::mt19937& rng, const std::vector<IpAddress>& seen) {
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    auto& devices = site.devices;
    // Mostly a device the flows talk about.
    std::vector<size_t> observed;
    for (size_t i = 0; i < devices.size(); ++i)
        for (const auto& a : devices[i].addresses)
            if (std::find(seen.begin(), seen.end(), a) != seen.end()) observed.push_back(i);
    Device& d = devices[!observed.empty() && pick(4) ? observed[pick(observed.size())] : pick(devices.size())];
    switch (pick(9)) {
        case 0: d.role = d.role + "-x"; break;
        case 1:  // ward-1: what the tagged approval names
            if (d.tags.empty()) d.tags.push_back("ward-1");
            else d.tags.clear();
            break;
        case 2: std::swap(d.vendor, devices[pick(devices.size())].vendor); std::swap(d.model, devices[pick(devices.size())].model); break;
        case 3: d.name += "-renamed"; break;
        case 4: d.addresses = {seen[pick(seen.size())]}; break;  // now at an address the flows show
        case 5: devices.erase(devices.begin() + static_cast<long>(&d - devices.data())); break;
        case 6: {  // a new device, in the middle of the inventory, where the flows saw a host
            Device n = devices[pick(devices.size())];
            n.name = "new-" + std::to_string(pick(1000000));
            n.addresses = {seen[pick(seen.size())]};
            devices.insert(devices.begin() + static_cast<long>(pick(devices.size())), std::move(n));
            break;
        }
        case 7: d.department += " annex"; d.lifecycle = Lifecycle::end_of_support; break;  // classification reads neither
        case 8: std::swap(d, devices[pick(devices.size())]); break;
    }
    // An address may belong to one device only: the later claim loses it.
    std::set<IpAddress> taken;
    for (auto& dev : devices)
        std::erase_if(dev.addresses, [&](const IpAddress& a) { return !taken.insert(a).second; });
}

}  // namespace

TEST_CASE("reclassifying after inventory edits gives what classifying from scratch gives", "[graph][classify]") {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    const Pipeline loaded = run_pipeline(testing::kExampleSite, o);
    // The example's approvals name devices, roles and endpoints; one more names a tag.
    Site base_site = *loaded.site;
    REQUIRE(!base_site.approvals.empty());
    Approval tagged = base_site.approvals.front();
    tagged.id = "tagged";
    tagged.from = *PeerRef::parse("tag:ward-1");
    tagged.to = *PeerRef::parse("any");
    base_site.approvals.push_back(tagged);
    for (size_t i = 0; i < base_site.devices.size(); i += 3) base_site.devices[i].tags.push_back("ward-1");
    const AddressBook base_book(base_site);
    struct {
        const Site* site;
        Date today;
        std::vector<ClassifiedEdge> edges;
    } base{&base_site, loaded.today, classify_edges(observed_of(loaded.edges), base_book, loaded.today)};
    REQUIRE(base.edges.size() > 20);
    std::vector<IpAddress> seen;
    size_t declared = 0, approved = 0, tagged_edges = 0;
    for (const auto& c : base.edges) {
        seen.push_back(c.observed.key.initiator);
        seen.push_back(c.observed.key.responder);
        declared += !c.declared.empty();
        approved += !c.approvals.empty();
        for (const auto* a : c.approvals) tagged_edges += a->id == "tagged";
    }
    REQUIRE(declared > 0);
    REQUIRE(approved > 0);
    REQUIRE(tagged_edges > 0);

    std::mt19937 rng(20261205);
    for (int round = 0; round < 300; ++round) {
        Site site = *base.site;
        const int edits = 1 + round % 4;
        for (int i = 0; i < edits; ++i) edit(site, rng, seen);
        Date today = base.today;
        if (round % 25 == 7) site.approvals.front().reason += " (renewed)";  // not an inventory edit
        if (round % 25 == 11) site.profiles.back().flows.pop_back();
        if (round % 25 == 13) today = *parse_date("2027-06-01");               // approvals expire
        const AddressBook book(site);
        auto again = reclassify_edges(base.edges, *base.site, base.today, book, today);
        auto fresh = classify_edges(observed_of(base.edges), book, today);
        INFO("round " << round);
        REQUIRE(again.size() == fresh.size());
        size_t differing = 0;
        for (size_t i = 0; i < fresh.size(); ++i) {
            std::string a = described(again[i], site), f = described(fresh[i], site);
            if (a != f && differing++ < 3) CHECK(a == f);
        }
        CHECK(differing == 0);
    }
}

TEST_CASE("an inventory edit served from the flow cache compiles to what a fresh run compiles", "[pipeline][cache][classify]") {
    PipelineOptions fresh;
    fresh.today = *parse_date("2026-11-22");
    FlowReadCache cache;
    PipelineOptions cached = fresh;
    cached.flow_cache = &cache;
    const Pipeline first = run_pipeline(testing::kExampleSite, cached);
    REQUIRE(cache.site == first.site);
    // The cache classified against the site it keeps; the next load reclassifies from it.
    const Pipeline second = run_pipeline(testing::kExampleSite, cached);
    REQUIRE(cache.site == second.site);
    REQUIRE(second.edges.size() == first.edges.size());
    for (size_t i = 0; i < first.edges.size(); ++i) {
        REQUIRE(described(second.edges[i], *second.site) == described(first.edges[i], *first.site));
        for (const auto& d : second.edges[i].declared)
            CHECK((d.profile >= second.site->profiles.data() &&
                   d.profile < second.site->profiles.data() + second.site->profiles.size()));
    }
}
