#include "wardgate/graph/address_book.hpp"

#include <algorithm>

#include <boost/sort/pdqsort/pdqsort.hpp>

namespace wardgate {

AddressBook::AddressBook(const Site& site) : site_(site) {
    std::vector<std::pair<Prefix, int>> subnets;
    for (size_t i = 0; i < site.segments.size(); ++i)
        for (const auto& p : site.segments[i].subnets) subnets.emplace_back(p, static_cast<int>(i));
    segments_ = PrefixOwners(std::move(subnets));
    v4_devices_.reserve(site.devices.size());
    for (uint32_t i = 0; i < site.devices.size(); ++i)
        for (const auto& a : site.devices[i].addresses) {
            if (a.family == Family::v4)
                v4_devices_.push_back(uint64_t{a.v4_value()} << 32 | i);
            else
                v6_devices_.emplace_back(a, i);
        }
    // Unique keys (each holds its device), so any sort gives this order: pdqsort is the quickest.
    boost::sort::pdqsort(v4_devices_.begin(), v4_devices_.end());
    boost::sort::pdqsort(v6_devices_.begin(), v6_devices_.end());
    v4_buckets_ = V4Buckets(v4_devices_.size(), [&](size_t i) { return static_cast<uint32_t>(v4_devices_[i] >> 48); });
    for (uint32_t i = 0; i < site.endpoints.size(); ++i) {
        const auto& e = site.endpoints[i];
        for (const auto& p : e.prefixes) {
            if (e.is_internet()) {
                auto& slot = p.family() == Family::v4 ? internet_endpoint_v4_ : internet_endpoint_v6_;
                if (!slot) slot = i;
            } else {
                endpoint_prefixes_.push_back({p, i});
            }
        }
    }
    std::stable_sort(endpoint_prefixes_.begin(), endpoint_prefixes_.end(),
                     [](const EndpointPrefix& a, const EndpointPrefix& b) { return a.prefix.length > b.prefix.length; });
}

int AddressBook::segment_of(const IpAddress& a) const { return segments_.owner_of(a); }

std::optional<uint32_t> AddressBook::device_at(const IpAddress& a) const {
    if (a.family == Family::v4) {
        const uint64_t value = a.v4_value();
        const auto [from, to] = v4_buckets_.range(static_cast<uint32_t>(value));
        auto first = v4_devices_.begin() + from, last = v4_devices_.begin() + to;
        auto it = std::lower_bound(first, last, value << 32);
        if (it == last || *it >> 32 != value) return std::nullopt;
        return static_cast<uint32_t>(*it);
    }
    auto it = std::lower_bound(v6_devices_.begin(), v6_devices_.end(), std::pair<IpAddress, uint32_t>{a, 0});
    if (it == v6_devices_.end() || it->first != a) return std::nullopt;
    return it->second;
}

Entity AddressBook::resolve(const IpAddress& a) const {
    Entity e;
    e.address = a;
    e.segment = segment_of(a);
    if (auto device = device_at(a)) {
        e.kind = Entity::Kind::device;
        e.index = *device;
        return e;
    }
    for (const auto& ep : endpoint_prefixes_) {
        if (ep.prefix.contains(a)) {
            e.kind = Entity::Kind::endpoint;
            e.index = ep.endpoint;
            return e;
        }
    }
    if (e.segment >= 0) {
        e.kind = Entity::Kind::host;
        return e;
    }
    auto internet = a.family == Family::v4 ? internet_endpoint_v4_ : internet_endpoint_v6_;
    if (internet) {
        e.kind = Entity::Kind::endpoint;
        e.index = *internet;
        return e;
    }
    e.kind = Entity::Kind::external;
    return e;
}

std::string AddressBook::name(const Entity& e) const {
    switch (e.kind) {
        case Entity::Kind::device: return site_.devices[e.index].name;
        case Entity::Kind::endpoint:
            if (site_.endpoints[e.index].is_internet()) return e.address.to_string();
            return site_.endpoints[e.index].name;
        case Entity::Kind::host:
        case Entity::Kind::external: return e.address.to_string();
    }
    return "?";
}

bool AddressBook::unrouted(const IpAddress& a) const {
    if (is_unrouted(a)) return true;
    if (a.family != Family::v4) return false;
    int seg = segment_of(a);
    if (seg < 0) return false;
    for (const auto& p : site_.segments[seg].subnets)
        if (p.length < 31 && p.contains(a) && p.last() == a) return true;
    return false;
}

bool AddressBook::inside_site(const Prefix& p) const {
    for (const auto& s : site_.segments)
        for (const auto& sp : s.subnets)
            if (sp.contains(p)) return true;
    for (const auto& ep : endpoint_prefixes_)
        if (ep.prefix.contains(p)) return true;
    return false;
}

bool AddressBook::is_internet(const Entity& e) const {
    if (e.kind == Entity::Kind::external) return true;
    return e.kind == Entity::Kind::endpoint && site_.endpoints[e.index].is_internet();
}

}  // namespace wardgate
