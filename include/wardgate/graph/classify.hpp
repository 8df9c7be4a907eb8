#pragma once
// Explains each observed edge by what the site declares: a manufacturer profile, an
// approval, or nothing (observed only, unexplained).
#include <boost/container/small_vector.hpp>

#include <memory>
#include <vector>

#include "wardgate/flows/flow_record.hpp"
#include "wardgate/graph/address_book.hpp"

namespace wardgate {

struct Declaration {
    const Profile* profile = nullptr;
    const DeclaredFlow* flow = nullptr;
};

using DeclarationList = boost::container::small_vector<Declaration, 2>;
using ApprovalList = boost::container::small_vector<const Approval*, 1>;

struct ClassifiedEdge {
    ObservedEdge observed;
    Entity initiator;
    Entity responder;
    // Inline up to the usual counts: a reload copies every carried edge, and a heap block per
    // list per edge made that copy (and freeing the edges it replaced) most of classification.
    DeclarationList declared;  // profiles on either end that declare it
    ApprovalList approvals;    // active approvals covering it
    ApprovalList expired;      // approvals that covered it but have expired
    bool unrouted = false;     // link-local, multicast or broadcast: never forwarded

    bool explained() const { return !declared.empty() || !approvals.empty(); }
};

// Classified edges that do not change once made: copies share them (a pipeline and the
// service's flow cache hold the same hundreds of thousands of edges once).
class SharedEdges {
public:
    SharedEdges() : v_(std::make_shared<const std::vector<ClassifiedEdge>>()) {}
    SharedEdges(std::vector<ClassifiedEdge> v) : v_(std::make_shared<const std::vector<ClassifiedEdge>>(std::move(v))) {}
    SharedEdges(const SharedEdges&) = default;
    SharedEdges& operator=(const SharedEdges&) = default;
    // Moving shares too: a list moved from stays a valid list.
    SharedEdges(SharedEdges&& o) noexcept : v_(o.v_) {}
    SharedEdges& operator=(SharedEdges&& o) noexcept {
        v_ = o.v_;
        return *this;
    }
    ~SharedEdges() = default;
    operator const std::vector<ClassifiedEdge>&() const { return *v_; }
    auto begin() const { return v_->begin(); }
    auto end() const { return v_->end(); }
    size_t size() const { return v_->size(); }
    bool empty() const { return v_->empty(); }
    const ClassifiedEdge& operator[](size_t i) const { return (*v_)[i]; }
    const ClassifiedEdge& front() const { return v_->front(); }
    const ClassifiedEdge& back() const { return v_->back(); }

private:
    std::shared_ptr<const std::vector<ClassifiedEdge>> v_;
};

bool peer_matches(const PeerRef& ref, const Entity& e, const AddressBook& book);

// Does this declared flow of `device` cover a connection from initiator to responder?
// port: as Service::matches takes it (for ICMP the message).
bool declaration_covers(const DeclaredFlow& f, const Entity& device, const Entity& initiator, const Entity& responder,
                        Protocol proto, uint16_t port, Family family, const AddressBook& book);

// The site's first deny that matches this edge (its ends and service), if any.
const Deny* matching_deny(const ClassifiedEdge& c, const AddressBook& book);

// `storage`: an empty vector whose capacity the result takes over (a caller on another thread
// allocates the large block where it wants it: see run_pipeline).
std::vector<ClassifiedEdge> classify_edges(std::vector<ObservedEdge> edges, const AddressBook& book,
                                           const Date& today, std::vector<ClassifiedEdge> storage = {});

// What reclassify_edges did. carried: the edges are the earlier list's observations in the same
// order, each classified as before unless a party of it is among the edited devices; false when
// every edge was classified again. edited: with carried, the addresses (old and new) of the
// devices that came, went, or changed in anything classification or the observed baseline reads
// of them (addresses, name, role, tags, vendor, model, life-cycle stage), sorted.
struct Reclassification {
    bool carried = false;
    std::vector<IpAddress> edited;
};

// classify_edges of the observations in `before`, which were classified against `before_site`
// on `before_today`, after an inventory edit: an edge whose two ends are the parties they were
// (the same device as far as classification reads it, the same endpoint, the same unknown host)
// keeps its classification; the others are classified again. When anything else it reads changed
// (segments, endpoints, profiles, approvals, the day), every edge is classified again.
std::vector<ClassifiedEdge> reclassify_edges(const std::vector<ClassifiedEdge>& before, const Site& before_site,
                                             const Date& before_today, const AddressBook& book, const Date& today,
                                             std::vector<ClassifiedEdge> storage = {}, Reclassification* what = nullptr);

// Where a list of classified edges came from, for a compilation that remembers what it made of
// an earlier list (BaselineMemo). Lists are numbered by whoever keeps them (serve's flow cache);
// 0 is no number.
struct EdgeLineage {
    uint64_t list = 0;  // this list
    uint64_t from = 0;  // the list it was reclassified from, with Reclassification::carried
    std::vector<IpAddress> edited;  // Reclassification::edited
};

}  // namespace wardgate
