#pragma once
// Says who an address belongs to: a managed device, a named endpoint, an unmanaged
// host inside a segment, or the outside world.
#include <optional>
#include <string>
#include <vector>

#include "wardgate/core/prefix_lookup.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

struct Entity {
    enum class Kind { device, endpoint, host, external };
    Kind kind = Kind::external;
    uint32_t index = 0;  // into Site::devices or Site::endpoints
    IpAddress address;   // the address looked up
    int segment = -1;    // index into Site::segments, -1 when outside every segment

    bool operator==(const Entity& o) const { return kind == o.kind && index == o.index && (kind == Kind::device || kind == Kind::endpoint || address == o.address); }
};

class AddressBook {
public:
    explicit AddressBook(const Site& site);

    Entity resolve(const IpAddress& a) const;
    int segment_of(const IpAddress& a) const;
    // A stable, readable name: the device or endpoint name, or the address.
    std::string name(const Entity& e) const;
    // True when the entity lies outside the site: an internet endpoint or an unknown outside address.
    bool is_internet(const Entity& e) const;
    // Never forwarded by a gateway: link-local, multicast, broadcast (also a segment's own).
    bool unrouted(const IpAddress& a) const;
    // The prefix lies within one segment or one named (non-internet) endpoint.
    bool inside_site(const Prefix& p) const;
    const Site& site() const { return site_; }

private:
    const Site& site_;
    std::optional<uint32_t> device_at(const IpAddress& a) const;
    // Devices' addresses, sorted (among equal addresses, the first device first). IPv4 as
    // address << 32 | device, found within the address's /16: a site of a hundred thousand
    // devices builds this in a few milliseconds, where a hash map spent a heap block on each.
    std::vector<uint64_t> v4_devices_;
    V4Buckets v4_buckets_;
    std::vector<std::pair<IpAddress, uint32_t>> v6_devices_;
    struct EndpointPrefix {
        Prefix prefix;
        uint32_t endpoint;
    };
    // Every segment subnet with its segment (validation refuses overlaps; a site built in code
    // may have them, and then the first segment wins).
    PrefixOwners segments_;
    std::vector<EndpointPrefix> endpoint_prefixes_;  // most specific first, internet endpoints excluded
    std::optional<uint32_t> internet_endpoint_v4_, internet_endpoint_v6_;
};

}  // namespace wardgate
