#pragma once
// Explains each observed edge by what the site declares: a manufacturer profile, an
// approval, or nothing (observed only, unexplained).
#include <vector>

#include "wardgate/flows/flow_record.hpp"
#include "wardgate/graph/address_book.hpp"

namespace wardgate {

struct Declaration {
    const Profile* profile = nullptr;
    const DeclaredFlow* flow = nullptr;
};

struct ClassifiedEdge {
    ObservedEdge observed;
    Entity initiator;
    Entity responder;
    std::vector<Declaration> declared;            // profiles on either end that declare it
    std::vector<const Approval*> approvals;       // active approvals covering it
    std::vector<const Approval*> expired;         // approvals that covered it but have expired
    bool unrouted = false;                        // link-local, multicast or broadcast: never forwarded

    bool explained() const { return !declared.empty() || !approvals.empty(); }
};

bool peer_matches(const PeerRef& ref, const Entity& e, const AddressBook& book);

// Does this declared flow of `device` cover a connection from initiator to responder?
// port: as Service::matches takes it (for ICMP the message).
bool declaration_covers(const DeclaredFlow& f, const Entity& device, const Entity& initiator, const Entity& responder,
                        Protocol proto, uint16_t port, Family family, const AddressBook& book);

// The site's first deny that matches this edge (its ends and service), if any.
const Deny* matching_deny(const ClassifiedEdge& c, const AddressBook& book);

std::vector<ClassifiedEdge> classify_edges(std::vector<ObservedEdge> edges, const AddressBook& book,
                                           const Date& today);

}  // namespace wardgate
