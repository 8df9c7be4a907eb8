#include "wardgate/site/site_names.hpp"

namespace wardgate {

SiteNames::SiteNames(const Site& site) : first_(site.devices.data()) {
    devices_.reserve(site.devices.size());
    for (const auto& d : site.devices) devices_.emplace(d.name, &d);
    endpoints_.reserve(site.endpoints.size());
    for (const auto& e : site.endpoints) endpoints_.emplace(e.name, &e);
}

}  // namespace wardgate
