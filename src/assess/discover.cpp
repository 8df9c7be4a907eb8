#include "wardgate/assess/discover.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "host_identity.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

namespace {

using assess_internal::identity_clues;
using assess_internal::IdentityClue;
using assess_internal::merge_identity;

// RFC 1918, shared address space (RFC 6598) and unique local IPv6: a host the site should
// know even when no segment declares its network.
bool is_private(const IpAddress& a) {
    static const Prefix kPrivate[] = {*Prefix::parse("10.0.0.0/8"), *Prefix::parse("172.16.0.0/12"),
                                      *Prefix::parse("192.168.0.0/16"), *Prefix::parse("100.64.0.0/10"),
                                      *Prefix::parse("fc00::/7")};
    return std::any_of(std::begin(kPrivate), std::end(kPrivate), [&](const Prefix& p) { return p.contains(a); });
}

std::string normal_mac(std::string_view mac) {
    std::string out;
    for (char c : mac) out += c == '-' ? ':' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Connection-oriented evidence needs an answer; a connectionless flow is what it is.
bool behaviour(const ClassifiedEdge& e) {
    return e.observed.stats.established || e.observed.key.protocol != Protocol::tcp;
}

class Discoverer {
public:
    Discoverer(const AddressBook& book, const DiscoverOptions& options)
        : book_(book), site_(book.site()), options_(options) {}

    Discovery run(const std::vector<ClassifiedEdge>& edges, const std::vector<ApplicationSighting>& sightings,
                  const std::vector<MacSighting>& macs) {
        for (const auto& e : edges) {
            if (e.observed.stats.established) answered_.insert(e.observed.key);
            seen_.insert(e.observed.key.initiator);
            seen_.insert(e.observed.key.responder);
            if (e.observed.key.initiator == e.observed.key.responder) continue;
            for (const Entity* end : {&e.initiator, &e.responder}) {
                if (!unknown(*end)) continue;
                DiscoveredHost& h = host(*end);
                h.first_seen = h.first_seen ? std::min(h.first_seen, e.observed.stats.first_seen) : e.observed.stats.first_seen;
                h.last_seen = std::max(h.last_seen, e.observed.stats.last_seen);
                edges_of_[end->address].push_back(&e);
            }
        }
        read_identities(sightings);
        read_macs(macs);
        for (auto& [address, h] : hosts_) {
            describe_flows(h);
            if (heard_from(h)) h.proposal = propose(h);
        }
        Discovery out;
        for (auto& [address, h] : hosts_) {
            if (heard_from(h)) out.hosts.push_back(std::move(h));
            else out.silent.push_back(address);
        }
        for (auto& [mac, client] : unaddressed_) out.unaddressed.push_back(std::move(client));
        for (const auto& d : site_.devices)
            if (std::none_of(d.addresses.begin(), d.addresses.end(), [&](const IpAddress& a) { return seen_.contains(a); }))
                out.unseen.push_back(&d);
        return out;
    }

private:
    static bool heard_from(const DiscoveredHost& h) {
        return !h.identity.empty() ||
               std::any_of(h.flows.begin(), h.flows.end(), [](const HostFlow& f) { return f.initiated || f.answered; });
    }

    bool unknown(const Entity& e) const {
        if (book_.unrouted(e.address)) return false;
        // The site's "internet" stands for everything outside it: a private address there is a
        // host in a network the site has not declared yet.
        return e.kind == Entity::Kind::host || (book_.is_internet(e) && is_private(e.address));
    }

    DiscoveredHost& host(const Entity& e) {
        auto [it, created] = hosts_.try_emplace(e.address);
        if (created) {
            it->second.address = e.address;
            it->second.segment = e.segment;
        }
        return it->second;
    }

    void read_identities(const std::vector<ApplicationSighting>& sightings) {
        std::vector<IdentityClue> clues;
        for (const auto& s : sightings)
            for (auto& c : identity_clues(s)) clues.push_back(std::move(c));
        std::stable_sort(clues.begin(), clues.end(),
                         [](const IdentityClue& a, const IdentityClue& b) { return a.first_seen < b.first_seen; });
        // What a client asks for is not what it gets: a server's DHCPACK decides.
        std::map<std::string, IpAddress> granted;
        std::set<std::string> placed;
        for (const auto& c : clues)
            if (c.granted && !c.identity.mac.empty()) granted[c.identity.mac] = *c.address;
        for (auto& c : clues) {
            if (c.needs_answer && !answered_.contains(*c.needs_answer)) continue;
            if (c.asked)
                if (auto g = granted.find(c.identity.mac); g != granted.end()) c.address = g->second;
            if (!c.identity.mac.empty() && options_.vendors) c.identity.mac_vendor = options_.vendors->lookup(c.identity.mac);
            if (!c.address) {
                auto key = c.identity.mac.empty() ? c.identity.hostname + "\n" + c.identity.mud_url : c.identity.mac;
                auto [it, created] = unaddressed_.try_emplace(key);
                if (created) it->second.first_seen = c.first_seen;
                merge_identity(it->second.identity, c.identity);
                continue;
            }
            seen_.insert(*c.address);
            if (!c.identity.mac.empty()) placed.insert(c.identity.mac);
            Entity e = book_.resolve(*c.address);
            if (!unknown(e)) continue;
            DiscoveredHost& h = host(e);
            if (!h.first_seen || c.first_seen < h.first_seen) h.first_seen = c.first_seen;
            h.last_seen = std::max(h.last_seen, c.first_seen);
            merge_identity(h.identity, c.identity);
        }
        // A client whose MAC shows with an address (known to the site or not) is that host.
        for (const auto& mac : placed) unaddressed_.erase(mac);
    }

    // A host DHCP did not name takes the MAC its frames came from (the latest, if several),
    // unless that MAC came with many addresses: a router's, the last hop of every host behind it.
    void read_macs(const std::vector<MacSighting>& macs) {
        std::map<uint64_t, std::set<IpAddress>> addresses_of;
        for (const auto& m : macs) addresses_of[m.mac].insert(m.address);
        std::map<IpAddress, const MacSighting*> latest;
        for (const auto& m : macs) {
            if (addresses_of[m.mac].size() > kRouterMacAddresses) continue;
            auto& slot = latest[m.address];
            if (!slot || m.last_seen > slot->last_seen) slot = &m;
        }
        for (const auto& [address, m] : latest) {
            auto it = hosts_.find(address);
            if (it == hosts_.end() || !it->second.identity.mac.empty()) continue;
            HostIdentity& id = it->second.identity;
            id.mac = mac_text(m->mac);
            id.mac_from_frames = true;
            if (options_.vendors) id.mac_vendor = options_.vendors->lookup(id.mac);
        }
    }

    void describe_flows(DiscoveredHost& h) {
        const Entity self = book_.resolve(h.address);
        std::map<std::tuple<bool, std::string, std::string>, size_t> index;  // (opened, service, peer) -> flow
        std::vector<std::vector<const ClassifiedEdge*>> evidence;            // per flow, its answered edges
        for (const ClassifiedEdge* e : edges_of_[h.address]) {
            const EdgeKey& k = e->observed.key;
            const bool opened = k.initiator == h.address;
            const Entity& peer = opened ? e->responder : e->initiator;
            HostFlow f;
            f.initiated = opened;
            f.peer = book_.name(peer);
            f.peer_address = peer.address;
            f.protocol = k.protocol;
            f.port = k.responder_port;
            f.service = flow_service_text(k.protocol, k.responder_port, k.initiator.family);
            auto [it, created] = index.try_emplace({opened, f.service, f.peer}, h.flows.size());
            if (created) {
                h.flows.push_back(std::move(f));
                evidence.emplace_back();
            }
            HostFlow& flow = h.flows[it->second];
            flow.connections += e->observed.stats.connections;
            flow.answered = flow.answered || e->observed.stats.established;
            flow.applications |= e->observed.stats.applications;
            if (behaviour(*e)) evidence[it->second].push_back(e);
        }
        // Which of its flows each profile declares, as if the host were that profile's device.
        std::vector<bool> declared_by_any(h.flows.size(), false);
        for (const auto& p : site_.profiles) {
            ProfileMatch m;
            m.profile = &p;
            m.announced = !h.identity.mud_url.empty() && h.identity.mud_url == p.mud_url;
            std::vector<bool> declared(h.flows.size(), false);
            for (const auto& f : p.flows) {
                bool done = false;
                for (size_t i = 0; i < h.flows.size(); ++i)
                    for (const ClassifiedEdge* e : evidence[i]) {
                        const EdgeKey& k = e->observed.key;
                        if (!declaration_covers(f, self, e->initiator, e->responder, k.protocol, k.responder_port,
                                                k.initiator.family, book_))
                            continue;
                        declared[i] = true;
                        done = true;
                    }
                ++m.declared;
                m.required += f.required;
                m.seen += done;
                m.required_seen += done && f.required;
            }
            for (size_t i = 0; i < h.flows.size(); ++i) {
                if (evidence[i].empty()) continue;
                m.undeclared += !declared[i];
                if (declared[i]) declared_by_any[i] = true;
            }
            if (m.seen || m.announced) h.matches.push_back(m);
        }
        for (size_t i = 0; i < h.flows.size(); ++i) h.undeclared_by_any += !evidence[i].empty() && !declared_by_any[i];
        std::stable_sort(h.matches.begin(), h.matches.end(), [](const ProfileMatch& a, const ProfileMatch& b) {
            if (a.announced != b.announced) return a.announced;
            return fit(a) > fit(b);
        });
        // Served before opened, then by protocol, port and peer.
        std::sort(h.flows.begin(), h.flows.end(), [](const HostFlow& a, const HostFlow& b) {
            return std::tie(a.initiated, a.protocol, a.port, a.service, a.peer) <
                   std::tie(b.initiated, b.protocol, b.port, b.service, b.peer);
        });
    }

    // How well a profile fits: the share of its required flows seen (of all, when none is
    // required), then the share of all, then the count; larger is better.
    static std::tuple<double, double, size_t, bool> fit(const ProfileMatch& m) {
        const double required = m.required ? static_cast<double>(m.required_seen) / static_cast<double>(m.required)
                                           : m.share();
        return {required, m.share(), m.seen, m.undeclared == 0};
    }

    static bool fits(const ProfileMatch& m) { return m.seen > 0 && std::get<0>(fit(m)) >= 0.5; }

    std::string role_of(const Profile& p) const {
        std::map<std::string, size_t> roles;
        for (const auto& d : site_.devices)
            if (d.vendor == p.vendor && d.model == p.model && !d.role.empty()) ++roles[d.role];
        std::string best;
        size_t count = 0;
        for (const auto& [role, n] : roles)
            if (n > count) std::tie(best, count) = std::tie(role, n);
        return best;
    }

    static std::string describe(const ProfileMatch& m) {
        std::string out = fmt::format("did {} of the {} flows {} declares", m.seen, m.declared, m.profile->label());
        if (m.required && m.required != m.declared) out += fmt::format(" ({} of {} required)", m.required_seen, m.required);
        if (m.undeclared) out += fmt::format(", and {} it does not", m.undeclared);
        return out;
    }

    DeviceProposal propose(const DiscoveredHost& h) {
        DeviceProposal p;
        p.segment = h.segment >= 0 ? site_.segments[h.segment].name : "";
        const ProfileMatch* chosen = nullptr;
        if (!h.identity.mud_url.empty()) {
            if (!h.matches.empty() && h.matches.front().announced) {
                chosen = &h.matches.front();
                p.why = "announces the MUD URL of the site's profile " + chosen->profile->label() + "; " + describe(*chosen);
            } else {
                p.why = "announces a MUD URL no [[mud]] file of the site has; ";
            }
        }
        if (!chosen) {
            std::vector<const ProfileMatch*> fitting;
            for (const auto& m : h.matches)
                if (fits(m)) fitting.push_back(&m);
            if (fitting.size() > 1 && fit(*fitting[0]) == fit(*fitting[1])) {
                p.why += "behaves like " + fitting[0]->profile->label() + " and " + fitting[1]->profile->label() +
                         " alike: " + describe(*fitting[0]) + "; " + describe(*fitting[1]);
            } else if (!fitting.empty()) {
                chosen = fitting[0];
                p.why += describe(*chosen);
            } else {
                p.why += "matches no profile";
                if (!h.matches.empty()) p.why += " (closest: " + describe(h.matches.front()) + ")";
            }
        }
        if (chosen) {
            p.profile = chosen->profile;
            p.vendor = chosen->profile->vendor;
            p.model = chosen->profile->model;
            p.role = role_of(*chosen->profile);
        }
        if (!h.identity.mac.empty())
            for (const auto& d : site_.devices)
                if (!d.mac.empty() && normal_mac(d.mac) == normal_mac(h.identity.mac)) p.same_mac_as = d.name;
        p.name = unique_name(h);
        return p;
    }

    // From what the host calls itself (DHCP hostname, else DICOM AE title), else its address;
    // lower-case letters, digits and '-', unique among devices and other proposals.
    std::string unique_name(const DiscoveredHost& h) {
        std::string from = h.identity.hostname;
        if (from.empty() && !h.identity.ae_titles.empty()) from = h.identity.ae_titles.front();
        std::string name;
        for (char c : from) {
            const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
            if (keep) name += l;
            else if (!name.empty() && name.back() != '-') name += '-';
        }
        while (!name.empty() && name.back() == '-') name.pop_back();
        if (name.empty()) {
            name = "host-";
            for (char c : h.address.to_string())
                if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                else if (name.back() != '-') name += '-';
        }
        std::string candidate = name;
        if (!site_names_) site_names_.emplace(site_);
        for (int n = 2; site_names_->device(candidate) || names_.contains(candidate); ++n) candidate = fmt::format("{}-{}", name, n);
        names_.insert(candidate);
        return candidate;
    }

    const AddressBook& book_;
    const Site& site_;
    DiscoverOptions options_;
    std::map<IpAddress, DiscoveredHost> hosts_;
    std::map<IpAddress, std::vector<const ClassifiedEdge*>> edges_of_;
    std::map<std::string, UnaddressedClient> unaddressed_;
    std::set<IpAddress> seen_;
    std::set<EdgeKey> answered_;
    std::set<std::string> names_;
    std::optional<SiteNames> site_names_;  // built at the first name proposed
};

}  // namespace

Discovery discover(const AddressBook& book, const std::vector<ClassifiedEdge>& edges,
                   const std::vector<ApplicationSighting>& sightings, const std::vector<MacSighting>& macs,
                   const DiscoverOptions& options) {
    return Discoverer(book, options).run(edges, sightings, macs);
}

}  // namespace wardgate
