#include "wardgate/graph/classify.hpp"

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
                            std::vector<Declaration>& out) {
    if (device.kind != Entity::Kind::device) return;
    const Profile* profile = profile_of(device.index);
    if (!profile) return;
    for (const auto& f : profile->flows)
        if (declaration_covers(f, device, initiator, responder, key.protocol, key.responder_port,
                               key.initiator.family, book))
            out.push_back({profile, &f});
}

std::vector<ClassifiedEdge> classify_edges(std::vector<ObservedEdge> edges, const AddressBook& book, const Date& today) {
    std::vector<ClassifiedEdge> out;
    out.reserve(edges.size());
    ProfileOf profile_of(book.site());
    for (auto& observed : edges) {
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
        out.push_back(std::move(c));
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
