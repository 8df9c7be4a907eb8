#include "peer_groups.hpp"

#include <algorithm>

#include "wardgate/graph/classify.hpp"

namespace wardgate::policy_detail {

PeerGroups::PeerGroups(const AddressBook& book, GroupTable& table, const DnsAnswers* dns)
    : book_(book), site_(book.site()), table_(table), dns_(dns) {
    for (const auto& s : site_.segments) site_prefixes_.insert(site_prefixes_.end(), s.subnets.begin(), s.subnets.end());
    for (const auto& e : site_.endpoints) {
        if (e.is_internet()) continue;
        site_prefixes_.insert(site_prefixes_.end(), e.prefixes.begin(), e.prefixes.end());
        auto resolved = dns_prefixes(e);
        site_prefixes_.insert(site_prefixes_.end(), resolved.begin(), resolved.end());
    }
    site_space_ = collapse_prefixes(site_prefixes_);
    std::vector<uint32_t>* role = nullptr;
    for (uint32_t i = 0; i < site_.devices.size(); ++i) {
        const std::string& name = site_.devices[i].role;
        if (!role || name != site_.devices[i - 1].role) role = &devices_by_role_[name];
        role->push_back(i);
    }
}

const std::vector<uint32_t>& PeerGroups::devices_with_role(std::string_view role) const {
    static const std::vector<uint32_t> none;
    auto it = devices_by_role_.find(role);
    return it == devices_by_role_.end() ? none : it->second;
}

// The site's address space without the endpoint `self` (a named endpoint is on site, but
// its own prefixes must not be carved out of it).
std::vector<Prefix> PeerGroups::site_space_except(const Endpoint* self) const {
    if (!self) return site_prefixes_;
    std::vector<Prefix> out;
    for (const auto& s : site_.segments) out.insert(out.end(), s.subnets.begin(), s.subnets.end());
    for (const auto& e : site_.endpoints) {
        if (e.is_internet() || &e == self) continue;
        out.insert(out.end(), e.prefixes.begin(), e.prefixes.end());
        auto resolved = dns_prefixes(e);
        out.insert(out.end(), resolved.begin(), resolved.end());
    }
    return out;
}

// A prefix either lies inside the site's address space (then it names those addresses) or
// reaches outside it, and then it stands for its outside part only: a wide peer such as
// 0.0.0.0/0 or 10.0.0.0/8 never opens a path to a segment or a named endpoint.
std::vector<Prefix> PeerGroups::outside_part(const std::vector<Prefix>& prefixes, const Endpoint* self,
                                             bool internet) {
    // Collapsed, so that a network made up of several segments (two /24s written as their /23)
    // lies inside the site, as it does, rather than reaching beyond it and losing every address.
    auto space = collapse_prefixes(site_space_except(self));
    std::vector<Prefix> out;
    for (const auto& p : prefixes) {
        bool inside = std::any_of(space.begin(), space.end(), [&](const Prefix& s) { return s.contains(p); });
        bool covers = std::any_of(space.begin(), space.end(), [&](const Prefix& s) { return p.contains(s.address); });
        if (inside || (!covers && !internet)) {
            out.push_back(p);
            continue;
        }
        auto rest = subtract_prefixes({p}, space);
        if (!internet) carved_.insert(p.to_string());
        out.insert(out.end(), rest.begin(), rest.end());
    }
    return out;
}

std::vector<Prefix> PeerGroups::dns_prefixes(const Endpoint& e) const {
    std::vector<Prefix> out;
    if (!e.dns_only() || !dns_) return out;
    for (const auto& n : e.dns_names) {
        auto it = dns_->find(normalize_dns_name(n));
        if (it == dns_->end()) continue;
        for (const auto& a : it->second.addresses) out.push_back(Prefix::host(a));
    }
    return out;
}

// A DNS-only endpoint contributes its names; the addresses join the group at the end of build().
void PeerGroups::add_endpoint(AddressGroup& g, std::vector<DnsBinding>& dns, const Endpoint& e) {
    auto prefixes = outside_part(e.prefixes, e.is_internet() ? nullptr : &e, e.is_internet());
    g.prefixes.insert(g.prefixes.end(), prefixes.begin(), prefixes.end());
    if (!e.dns_only()) return;
    for (const auto& n : e.dns_names) {
        DnsBinding b{normalize_dns_name(n), e.name, {}, ""};
        if (dns_)
            if (auto it = dns_->find(b.name); it != dns_->end()) {
                b.addresses = it->second.addresses;
                b.resolved = resolution_minute(it->second.resolved);
            }
        dns.push_back(std::move(b));
    }
}

// Of sorted, disjoint prefixes only the last one starting at or before p can hold it.
bool PeerGroups::on_site(const Prefix& p) const {
    auto after = std::partition_point(site_space_.begin(), site_space_.end(),
                                      [&](const Prefix& s) { return s.address <= p.address; });
    return after != site_space_.begin() && std::prev(after)->contains(p);
}

bool PeerGroups::reaches_internet(size_t group) const {
    const auto& g = table_.at(group);
    if (g.any) return true;
    return std::any_of(g.prefixes.begin(), g.prefixes.end(), [&](const Prefix& p) { return !on_site(p); });
}

std::vector<Prefix> subtract_hosts(const std::vector<Prefix>& prefixes, const std::vector<IpAddress>& hosts) {
    std::vector<Prefix> remove;
    remove.reserve(hosts.size());
    for (const auto& h : hosts) remove.push_back(Prefix::host(h));
    return subtract_prefixes(prefixes, std::move(remove));
}

static std::string exclusion_key(const std::vector<uint32_t>& exclude) {
    std::string key = "|except";
    for (uint32_t i : exclude) key += std::to_string(i) + ",";
    return key;
}

std::optional<size_t> PeerGroups::resolve(const PeerRef& ref, bool internet_allowed,
                                          const std::vector<uint32_t>& exclude) {
    auto key = ref.to_string() + (internet_allowed ? "" : "|onsite");
    if (!exclude.empty()) key += exclusion_key(exclude);
    auto it = resolved_.find(key);
    if (it == resolved_.end()) it = resolved_.emplace(key, build(ref, internet_allowed, exclude)).first;
    return it->second;
}

std::optional<size_t> PeerGroups::build(const PeerRef& ref, bool internet_allowed,
                                        const std::vector<uint32_t>& exclude) {
    AddressGroup g;
    std::vector<DnsBinding> dns;
    std::string key = ref.to_string();
    bool dropped_internet = false;
    std::vector<bool> excluded_flags(site_.devices.size(), false);
    for (uint32_t i : exclude) excluded_flags[i] = true;
    auto excluded = [&](uint32_t device) { return bool(excluded_flags[device]); };
    switch (ref.kind) {
        case PeerRef::Kind::any:
            g.kind = AddressGroup::Kind::site;
            if (internet_allowed && exclude.empty()) {
                g.name = "any";
                g.label = "any address";
                g.any = true;
                return table_.intern(key, std::move(g));
            }
            if (internet_allowed) {
                // Every address but the excluded devices (subtracted below).
                g.name = "any";
                g.label = "any address";
                g.prefixes = {*Prefix::parse("0.0.0.0/0"), *Prefix::parse("::/0")};
                break;
            }
            g.name = "site";
            g.label = "any address on site";
            g.prefixes = site_prefixes_;
            key = "site";
            break;
        case PeerRef::Kind::role:
            g.kind = AddressGroup::Kind::role;
            g.name = "role_" + identifier(ref.name);
            g.label = "role " + ref.name;
            for (uint32_t i : devices_with_role(ref.name)) {
                const auto& d = site_.devices[i];
                if (excluded(i)) continue;
                g.members.push_back(d.name);
                for (const auto& a : d.addresses) g.prefixes.push_back(Prefix::host(a));
            }
            for (const auto& e : site_.endpoints) {
                if (e.role != ref.name) continue;
                if (e.is_internet() && !internet_allowed) {
                    dropped_internet = true;
                    continue;
                }
                g.members.push_back(e.name);
                add_endpoint(g, dns, e);
            }
            break;
        case PeerRef::Kind::tag:
            // Like a role, across roles: one group, so a tag adds no rules per device.
            g.kind = AddressGroup::Kind::tag;
            g.name = "tag_" + identifier(ref.name);
            g.label = "tag " + ref.name;
            for (uint32_t i = 0; i < site_.devices.size(); ++i) {
                const auto& d = site_.devices[i];
                if (!d.has_tag(ref.name) || excluded(i)) continue;
                g.members.push_back(d.name);
                for (const auto& a : d.addresses) g.prefixes.push_back(Prefix::host(a));
            }
            for (const auto& e : site_.endpoints) {
                if (!e.has_tag(ref.name)) continue;
                if (e.is_internet() && !internet_allowed) {
                    dropped_internet = true;
                    continue;
                }
                g.members.push_back(e.name);
                add_endpoint(g, dns, e);
            }
            break;
        case PeerRef::Kind::segment: {
            g.kind = AddressGroup::Kind::segment;
            g.name = "seg_" + identifier(ref.name);
            g.label = "segment " + ref.name;
            g.prefixes = site_.find_segment(ref.name)->subnets;
            break;
        }
        case PeerRef::Kind::endpoint: {
            const Endpoint* e = site_.find_endpoint(ref.name);
            if (e->is_internet() && !internet_allowed) return std::nullopt;
            g.kind = AddressGroup::Kind::endpoint;
            g.name = "ep_" + identifier(ref.name);
            g.label = "endpoint " + ref.name + (e->is_internet() ? " (outside the site)" : "");
            g.members = {e->name};
            add_endpoint(g, dns, *e);
            break;
        }
        case PeerRef::Kind::device: {
            if (!names_) names_.emplace(site_);
            const Device* d = names_->device(ref.name);
            if (excluded(static_cast<uint32_t>(names_->device_index(*d)))) return std::nullopt;
            g.kind = AddressGroup::Kind::device;
            g.name = "dev_" + identifier(ref.name);
            g.label = "device " + ref.name;
            g.members = {d->name};
            for (const auto& a : d->addresses) g.prefixes.push_back(Prefix::host(a));
            break;
        }
        case PeerRef::Kind::cidr:
            if (!internet_allowed && !on_site(ref.cidr)) return std::nullopt;
            g.kind = AddressGroup::Kind::network;
            g.name = "net_" + identifier(ref.cidr.to_string());
            g.label = "network " + ref.cidr.to_string();
            g.prefixes = outside_part({ref.cidr}, nullptr, false);
            if (g.prefixes != std::vector<Prefix>{ref.cidr}) g.label += " outside the site";
            break;
    }
    if (!exclude.empty() && ref.kind != PeerRef::Kind::role && ref.kind != PeerRef::Kind::tag &&
        ref.kind != PeerRef::Kind::device) {
        std::vector<IpAddress> hosts;
        for (uint32_t i : exclude)
            for (const auto& a : site_.devices[i].addresses)
                if (std::any_of(g.prefixes.begin(), g.prefixes.end(), [&](const Prefix& p) { return p.contains(a); }))
                    hosts.push_back(a);
        if (!hosts.empty()) {
            g.prefixes = subtract_hosts(collapse_prefixes(g.prefixes), hosts);
            g.label += " except " + std::to_string(hosts.size()) + " excluded address(es)";
        }
    }
    if (!dns.empty()) {
        std::sort(dns.begin(), dns.end(), [](const DnsBinding& a, const DnsBinding& b) { return a.name < b.name; });
        dns.erase(std::unique(dns.begin(), dns.end(), [](const DnsBinding& a, const DnsBinding& b) { return a.name == b.name; }),
                  dns.end());
        g.fixed = collapse_prefixes(g.prefixes);
        for (const auto& b : dns)
            for (const auto& a : b.addresses) g.prefixes.push_back(Prefix::host(a));
        g.dns = std::move(dns);
    }
    if (g.prefixes.empty()) return std::nullopt;
    if (dropped_internet) {
        key += "|onsite";
        g.name += "_onsite";
        g.label += " (on site)";
    }
    if (!exclude.empty()) {
        key += exclusion_key(exclude);
        if (ref.kind == PeerRef::Kind::role || ref.kind == PeerRef::Kind::tag)
            g.label += " (" + std::to_string(g.members.size()) + " eligible)";
        g.name += "_eligible";
    }
    return table_.intern(key, std::move(g));
}

}  // namespace wardgate::policy_detail
