#pragma once
// Random inventory edits for the tests that compare what a reload keeps from the last load
// (reclassified edges, the remembered baseline) with what a load from scratch gives.
#include <random>
#include <vector>

#include "wardgate/graph/classify.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::testing {

std::vector<ObservedEdge> observed_of(const std::vector<ClassifiedEdge>& edges);

// One random edit, mostly of a device at one of the `seen` addresses: its role, tags, vendor
// and model, stage, name or addresses changed, it removed, another added where the flows saw a
// host, or two devices swapped in the inventory. Devices an approval or deny names keep their
// names (validation would refuse the site otherwise); an address and a name stay unique.
void edit_inventory(Site& site, std::mt19937& rng, const std::vector<IpAddress>& seen);

}  // namespace wardgate::testing
