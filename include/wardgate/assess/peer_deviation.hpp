#pragma once
// Devices of one make and model should behave alike. A device that reaches a peer or a port
// that few or none of its siblings use is worth a look: "pump-icu-07 reaches 10.20.0.9
// tcp/8080; 0 of its 13 siblings do".
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "wardgate/graph/classify.hpp"

namespace wardgate {

struct PeerDeviation {
    std::string device;
    std::string group;          // "BD Alaris 8015" (vendor and model), or "role infusion-pump"
    std::string peer;           // the other end's name
    std::string service;        // "tcp/8080"
    bool device_initiated = false;
    size_t siblings = 0;        // the other devices of the group seen in any flow
    size_t siblings_alike = 0;  // how many of them have the same peer, service and direction
    uint64_t connections = 0;

    std::string text() const;   // "reaches 10.20.0.9 tcp/8080; 0 of its 13 siblings do"
};

// What each medical device's flows look like to its siblings: the other medical devices of its vendor and model
// (devices without them: of its role) seen in any flow, at least three of them. A flow is a
// deviation when fewer than a fifth of those siblings have the same peer, service and direction.
class SiblingBehaviour {
public:
    // book must outlive this.
    SiblingBehaviour(const AddressBook& book, const std::vector<ClassifiedEdge>& edges);

    // Every deviation among the edges it was built from, by device, then peer.
    std::vector<PeerDeviation> deviations() const;
    // Whether an edge of `device` (seen now, perhaps for the first time) is one.
    std::optional<PeerDeviation> deviation(uint32_t device, const ClassifiedEdge& edge, bool device_initiated) const;

private:
    using Behaviour = std::tuple<bool, std::string, std::string>;  // initiated, peer, service
    Behaviour behaviour_of(const ClassifiedEdge& c, bool device_initiated) const;
    std::optional<PeerDeviation> judge(uint32_t device, const Behaviour& b, uint64_t connections) const;

    const AddressBook& book_;
    std::map<uint32_t, std::map<Behaviour, uint64_t>> behaviours_;  // device -> behaviour -> connections
    std::vector<std::string> group_of_;                            // per device; empty: in no group
    std::map<std::string, size_t> observed_;                       // group -> members seen in any flow
    std::map<std::string, std::map<Behaviour, size_t>> sharing_;   // group -> behaviour -> members with it
};

std::vector<PeerDeviation> peer_deviations(const AddressBook& book, const std::vector<ClassifiedEdge>& edges);

}  // namespace wardgate
