#include <set>
#include <unordered_map>

#include "loaders.hpp"

namespace wardgate::site_detail {

namespace {

class Validator {
public:
    Validator(const Site& site, Diagnostics& diags) : site_(site), diags_(diags) {
        for (const auto& d : site.devices) roles_.insert(d.role);
        for (const auto& e : site.endpoints) roles_.insert(e.role);
    }

    void run() {
        unique_names(site_.segments, "segment");
        unique_names(site_.endpoints, "endpoint");
        unique_names(site_.devices, "device");
        segments_do_not_overlap();
        devices_fit_their_segments();
        addresses_are_unique();
        for (const auto& p : site_.profiles)
            for (const auto& f : p.flows) check_peer(f.peer, f.origin, "flow.peer");
        std::set<std::string> approval_ids;
        for (const auto& a : site_.approvals) {
            if (!approval_ids.insert(a.id).second) error(a.origin, "approval.id", "duplicate approval id \"" + a.id + "\"");
            check_peer(a.from, a.origin, "approval.from");
            check_peer(a.to, a.origin, "approval.to");
        }
        for (const auto& d : site_.denies) {
            check_peer(d.from, d.origin, "deny.from");
            check_peer(d.to, d.origin, "deny.to");
        }
    }

private:
    void error(const Origin& o, std::string field, std::string message) {
        diags_.add(o.file, o.line, 0, std::move(field), std::move(message));
    }

    template <typename T>
    void unique_names(const std::vector<T>& items, const std::string& what) {
        std::unordered_map<std::string, const T*> seen;
        for (const auto& item : items) {
            if (item.name.empty()) continue;
            auto [it, fresh] = seen.emplace(item.name, &item);
            if (!fresh)
                error(item.origin, what + ".name",
                      "duplicate " + what + " name \"" + item.name + "\" (first defined at " + it->second->origin.file +
                          ":" + std::to_string(it->second->origin.line) + ")");
        }
    }

    void segments_do_not_overlap() {
        std::unordered_map<uint16_t, const Segment*> vlans;
        for (size_t i = 0; i < site_.segments.size(); ++i) {
            const auto& s = site_.segments[i];
            if (s.vlan) {
                auto [it, fresh] = vlans.emplace(*s.vlan, &s);
                if (!fresh)
                    error(s.origin, "segment.vlan",
                          "VLAN " + std::to_string(*s.vlan) + " is already used by segment \"" + it->second->name + "\"");
            }
            for (size_t j = 0; j < i; ++j)
                for (const auto& a : s.subnets)
                    for (const auto& b : site_.segments[j].subnets)
                        if (a.contains(b) || b.contains(a))
                            error(s.origin, "segment.ipv" + std::string(a.family() == Family::v4 ? "4" : "6"),
                                  a.to_string() + " overlaps " + b.to_string() + " of segment \"" +
                                      site_.segments[j].name + "\"");
        }
    }

    void devices_fit_their_segments() {
        for (const auto& d : site_.devices) {
            if (d.segment.empty()) continue;
            const Segment* seg = site_.find_segment(d.segment);
            if (!seg) {
                error(d.origin, "device.segment", "unknown segment \"" + d.segment + "\" for device \"" + d.name + "\"");
                continue;
            }
            for (const auto& a : d.addresses) {
                bool inside = false;
                for (const auto& p : seg->subnets) inside = inside || p.contains(a);
                if (!inside)
                    error(d.origin, "device.addresses",
                          a.to_string() + " of device \"" + d.name + "\" is outside segment \"" + seg->name + "\"");
            }
        }
    }

    void addresses_are_unique() {
        std::unordered_map<IpAddress, const Device*, IpAddressHash> owner;
        for (const auto& d : site_.devices) {
            for (const auto& a : d.addresses) {
                auto [it, fresh] = owner.emplace(a, &d);
                if (!fresh && it->second != &d)
                    error(d.origin, "device.addresses",
                          a.to_string() + " of device \"" + d.name + "\" is already the address of device \"" +
                              it->second->name + "\"");
            }
        }
        for (const auto& e : site_.endpoints)
            for (const auto& p : e.prefixes)
                if (p.is_host())
                    if (auto it = owner.find(p.address); it != owner.end())
                        error(e.origin, "endpoint.addresses",
                              p.to_string() + " of endpoint \"" + e.name + "\" is the address of device \"" +
                                  it->second->name + "\"");
    }

    void check_peer(const PeerRef& ref, const Origin& origin, const std::string& field) {
        switch (ref.kind) {
            case PeerRef::Kind::role:
                if (!roles_.count(ref.name))
                    error(origin, field, "unknown role \"" + ref.name + "\" (no device or endpoint has it)");
                break;
            case PeerRef::Kind::segment:
                if (!site_.find_segment(ref.name)) error(origin, field, "unknown segment \"" + ref.name + "\"");
                break;
            case PeerRef::Kind::endpoint:
                if (!site_.find_endpoint(ref.name)) error(origin, field, "unknown endpoint \"" + ref.name + "\"");
                break;
            case PeerRef::Kind::device:
                if (!site_.find_device(ref.name)) error(origin, field, "unknown device \"" + ref.name + "\"");
                break;
            case PeerRef::Kind::any:
            case PeerRef::Kind::cidr: break;
        }
    }

    const Site& site_;
    Diagnostics& diags_;
    std::set<std::string> roles_;
};

}  // namespace

void validate_site(const Site& site, Diagnostics& diags) { Validator(site, diags).run(); }

}  // namespace wardgate::site_detail
