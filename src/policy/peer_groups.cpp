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
void PeerGroups::add_endpoint(AddressGroup& g, std::vector<DnsBinding>& dns, const Endpoint& e) const {
    g.prefixes.insert(g.prefixes.end(), e.prefixes.begin(), e.prefixes.end());
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

bool PeerGroups::on_site(const Prefix& p) const {
    return std::any_of(site_prefixes_.begin(), site_prefixes_.end(), [&](const Prefix& s) { return s.contains(p); });
}

bool PeerGroups::reaches_internet(size_t group) const {
    const auto& g = table_.at(group);
    if (g.any) return true;
    return std::any_of(g.prefixes.begin(), g.prefixes.end(), [&](const Prefix& p) { return !on_site(p); });
}

// Splits prefixes so that none of `hosts` is covered any more.
std::vector<Prefix> subtract_hosts(const std::vector<Prefix>& prefixes, std::vector<IpAddress> hosts) {
    std::sort(hosts.begin(), hosts.end());
    std::vector<Prefix> out;
    std::vector<Prefix> work(prefixes.rbegin(), prefixes.rend());
    while (!work.empty()) {
        Prefix p = work.back();
        work.pop_back();
        auto it = std::lower_bound(hosts.begin(), hosts.end(), p.address);
        bool hit = it != hosts.end() && p.contains(*it);
        if (!hit) {
            out.push_back(p);
        } else if (!p.is_host()) {
            Prefix low{p.address, static_cast<uint8_t>(p.length + 1)};
            Prefix high = low;
            high.address.bytes[p.length / 8] |= static_cast<uint8_t>(0x80 >> (p.length % 8));
            work.push_back(high);
            work.push_back(low);
        }
    }
    return out;
}

std::optional<size_t> PeerGroups::resolve(const PeerRef& ref, bool internet_allowed,
                                          const std::vector<uint32_t>& exclude) {
    if (!exclude.empty()) return build(ref, internet_allowed, exclude);
    auto key = ref.to_string() + (internet_allowed ? "" : "|onsite");
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
            g.name = "site";
            g.label = "any address on site";
            g.prefixes = site_prefixes_;
            key = "site";
            break;
        case PeerRef::Kind::role:
            g.kind = AddressGroup::Kind::role;
            g.name = "role_" + identifier(ref.name);
            g.label = "role " + ref.name;
            for (uint32_t i = 0; i < site_.devices.size(); ++i) {
                const auto& d = site_.devices[i];
                if (d.role != ref.name || excluded(i)) continue;
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
            g.label = "endpoint " + ref.name;
            g.members = {e->name};
            add_endpoint(g, dns, *e);
            break;
        }
        case PeerRef::Kind::device: {
            const Device* d = site_.find_device(ref.name);
            if (excluded(static_cast<uint32_t>(d - site_.devices.data()))) return std::nullopt;
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
            g.prefixes = {ref.cidr};
            break;
    }
    if (!exclude.empty() && ref.kind != PeerRef::Kind::role && ref.kind != PeerRef::Kind::device) {
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
        // The excluded devices follow from the reference and the stances, so a count
        // and a digest of the list identify the group without a key as long as the list.
        size_t digest = 0;
        for (uint32_t i : exclude) digest = digest * 1000003u + i;
        key += "|except" + std::to_string(exclude.size()) + ":" + std::to_string(digest);
        if (ref.kind == PeerRef::Kind::role) g.label += " (" + std::to_string(g.members.size()) + " eligible)";
        g.name += "_eligible";
    }
    return table_.intern(key, std::move(g));
}

}  // namespace wardgate::policy_detail
