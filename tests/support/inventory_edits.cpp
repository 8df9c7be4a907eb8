#include "inventory_edits.hpp"

#include <algorithm>
#include <set>
#include <string>

namespace wardgate::testing {

std::vector<ObservedEdge> observed_of(const std::vector<ClassifiedEdge>& edges) {
    std::vector<ObservedEdge> out;
    out.reserve(edges.size());
    for (const auto& c : edges) out.push_back(c.observed);
    return out;
}

void edit_inventory(Site& site, std::mt19937& rng, const std::vector<IpAddress>& seen) {
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    auto& devices = site.devices;
    std::vector<size_t> observed;
    for (size_t i = 0; i < devices.size(); ++i)
        for (const auto& a : devices[i].addresses)
            if (std::find(seen.begin(), seen.end(), a) != seen.end()) observed.push_back(i);
    Device& d = devices[!observed.empty() && pick(4) ? observed[pick(observed.size())] : pick(devices.size())];
    bool named = false;
    for (const auto& a : site.approvals) named = named || a.from.name == d.name || a.to.name == d.name;
    for (const auto& x : site.denies) named = named || x.from.name == d.name || x.to.name == d.name;
    constexpr Lifecycle kStages[] = {Lifecycle::support, Lifecycle::limited_support, Lifecycle::end_of_support};
    size_t what = pick(10);
    if (named && (what == 4 || what == 6)) what = 3;
    switch (what) {
        case 0: d.role = pick(2) ? d.role + "-x" : devices[pick(devices.size())].role; break;
        case 1:  // ward-1: what a tagged approval may name
            if (d.tags.empty()) d.tags.push_back("ward-1");
            else d.tags.clear();
            break;
        case 2:
            d.vendor = devices[pick(devices.size())].vendor;
            d.model = devices[pick(devices.size())].model;
            break;
        case 3: d.lifecycle = kStages[pick(3)]; break;  // classification does not read it; the baseline does
        case 4: d.name += "-renamed"; break;
        case 5: d.addresses = {seen[pick(seen.size())]}; break;  // now at an address the flows show
        case 6: devices.erase(devices.begin() + static_cast<long>(&d - devices.data())); break;
        case 7: {  // a new device, in the middle of the inventory, where the flows saw a host
            Device n = devices[pick(devices.size())];
            n.name = "new-" + std::to_string(pick(1000000));
            n.addresses = {seen[pick(seen.size())]};
            devices.insert(devices.begin() + static_cast<long>(pick(devices.size())), std::move(n));
            break;
        }
        case 8: d.department += " annex"; break;  // read by neither
        case 9: std::swap(d, devices[pick(devices.size())]); break;
    }
    std::set<IpAddress> taken;  // an address belongs to one device: the later claim loses it
    for (auto& dev : devices) std::erase_if(dev.addresses, [&](const IpAddress& a) { return !taken.insert(a).second; });
    std::set<std::string> names;
    std::erase_if(devices, [&](const Device& dev) { return !names.insert(dev.name).second; });
}

}  // namespace wardgate::testing
