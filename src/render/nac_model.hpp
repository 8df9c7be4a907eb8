#pragma once
// What every `wardgate nac` target shares: which devices get an entry and in which VLAN, and
// the access list a switch port applies inbound from the devices of one role, built from the
// compiled policy.
//
// The port access list is a coarse first filter, the gateway firewall stays the precise one:
// - one list per role and address family, the union of what the role's devices may send;
//   where a rule holds only some of the role's devices (a baseline pinhole of one pump), the
//   entries name those devices' own addresses as the source (collapsed into the fewest
//   prefixes covering exactly them), so the siblings sharing the list do not get it;
// - stateless: replies to connections the policy lets peers open towards the devices pass by
//   their source port (TCP only with `established`, UDP by port, ICMP by the reply type);
// - it cannot follow DNS names once loaded, nor say SCTP or UDP-Lite ports (those entries
//   widen to the whole protocol between the same addresses, with a warning);
// - every port needs DHCP (and for IPv6 DHCPv6 and neighbour discovery, which Cisco's implicit
//   permits cover only until an explicit final deny), then the final deny.
#include <optional>
#include <string>
#include <vector>

#include "export_common.hpp"
#include "wardgate/render/nac.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::nac_detail {

// A device that gets an entry: it has a MAC and a VLAN (its stance's, else its segment's).
struct NacEntry {
    const Device* device;
    uint16_t vlan;
    std::string vlan_from;  // "segment icu" or "stance end-of-support"
};

// By device name; the devices that get none are warnings.
std::vector<NacEntry> nac_entries(const Site& site, std::vector<std::string>& warnings);

// Names go into comment lines: a line break would end the comment.
std::string nac_comment_text(std::string_view text);

// One line of a port access list (the Cisco line every export target shares).
using PortAclLine = export_detail::CiscoAclLine;

struct PortAclBlock {
    std::string remark;  // one line, without the keyword
    std::vector<PortAclLine> lines;
};

enum class PortAclPart { deny, permit, reply, port, final_deny };

struct PortAclSection {
    PortAclPart part = PortAclPart::permit;
    PortAclBlock block;
};

struct PortAcl {
    Family family = Family::v4;
    std::vector<PortAclSection> sections;  // denies, permits, replies, what every port needs, the final deny
    size_t line_count() const;
};

struct RoleAcl {
    std::string role;
    std::vector<const Device*> devices;  // the role's devices with an entry, by name
    bool monitor = false;                // a device of the role is in monitor: the list ends in a permit
    PortAcl v4, v6;
};

// One per role with at least one entry, by role name. Warnings: entries widened to the whole
// protocol (SCTP and UDP-Lite ports).
std::vector<RoleAcl> port_acls(const export_detail::Model& m, const std::vector<NacEntry>& entries,
                               std::vector<std::string>& warnings);

// "00:0A:F7:41:80:01" from the site's "00:0a:f7:41:80:01" (Cisco ISE's form).
std::string nac_mac_upper_colons(std::string_view mac);

}  // namespace wardgate::nac_detail

namespace wardgate::nac_detail {

NacResult render_freeradius(const Site& site, const std::filesystem::path& dir);
NacResult render_ios_access(const Site& site, const export_detail::Model& m, const std::filesystem::path& dir,
                            const NacOptions& options);
NacResult render_ise(const Site& site, const export_detail::Model& m, const std::filesystem::path& dir);

}  // namespace wardgate::nac_detail
