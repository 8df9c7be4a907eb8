#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <boost/sort/pdqsort/pdqsort.hpp>

#include "loaders.hpp"
#include "wardgate/core/name_index.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate::site_detail {

namespace {

class Validator {
public:
    Validator(Site& site, Diagnostics& diags) : site_(site), diags_(diags) {
        for (const auto& s : site.segments) segment_by_name_.emplace(s.name, &s);
        const Device* previous = nullptr;  // an inventory lists a role's devices together: skip repeats
        for (const auto& d : site.devices) {
            if (!previous || d.role != previous->role) roles_.insert(d.role);
            if (!previous || d.tags != previous->tags) tags_.insert(d.tags.begin(), d.tags.end());
            previous = &d;
        }
        for (const auto& e : site.endpoints) {
            roles_.insert(e.role);
            tags_.insert(e.tags.begin(), e.tags.end());
        }
    }

    void run() {
        // Repeated addresses and MACs read only the devices and endpoints, and report into a
        // list of their own: checked on a second thread while the rest runs, their errors then
        // put where they stand in the order of the checks.
        Diagnostics repeated, later;
        auto repeats = std::async(std::launch::async, [&] { addresses_are_unique(repeated); });
        unique_names(site_.segments, "segment");
        unique_names(site_.endpoints, "endpoint");
        unique_names(site_.devices, "device");
        segments_do_not_overlap();
        devices_fit_their_segments();
        out_ = &later;
        nac_devices_have_macs();
        for (const auto& p : site_.profiles)
            for (const auto& f : p.flows) check_peer(f.peer, f.origin, "flow.peer");
        std::set<std::string> approval_ids;
        for (const auto& a : site_.approvals) {
            if (!approval_ids.insert(a.id).second) error(a.origin, "approval.id", "duplicate approval id \"" + a.id + "\"");
            check_peer(a.from, a.origin, "approval.from");
            check_peer(a.to, a.origin, "approval.to");
        }
        std::set<std::string> deny_ids;
        for (const auto& d : site_.denies) {
            if (!deny_ids.insert(d.id).second) error(d.origin, "deny.id", "duplicate deny id \"" + d.id + "\"");
            check_peer(d.from, d.origin, "deny.from");
            check_peer(d.to, d.origin, "deny.to");
        }
        std::set<std::string> device_roles;
        for (size_t i = 0; i < site_.devices.size(); ++i)
            if (i == 0 || site_.devices[i].role != site_.devices[i - 1].role) device_roles.insert(site_.devices[i].role);
        for (const auto& r : site_.monitored_roles)
            if (!device_roles.count(r.role))
                error(r.origin, "role." + r.role, "unknown role \"" + r.role + "\" (no device has it): monitor = true would monitor nothing");
        no_port_zero();
        devices_avoid_reserved_addresses();
        endpoints_stay_out_of_segments();
        profiles_match_devices();
        out_ = &diags_;
        repeats.get();
        for (const auto& d : repeated.items()) diags_.add(d);
        for (const auto& d : later.items()) diags_.add(d);
    }

private:
    void error(const Origin& o, std::string field, std::string message) {
        out_->add(o.file, o.line, 0, std::move(field), std::move(message));
    }

    // The first segment of that name, as Site::find_segment answers.
    const Segment* segment(std::string_view name) const {
        auto it = segment_by_name_.find(name);
        return it == segment_by_name_.end() ? nullptr : it->second;
    }

