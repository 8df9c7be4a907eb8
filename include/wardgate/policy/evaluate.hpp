#pragma once
// Answers "would the policy let this new connection through, and why?" the way the
// rendered ruleset does: explicit denies, then allow rules, then baseline pinholes,
// then the default deny of the segment.
#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wardgate/core/prefix_lookup.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate {

struct Verdict {
    // not_new: an ICMP message that cannot start a connection (a reply, an error, ...): the
    // gateway drops it as invalid before any rule, in every mode.
    enum class By { deny_rule, allow_rule, pinhole, default_deny, not_new };
    bool allowed = false;
    By by = By::default_deny;
    size_t rule = 0;                 // index into Policy::rules for deny_rule / allow_rule
    size_t pinhole = 0;              // index into Policy::pinholes
    std::string segment;             // default deny: whose drop chain logs it ("" = outside the site)
    bool monitored = false;          // default deny in monitor (site, segment, role, device): logged but accepted
    std::string monitored_device;    // the device in monitor that let it through ("" when its segment or the site did)
    std::optional<size_t> trial_deny;  // a deny on trial matched first: it logged the packet and let it go on
};

class Evaluator {
public:
    explicit Evaluator(const Policy& policy);
    // An evaluator that answers only for connections between the addresses in `only` (sorted):
    // it indexes just the group prefixes that hold one of them, so a few addresses cost little
    // on a policy of a hundred thousand.
    Evaluator(const Policy& policy, const std::vector<IpAddress>& only);
    // Whichever of the two indexes less: restricted to `only` (sorted) when searching every
    // group for each of them costs less than indexing every prefix.
    static Evaluator for_addresses(const Policy& policy, const std::vector<IpAddress>& only);
    Verdict evaluate(const IpAddress& src, const IpAddress& dst, Protocol proto, uint16_t port) const;
    // Indexes of the groups that contain the address, sorted.
    std::vector<uint32_t> groups_of(const IpAddress& a) const;

private:
    struct Boundary {
        uint64_t hi = 0, lo = 0;  // where this elementary range starts: IpAddress's high and low words
        uint32_t offset = 0;             // into ids_
        uint32_t count = 0;
    };
    void index(const std::vector<IpAddress>* only);
    void index_family(Family f, const std::vector<IpAddress>* only);
    // The groups an address lies in, without a copy: the elementary range's (sorted), and
    // those that hold every address.
    struct Membership {
        std::span<const uint32_t> range;
        std::span<const uint32_t> any;
        bool holds(uint32_t g) const {
            return std::binary_search(range.begin(), range.end(), g) || std::binary_search(any.begin(), any.end(), g);
        }
    };
    Membership membership(const IpAddress& a) const;

    const Policy& policy_;
    std::vector<Boundary> v4_, v6_;
    V4Buckets v4_buckets_;  // a lookup searches one /16's boundaries, not the whole table
    PrefixOwners segments_;
    std::vector<uint32_t> ids_;
    std::vector<uint32_t> any_groups_;
    std::vector<std::vector<size_t>> allow_by_src_;  // allow rule indexes per source group
    std::vector<size_t> denies_;
    std::map<IpAddress, size_t> monitored_;  // address -> index into Policy::monitored
};

}  // namespace wardgate
