#include "wardgate/assess/peer_deviation.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace wardgate {

std::string PeerDeviation::text() const {
    return fmt::format("{} {} {}; {} of its {} sibling{} {}", device_initiated ? "reaches" : "is reached by", peer,
                       service, siblings_alike, siblings, siblings == 1 ? "" : "s", siblings_alike == 1 ? "does" : "do");
}

namespace {

// Siblings seen at all: with fewer, every flow of one device is "unlike the others", and
// siblings never seen say nothing about what is normal.
constexpr size_t kMinSiblings = 3;

// Medical devices of one model run the same software for the same job; workstations and
// servers of one model do whatever their users do, so they are in no group.
std::string group_name(const Device& d) {
    if (!d.clinical()) return "";
    if (!d.vendor.empty() || !d.model.empty()) return d.vendor + " " + d.model;
    return d.role.empty() ? "" : "role " + d.role;
}

}  // namespace

SiblingBehaviour::SiblingBehaviour(const AddressBook& book, const std::vector<ClassifiedEdge>& edges) : book_(book) {
    const Site& site = book.site();
    for (const auto& d : site.devices) group_of_.push_back(group_name(d));
    for (const auto& c : edges) {
        if (c.unrouted) continue;
        if (c.initiator.kind == Entity::Kind::device)
            behaviours_[c.initiator.index][behaviour_of(c, true)] += c.observed.stats.connections;
        if (c.responder.kind == Entity::Kind::device)
            behaviours_[c.responder.index][behaviour_of(c, false)] += c.observed.stats.connections;
    }
    for (const auto& [device, seen] : behaviours_) {
        ++observed_[group_of_[device]];
        for (const auto& [b, n] : seen) ++sharing_[group_of_[device]][b];
    }
}

SiblingBehaviour::Behaviour SiblingBehaviour::behaviour_of(const ClassifiedEdge& c, bool device_initiated) const {
    const auto& k = c.observed.key;
    return {device_initiated, book_.name(device_initiated ? c.responder : c.initiator),
            flow_service_text(k.protocol, k.responder_port, k.initiator.family)};
}

std::optional<PeerDeviation> SiblingBehaviour::judge(uint32_t device, const Behaviour& b, uint64_t connections) const {
    if (device >= group_of_.size()) return std::nullopt;
    const std::string& group = group_of_[device];
    auto observed = observed_.find(group);
    if (group.empty() || observed == observed_.end()) return std::nullopt;
    auto mine = behaviours_.find(device);
    const size_t siblings = observed->second - (mine != behaviours_.end() ? 1 : 0);
    if (siblings < kMinSiblings) return std::nullopt;
    size_t alike = 0;
    if (auto g = sharing_.find(group); g != sharing_.end())
        if (auto s = g->second.find(b); s != g->second.end()) alike = s->second;
    if (mine != behaviours_.end() && mine->second.count(b)) --alike;
    if (alike * 5 >= siblings) return std::nullopt;
    return PeerDeviation{book_.site().devices[device].name, group, std::get<1>(b), std::get<2>(b), std::get<0>(b),
                         siblings, alike, connections};
}

std::vector<PeerDeviation> SiblingBehaviour::deviations() const {
    std::vector<PeerDeviation> out;
    for (const auto& [device, seen] : behaviours_)
        for (const auto& [b, n] : seen)
            if (auto d = judge(device, b, n)) out.push_back(std::move(*d));
    std::sort(out.begin(), out.end(), [](const PeerDeviation& a, const PeerDeviation& b) {
        return std::tie(a.device, a.peer, a.service, a.device_initiated) <
               std::tie(b.device, b.peer, b.service, b.device_initiated);
    });
    return out;
}

std::optional<PeerDeviation> SiblingBehaviour::deviation(uint32_t device, const ClassifiedEdge& edge,
                                                         bool device_initiated) const {
    return judge(device, behaviour_of(edge, device_initiated), edge.observed.stats.connections);
}

std::vector<PeerDeviation> peer_deviations(const AddressBook& book, const std::vector<ClassifiedEdge>& edges) {
    return SiblingBehaviour(book, edges).deviations();
}

}  // namespace wardgate
