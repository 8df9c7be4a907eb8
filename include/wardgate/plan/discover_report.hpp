#pragma once
// What `wardgate discover` prints: a review table for a person, or the proposed device
// entries as devices.toml or an asset CSV (docs/site-format.md) with the fields only a
// person can answer left empty, so the site will not load them until someone has.
#include <string>

#include "wardgate/assess/discover.hpp"

namespace wardgate {

std::string discovery_text(const Discovery& d, const Site& site);
std::string discovery_toml(const Discovery& d, const Site& site);
std::string discovery_csv(const Discovery& d);
// Everything the review table shows, as data (docs/schema/discover.schema.json).
std::string discovery_json(const Discovery& d, const Site& site);

}  // namespace wardgate
