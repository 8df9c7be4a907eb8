#pragma once

#include <string_view>
#include <unordered_map>

#include "wardgate/site/site.hpp"

namespace wardgate {

// A site's devices and endpoints by name, for code that looks many of them up: Site::find_device
// scans, which is quadratic over a 100,000-device inventory. Holds pointers into the site: build
// it after the site stops changing and do not keep it past the site.
class SiteNames {
public:
    explicit SiteNames(const Site& site);
    const Device* device(std::string_view name) const { return find(devices_, name); }
    const Endpoint* endpoint(std::string_view name) const { return find(endpoints_, name); }
    // The device's position in site.devices (the index the graph and the assessments use).
    size_t device_index(const Device& d) const { return static_cast<size_t>(&d - first_); }

private:
    template <typename T>
    static const T* find(const std::unordered_map<std::string_view, const T*>& map, std::string_view name) {
        auto it = map.find(name);
        return it == map.end() ? nullptr : it->second;
    }
    const Device* first_;
    std::unordered_map<std::string_view, const Device*> devices_;
    std::unordered_map<std::string_view, const Endpoint*> endpoints_;
};

}  // namespace wardgate