    template <typename T>
    void unique_names(const std::vector<T>& items, const std::string& what) {
        NameIndex seen(items.size());
        for (uint32_t i = 0; i < items.size(); ++i) {
            const auto& item = items[i];
            if (item.name.empty()) continue;
            if (auto first = seen.insert(item.name, i))
                error(item.origin, what + ".name",
                      "duplicate " + what + " name \"" + item.name + "\" (first defined at " + items[*first].origin.file +
                          ":" + std::to_string(items[*first].origin.line) + ")");
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
        segment_of_device_.reserve(site_.devices.size());
        const Device* previous = nullptr;  // a segment's devices tend to come together
        for (const auto& d : site_.devices) {
            const Segment* seg = d.segment.empty() ? nullptr
                                 : previous && previous->segment == d.segment ? segment_of_device_.back()
                                                                              : segment(d.segment);
            previous = &d;
            segment_of_device_.push_back(seg);
            if (d.segment.empty()) continue;
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

    // Each claim on a value an earlier claim of another owner holds, as (later claim, first
    // claim), appended to `out`. `claims` is sorted by value, then claim.
    template <typename T, typename Value, typename Claim, typename Owner>
    static void later_claims(const std::vector<T>& claims, Value value, Claim claim, Owner owner,
                             std::vector<std::pair<uint32_t, uint32_t>>& out) {
        for (size_t i = 1, run = 0; i < claims.size(); ++i) {
            if (value(claims[i]) != value(claims[run])) run = i;
            else if (owner(claim(claims[i])) != owner(claim(claims[run]))) out.emplace_back(claim(claims[i]), claim(claims[run]));
        }
    }

    void addresses_are_unique(Diagnostics& out) const {
        const auto error = [&out](const Origin& o, std::string field, std::string message) {
            out.add(o.file, o.line, 0, std::move(field), std::move(message));
        };
        // Sorted rather than hashed: no map of a hundred thousand nodes. Each address a device
        // lists is a claim, numbered in inventory order; IPv4 claims sort as one number each
        // (address, claim), so among equal addresses the inventory's first claim sorts first.
        std::vector<uint32_t> claimant;  // device of each claim
        std::vector<uint32_t> position;  // in that device's addresses
        std::vector<uint64_t> v4;
        struct Wide {
            IpAddress address;
            uint32_t claim;
        };
        std::vector<Wide> v6;
        claimant.reserve(site_.devices.size());
        position.reserve(site_.devices.size());
        v4.reserve(site_.devices.size());
        for (uint32_t d = 0; d < site_.devices.size(); ++d) {
            const auto& addresses = site_.devices[d].addresses;
            for (uint32_t i = 0; i < addresses.size(); ++i) {
                const auto claim = static_cast<uint32_t>(claimant.size());
                claimant.push_back(d);
                position.push_back(i);
                if (addresses[i].family == Family::v4)
                    v4.push_back(uint64_t{addresses[i].v4_value()} << 32 | claim);
                else
                    v6.push_back({addresses[i], claim});
            }
        }
        // Every key is unique (it holds its claim): pattern-defeating quicksort, twice std::sort's
        // speed on scattered addresses, gives the one order there is.
        boost::sort::pdqsort(v4.begin(), v4.end());
        boost::sort::pdqsort(v6.begin(), v6.end(), [](const Wide& x, const Wide& y) { return std::tie(x.address, x.claim) < std::tie(y.address, y.claim); });
        const auto owner = [&](uint32_t claim) { return claimant[claim]; };
        std::vector<std::pair<uint32_t, uint32_t>> claims;
        later_claims(v4, [](uint64_t k) { return k >> 32; }, [](uint64_t k) { return static_cast<uint32_t>(k); }, owner, claims);
        later_claims(v6, [](const Wide& w) { return w.address; }, [](const Wide& w) { return w.claim; }, owner, claims);
        std::sort(claims.begin(), claims.end());  // claims are numbered in inventory order
        for (const auto& [later, first] : claims) {
            const Device& d = site_.devices[claimant[later]];
            error(d.origin, "device.addresses",
                  d.addresses[position[later]].to_string() + " of device \"" + d.name +
                      "\" is already the address of device \"" + site_.devices[claimant[first]].name + "\"");
        }
        // One MAC is one network interface: two devices with it would get each other's VLAN.
        // Sorted as 48-bit numbers (the loader made every MAC canonical), each later device
        // reported against the first, in inventory order.
        std::vector<std::pair<uint64_t, uint32_t>> macs;
        for (uint32_t i = 0; i < site_.devices.size(); ++i) {
            const std::string& mac = site_.devices[i].mac;
            if (mac.empty()) continue;
            uint64_t value = 0;
            for (char c : mac)
                if (c != ':' && c != '-' && c != '.') value = value << 4 | static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            macs.emplace_back(value, i);
        }
        boost::sort::pdqsort(macs.begin(), macs.end());
        std::vector<std::pair<uint32_t, uint32_t>> mac_claims;  // (device, the first device with its MAC)
        later_claims(macs, [](const auto& m) { return m.first; }, [](const auto& m) { return m.second; },
                     [](uint32_t device) { return device; }, mac_claims);
        std::sort(mac_claims.begin(), mac_claims.end());
        for (const auto& [later, first] : mac_claims) {
            const Device& d = site_.devices[later];
            error(d.origin, "device.mac",
                  "MAC " + d.mac + " of device \"" + d.name + "\" is already the MAC of device \"" +
                      site_.devices[first].name + "\"");
        }
        // An endpoint's host address that a device holds.
        const auto holder = [&](const IpAddress& a) -> const Device* {
            if (a.family == Family::v4) {
                auto it = std::lower_bound(v4.begin(), v4.end(), uint64_t{a.v4_value()} << 32);
                return it != v4.end() && *it >> 32 == a.v4_value() ? &site_.devices[claimant[static_cast<uint32_t>(*it)]] : nullptr;
            }
            auto it = std::lower_bound(v6.begin(), v6.end(), a, [](const Wide& w, const IpAddress& x) { return w.address < x; });
            return it != v6.end() && it->address == a ? &site_.devices[claimant[it->claim]] : nullptr;
        };
        for (const auto& e : site_.endpoints)
            for (const auto& p : e.prefixes) {
                if (!p.is_host()) continue;
                if (const Device* d = holder(p.address))
                    error(e.origin, "endpoint.addresses",
                          p.to_string() + " of endpoint \"" + e.name + "\" is the address of device \"" + d->name + "\"");
            }
    }

    void check_ports(const Service& s, const Origin& o, const std::string& field) {
        for (const auto& r : s.ports)
            if (r.first == 0) error(o, field, "port 0 is not a port a connection can use (" + s.to_string() + ")");
    }

    // With [nac], the switches' RADIUS server knows a device by its MAC alone.
    void nac_devices_have_macs() {
        if (!site_.nac.configured) return;
        for (const auto& d : site_.devices)
            if (d.mac.empty())
                warn(site_, d.origin.file, d.origin.line, "device.mac",
                     "device \"" + d.name + "\" has no MAC: wardgate nac gives it no RADIUS entry, so where it plugs in "
                     "it counts as an unknown device");
    }

    void no_port_zero() {
        for (const auto& p : site_.profiles)
            for (const auto& f : p.flows) check_ports(f.service, f.origin, "flow.ports");
        for (const auto& a : site_.approvals) check_ports(a.service, a.origin, "approval.ports");
        for (const auto& d : site_.denies)
            if (d.service) check_ports(*d.service, d.origin, "deny.ports");
    }

    // The network and broadcast address of an IPv4 subnet and the gateway's own address
    // never belong to a device: a rule for such a "device" matches something else.
    void devices_avoid_reserved_addresses() {
        for (size_t i = 0; i < site_.devices.size(); ++i) {
            const Device& d = site_.devices[i];
            const Segment* seg = segment_of_device_[i];
            if (!seg) continue;
            for (const auto& a : d.addresses) {
                for (const auto& g : seg->gateways)
                    if (g == a)
                        error(d.origin, "device.addresses",
                              a.to_string() + " of device \"" + d.name + "\" is the gateway address of segment \"" +
                                  seg->name + "\"");
                for (const auto& p : seg->subnets) {
                    if (!p.contains(a) || p.family() != Family::v4 || p.length >= 31) continue;
                    if (a == p.address)
                        error(d.origin, "device.addresses",
                              a.to_string() + " of device \"" + d.name + "\" is the network address of " + p.to_string());
                    if (a == p.last())
                        error(d.origin, "device.addresses",
                              a.to_string() + " of device \"" + d.name + "\" is the broadcast address of " + p.to_string());
                }
            }
        }
    }

    // An endpoint that swallows a whole segment would make rules to it rules to every device
    // there; one that covers another endpoint makes the two ambiguous.
    void endpoints_stay_out_of_segments() {
        for (const auto& e : site_.endpoints) {
            if (e.is_internet()) continue;
            for (const auto& p : e.prefixes) {
                for (const auto& s : site_.segments)
                    for (const auto& sp : s.subnets)
                        if (p.contains(sp))
                            error(e.origin, "endpoint.addresses",
                                  p.to_string() + " of endpoint \"" + e.name + "\" covers all of segment \"" + s.name +
                                      "\" (" + sp.to_string() + "): name the segment with segment:" + s.name +
                                      ", or make the endpoint kind = \"internet\" if it means everything outside");
                for (const auto& other : site_.endpoints) {
                    if (&other == &e || other.is_internet()) continue;
                    for (const auto& op : other.prefixes)
                        if (p.contains(op) && (p != op || &other < &e))
                            warn(site_, e.origin.file, e.origin.line, "endpoint.addresses",
                                 p.to_string() + " of endpoint \"" + e.name + "\" also covers endpoint \"" + other.name +
                                     "\" (" + op.to_string() + "): traffic to it is attributed to the more specific one");
                }
            }
        }
    }

    void profiles_match_devices() {
        // Each vendor and model once, in the order the inventory first names it.
        struct Model {
            std::string_view vendor, model;
            size_t devices = 0;
            Origin first;
        };
        std::vector<Model> models;
        std::map<std::pair<std::string_view, std::string_view>, size_t> model_at;
        size_t at = 0;
        for (size_t i = 0; i < site_.devices.size(); ++i) {
            const Device& d = site_.devices[i];
            if (i == 0 || d.vendor != site_.devices[i - 1].vendor || d.model != site_.devices[i - 1].model) {
                auto [it, fresh] = model_at.try_emplace({d.vendor, d.model}, models.size());
                if (fresh) models.push_back({d.vendor, d.model, 0, d.origin});
                at = it->second;
            }
            ++models[at].devices;
        }
        std::set<std::string> used;
        std::vector<std::string> device_models;  // each label once
        std::unordered_set<std::string> listed;
        std::map<std::string, size_t> unprofiled;
        std::map<std::string, Origin> first_of;
        for (const auto& m : models) {
            auto label = std::string(m.vendor) + " " + std::string(m.model);
            if (site_.find_profile(m.vendor, m.model)) {
                used.insert(label);
            } else {
                unprofiled[label] += m.devices;
                first_of.emplace(label, m.first);
            }
            if (listed.insert(label).second) device_models.push_back(label);
        }
        std::vector<std::string> profile_labels;
        for (const auto& p : site_.profiles) profile_labels.push_back(p.label());
        for (const auto& p : site_.profiles) {
            if (used.count(p.label())) continue;
            auto hint = nearest(p.label(), device_models);
            warn(site_, p.origin.file, p.origin.line, "vendor",
                 "the profile for \"" + p.label() + "\" matches no device" +
                     (hint ? " (did you mean \"" + *hint + "\", as the inventory spells it?)" : ""));
        }
        for (const auto& [label, count] : unprofiled)
            if (auto hint = nearest(label, profile_labels))
                warn(site_, first_of[label].file, first_of[label].line, "device.vendor",
                     "no profile for \"" + label + "\" (" + std::to_string(count) + " device" + (count == 1 ? "" : "s") +
                         "): did you mean the profile for \"" + *hint + "\"?");
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
            case PeerRef::Kind::tag:
                if (!tags_.count(ref.name)) error(origin, field, "unknown tag \"" + ref.name + "\" (no device or endpoint has it)");
                break;
            case PeerRef::Kind::endpoint:
                if (!site_.find_endpoint(ref.name)) error(origin, field, "unknown endpoint \"" + ref.name + "\"");
                break;
            case PeerRef::Kind::device:
                if (!names().device(ref.name)) error(origin, field, "unknown device \"" + ref.name + "\"");
                break;
            case PeerRef::Kind::any:
            case PeerRef::Kind::cidr: break;
        }
    }

    // Built at the first device reference, once the devices are all read.
    const SiteNames& names() {
        if (!names_) names_.emplace(site_);
        return *names_;
    }

    Site& site_;
    std::optional<SiteNames> names_;
    Diagnostics& diags_;
    Diagnostics* out_ = &diags_;  // where errors go
    std::set<std::string> roles_, tags_;
    std::unordered_map<std::string_view, const Segment*> segment_by_name_;
    std::vector<const Segment*> segment_of_device_;  // by device index, once devices_fit_their_segments ran
};

}  // namespace

void validate_site(Site& site, Diagnostics& diags) { Validator(site, diags).run(); }

}  // namespace wardgate::site_detail
