#include "wardgate/site/site_names.hpp"

namespace wardgate {

SiteNames::SiteNames(const Site& site)
    : first_(site.devices.data()),
      first_endpoint_(site.endpoints.data()),
      devices_(site.devices.size()),
      endpoints_(site.endpoints.size()) {
    for (uint32_t i = 0; i < site.devices.size(); ++i) devices_.insert(site.devices[i].name, i);
    for (uint32_t i = 0; i < site.endpoints.size(); ++i) endpoints_.insert(site.endpoints[i].name, i);
}

}  // namespace wardgate
