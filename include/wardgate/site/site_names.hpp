#pragma once

#include <string_view>

#include "wardgate/core/name_index.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

// A site's devices and endpoints by name, for code that looks many of them up: Site::find_device
// scans, which is quadratic over a 100,000-device inventory. Holds pointers into the site: build
// it after the site stops changing and do not keep it past the site.
class SiteNames {
public:
    explicit SiteNames(const Site& site);
    const Device* device(std::string_view name) const {
        auto at = devices_.find(name);
        return at ? first_ + *at : nullptr;
    }
    const Endpoint* endpoint(std::string_view name) const {
        auto at = endpoints_.find(name);
        return at ? first_endpoint_ + *at : nullptr;
    }
    // The device's position in site.devices (the index the graph and the assessments use).
    size_t device_index(const Device& d) const { return static_cast<size_t>(&d - first_); }

private:
    const Device* first_;
    const Endpoint* first_endpoint_;
    NameIndex devices_, endpoints_;  // the first of each name
};

}  // namespace wardgate
