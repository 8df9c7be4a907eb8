#pragma once
// VLAN links on the gateway's trunk (libnl-route): one link "<trunk>.<vlan>" per segment
// with a VLAN id, carrying the segment's gateway addresses.
//
// Idempotent: the desired links are compared with the links the kernel has and only the
// differences are carried out. wardgate owns a link when its ifalias is
// "wardgate:<segment>"; a link it does not own is never changed or deleted, even when it
// has the name wardgate wants (that is reported as a conflict).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "wardgate/policy/ir.hpp"
#include "wardgate/site/site.hpp"

struct rtnl_link;
struct rtnl_addr;

namespace wardgate::netlink {

inline constexpr std::string_view kVlanOwnerPrefix = "wardgate:";
inline constexpr std::string_view kNo8021q = "kernel has no 802.1Q VLAN support (module 8021q)";

// A VLAN link as wardgate wants it.
struct VlanLink {
    std::string name;                    // "<trunk>.<vlan>", at most 15 bytes
    std::string segment;
    std::string trunk;
    uint16_t vlan_id = 0;
    std::vector<std::string> addresses;  // "10.110.0.1/24", "fd00:110::1/64", sorted

    std::string owner_alias() const { return std::string(kVlanOwnerPrefix) + segment; }
};

// The desired links of a site: segments without a VLAN have none. Throws
// std::invalid_argument when a link name would be longer than the kernel allows.
std::vector<VlanLink> desired_vlan_links(const Site& site, const std::string& trunk);
// Only the segments the site's [[gateway]] `gateway` routes (all of them when it is empty).
std::vector<VlanLink> desired_vlan_links(const Site& site, const std::string& trunk, std::string_view gateway);
// The links of a compiled policy: for a gateway's slice, the segments it routes (what a gateway
// following published versions has, without the site's files).
std::vector<VlanLink> desired_vlan_links(const Policy& policy, const std::string& trunk);

// A link as the kernel has it (only what the plan needs).
struct LiveLink {
    int ifindex = 0;
    std::string name;
    std::string kind;          // "vlan", "veth", ... ; empty for plain devices
    uint16_t vlan_id = 0;      // kind "vlan"
    int parent_ifindex = 0;    // IFLA_LINK
    std::string alias;         // ifalias
    bool up = false;
    std::vector<std::string> addresses;  // global addresses "a/len" (link-local ones are left out)

    bool owned() const { return alias.rfind(kVlanOwnerPrefix, 0) == 0; }
};

struct VlanOp {
    enum class Kind {
        create,          // new link with its addresses
        remove,          // an owned link no segment wants any more
        recreate,        // owned, but wrong VLAN id, parent or type: delete and create
        add_address,
        remove_address,
        set_alias,       // owned by wardgate for another segment
        set_up,
    };
    Kind kind = Kind::create;
    VlanLink link;            // the desired link (for remove: name and segment of the live one)
    int ifindex = 0;          // the live link, for everything but create
    std::string address;      // add_address / remove_address
    std::string reason;       // in words, for the plan printout
};
std::string_view to_string(VlanOp::Kind k);

struct VlanPlan {
    std::vector<VlanOp> ops;
    std::vector<std::string> unchanged;  // names of links already right
    std::vector<std::string> conflicts;  // links wardgate wants but does not own: left alone
    bool changes() const { return !ops.empty(); }
};

// Pure: what to do so that `live` (every link in the namespace) holds `desired`.
// trunk_ifindex is the ifindex of the trunk all desired links sit on.
VlanPlan plan_vlan_links(const std::vector<VlanLink>& desired, const std::vector<LiveLink>& live, int trunk_ifindex);
std::string print_vlan_plan(const VlanPlan& plan);

// libnl objects, freed with rtnl_link_put / rtnl_addr_put.
struct LinkDeleter {
    void operator()(rtnl_link* l) const;
};
struct AddrDeleter {
    void operator()(rtnl_addr* a) const;
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;

// The RTM_NEWLINK request: type vlan, id, parent ifindex, name, ifalias, up.
LinkPtr build_vlan_link_request(const VlanLink& link, int parent_ifindex);
// The RTM_NEWADDR request for one "address/len" on ifindex. Throws std::invalid_argument.
AddrPtr build_address_request(int ifindex, const std::string& cidr);

// Thrown when the kernel refuses a request; what() says which link and why in words.
class VlanError : public std::runtime_error {
public:
    VlanError(const std::string& what, int error) : std::runtime_error(what), error_(error) {}
    int error() const { return error_; }  // errno
private:
    int error_;
};

// Reads every link of the current network namespace and its addresses.
std::vector<LiveLink> read_live_links();
// Reads the kernel state and plans; throws VlanError when the trunk does not exist.
VlanPlan plan_vlan_links_live(const std::vector<VlanLink>& desired, const std::string& trunk);
// Carries out the plan in order; stops at the first refusal (VlanError). Without the 8021q
// module the message ends in kNo8021q.
void apply_vlan_plan(const VlanPlan& plan, const std::string& trunk);

}  // namespace wardgate::netlink
