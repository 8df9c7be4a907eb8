#include "wardgate/graph/classify.hpp"

#include <algorithm>
#include <optional>

#include "wardgate/site/site_names.hpp"

namespace wardgate {

bool peer_matches(const PeerRef& ref, const Entity& e, const AddressBook& book) {
    const Site& site = book.site();
    switch (ref.kind) {
        case PeerRef::Kind::any: return true;
        case PeerRef::Kind::cidr:
            // A prefix wider than the site stands for its outside part only.
            if (!ref.cidr.contains(e.address)) return false;
            return book.is_internet(e) || book.inside_site(ref.cidr);
        case PeerRef::Kind::segment:
            return e.segment >= 0 && site.segments[e.segment].name == ref.name;
        case PeerRef::Kind::device:
            return e.kind == Entity::Kind::device && site.devices[e.index].name == ref.name;
        case PeerRef::Kind::endpoint: {
            if (e.kind == Entity::Kind::endpoint && site.endpoints[e.index].name == ref.name) return true;
            const Endpoint* ep = site.find_endpoint(ref.name);
            if (!ep || e.kind == Entity::Kind::device) return false;
            if (ep->is_internet()) return book.is_internet(e);
            for (const auto& p : ep->prefixes)
                if (p.contains(e.address)) return true;
            return false;
        }
        case PeerRef::Kind::tag:
            if (e.kind == Entity::Kind::device) return site.devices[e.index].has_tag(ref.name);
            if (e.kind == Entity::Kind::endpoint) return site.endpoints[e.index].has_tag(ref.name);
            return false;
        case PeerRef::Kind::role:
            if (e.kind == Entity::Kind::device) return site.devices[e.index].role == ref.name;
            if (e.kind == Entity::Kind::endpoint) return site.endpoints[e.index].role == ref.name;
            return false;
    }
    return false;
}

bool declaration_covers(const DeclaredFlow& f, const Entity& device, const Entity& initiator, const Entity& responder,
                        Protocol proto, uint16_t port, Family family, const AddressBook& book) {
    if (!f.service.matches(proto, port, family)) return false;
    if (f.direction == Direction::device_initiated)
        return initiator == device && peer_matches(f.peer, responder, book);
    return responder == device && peer_matches(f.peer, initiator, book);
}

namespace {

// Each device's profile, looked up once: edges meet the same devices again and again.
class ProfileOf {
public:
    explicit ProfileOf(const Site& site) : site_(site), profiles_(site.devices.size()), known_(site.devices.size()) {}
    const Profile* operator()(uint32_t device) {
        if (!known_[device]) {
            const Device& d = site_.devices[device];
            profiles_[device] = site_.find_profile(d.vendor, d.model);
            known_[device] = true;
        }
        return profiles_[device];
    }

private:
    const Site& site_;
    std::vector<const Profile*> profiles_;
    std::vector<bool> known_;
};

}  // namespace

static void declarations_of(const Entity& device, const Entity& initiator, const Entity& responder,
                            const EdgeKey& key, const AddressBook& book, ProfileOf& profile_of,
                            DeclarationList& out) {
    if (device.kind != Entity::Kind::device) return;
    const Profile* profile = profile_of(device.index);
    if (!profile) return;
    for (const auto& f : profile->flows)
        if (declaration_covers(f, device, initiator, responder, key.protocol, key.responder_port,
                               key.initiator.family, book))
            out.push_back({profile, &f});
}

static ClassifiedEdge classify_one(ObservedEdge&& observed, const AddressBook& book, const Date& today,
                                   ProfileOf& profile_of) {
    ClassifiedEdge c;
    c.observed = std::move(observed);
    const EdgeKey& key = c.observed.key;
    c.initiator = book.resolve(key.initiator);
    c.responder = book.resolve(key.responder);
    c.unrouted = book.unrouted(key.initiator) || book.unrouted(key.responder);
    declarations_of(c.initiator, c.initiator, c.responder, key, book, profile_of, c.declared);
    declarations_of(c.responder, c.initiator, c.responder, key, book, profile_of, c.declared);
    for (const auto& a : book.site().approvals) {
        if (!a.service.matches(key.protocol, key.responder_port, key.initiator.family)) continue;
        if (!peer_matches(a.from, c.initiator, book) || !peer_matches(a.to, c.responder, book)) continue;
        (a.expired(today) ? c.expired : c.approvals).push_back(&a);
    }
    return c;
}

std::vector<ClassifiedEdge> classify_edges(std::vector<ObservedEdge> edges, const AddressBook& book, const Date& today,
                                           std::vector<ClassifiedEdge> storage) {
    std::vector<ClassifiedEdge> out = std::move(storage);
    out.clear();
    out.reserve(edges.size());
    ProfileOf profile_of(book.site());
    for (auto& observed : edges) out.push_back(classify_one(std::move(observed), book, today, profile_of));
    return out;
}

namespace {

// What classification reads of a device: its addresses (through the address book), its name
// (device peers), role, tags and vendor and model (its profile). Nothing else of it.
auto classified_fields(const Device& d) { return std::tie(d.addresses, d.name, d.role, d.tags, d.vendor, d.model); }

// Everything else classification reads of a site, besides its devices.
bool same_context(const Site& a, const Site& b) {
    return a.segments == b.segments && a.endpoints == b.endpoints && a.profiles == b.profiles &&
           a.approvals == b.approvals;
}

// The devices of an earlier site in the current one: same name, and the same as far as
// classification reads them. The others, and the current site's devices that are none of
// those, are the edit: only their addresses can belong to another party than before.
class DeviceCarry {
public:
    DeviceCarry(const Site& before, const Site& now) : index_(before.devices.size(), kChanged) {
        std::vector<bool> carried_to(now.devices.size(), false);
        std::optional<SiteNames> names;  // built at the first device that moved
        for (uint32_t old = 0; old < before.devices.size(); ++old) {
            const Device& d = before.devices[old];
            uint32_t at = kChanged;
            // Edits keep most devices where they were; a name index finds the rest.
            if (old < now.devices.size() && now.devices[old].name == d.name) {
                at = old;
            } else {
                if (!names) names.emplace(now);
                if (const Device* found = names->device(d.name)) at = static_cast<uint32_t>(names->device_index(*found));
            }
            if (at != kChanged && classified_fields(now.devices[at]) == classified_fields(d)) {
                index_[old] = at;
                carried_to[at] = true;
                // Classified as it was, but the baseline judges its edges by its stage.
                if (now.devices[at].lifecycle != d.lifecycle)
                    for (const auto& a : d.addresses) edited_.push_back(a);
            } else {
                for (const auto& a : d.addresses) edited_.push_back(a);
            }
        }
        for (uint32_t i = 0; i < now.devices.size(); ++i)
            if (!carried_to[i])
                for (const auto& a : now.devices[i].addresses) edited_.push_back(a);
        std::sort(edited_.begin(), edited_.end());
        edited_.erase(std::unique(edited_.begin(), edited_.end()), edited_.end());
    }

    // The device's index in the current site when it is there unchanged.
    std::optional<uint32_t> operator()(uint32_t old) const {
        if (index_[old] == kChanged) return std::nullopt;
        return index_[old];
    }
    // An address of a device that changed, went or came.
    bool edited(const IpAddress& a) const { return std::binary_search(edited_.begin(), edited_.end(), a); }
    const std::vector<IpAddress>& edited() const { return edited_; }

private:
    static constexpr uint32_t kChanged = UINT32_MAX;
    std::vector<uint32_t> index_;
    std::vector<IpAddress> edited_;
};

}  // namespace

std::vector<ClassifiedEdge> reclassify_edges(const std::vector<ClassifiedEdge>& before, const Site& before_site,
                                             const Date& before_today, const AddressBook& book, const Date& today,
                                             std::vector<ClassifiedEdge> storage, Reclassification* what) {
    const Site& site = book.site();
    if (what) *what = {};
    if (before_today != today || !same_context(before_site, site)) {
        std::vector<ObservedEdge> observed;
        observed.reserve(before.size());
        for (const auto& c : before) observed.push_back(c.observed);
        return classify_edges(std::move(observed), book, today, std::move(storage));
    }
    const DeviceCarry carry(before_site, site);
    if (what) *what = {true, carry.edited()};
    // The party at an address now. A device carried unchanged keeps its addresses, and no
    // other address can have become a device's but one of the edit's: only those are looked up.
    auto now_at = [&](const Entity& was) -> std::optional<Entity> {
        if (was.kind == Entity::Kind::device) {
            auto at = carry(was.index);
            if (!at) return std::nullopt;
            Entity e = was;
            e.index = *at;
            return e;
        }
        if (carry.edited(was.address)) return std::nullopt;
        return was;  // the same endpoint (the endpoints did not change) or the same unknown host
    };
    // The same party at the same address: the same device (carried unchanged), the same
    // endpoint, or the same unknown host.
    auto same_party = [&](const Entity& was, const Entity& now) {
        if (was.kind != now.kind || was.segment != now.segment) return false;
        if (now.kind == Entity::Kind::device) return carry(was.index) == now.index;
        if (now.kind == Entity::Kind::endpoint) return was.index == now.index;
        return true;
    };
    std::vector<ClassifiedEdge> out = std::move(storage);
    out.clear();
    out.reserve(before.size());
    ProfileOf profile_of(site);
    for (const auto& c : before) {
        const EdgeKey& key = c.observed.key;
        auto kept_initiator = now_at(c.initiator), kept_responder = now_at(c.responder);
        Entity initiator = kept_initiator ? *kept_initiator : book.resolve(key.initiator);
        Entity responder = kept_responder ? *kept_responder : book.resolve(key.responder);
        if (!same_party(c.initiator, initiator) || !same_party(c.responder, responder)) {
            out.push_back(classify_one(ObservedEdge(c.observed), book, today, profile_of));
            continue;
        }
        // Profiles and approvals are the same lists as before: the same positions in this site's.
        ClassifiedEdge& k = out.emplace_back(c);
        k.initiator = initiator;
        k.responder = responder;
        for (auto& d : k.declared) {
            const Profile& profile = site.profiles[static_cast<size_t>(d.profile - before_site.profiles.data())];
            d.flow = &profile.flows[static_cast<size_t>(d.flow - d.profile->flows.data())];
            d.profile = &profile;
        }
        for (auto* list : {&k.approvals, &k.expired})
            for (auto& a : *list) a = &site.approvals[static_cast<size_t>(a - before_site.approvals.data())];
    }
    return out;
}

const Deny* matching_deny(const ClassifiedEdge& c, const AddressBook& book) {
    const auto& k = c.observed.key;
    for (const auto& d : book.site().denies)
        if (peer_matches(d.from, c.initiator, book) && peer_matches(d.to, c.responder, book) &&
            (!d.service || d.service->matches(k.protocol, k.responder_port, k.initiator.family)))
            return &d;
    return nullptr;
}

}  // namespace wardgate
