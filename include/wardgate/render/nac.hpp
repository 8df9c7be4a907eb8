#pragma once
// Where devices plug in: the switches ask a RADIUS server which VLAN a port gets when a device
// is plugged into it (MAC authentication bypass), and the server answers from these files.
// Rendered through templates/<target>/ like the exports.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/policy/ir.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/render/nac_state.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

struct NacResult {
    std::vector<ExportFile> files;      // relative paths under the output directory, in a fixed order
    std::vector<std::string> warnings;  // devices that get no entry, and why
    std::vector<NacAssignment> assignments;  // what the files answer for each MAC
};

// What the switch configuration (ios-access) needs to know of the site's RADIUS servers.
struct NacOptions {
    std::string radius_group = "wardgate";  // the switch's RADIUS server group
    std::optional<IpAddress> coa_client;    // the RADIUS server allowed to send Change of Authorization
};

// freeradius, ios-access, ise.
const std::vector<std::string>& nac_targets();
// ios-access and ise write the roles' access lists, which come from the compiled policy.
bool nac_target_needs_policy(std::string_view target);

// The MAC as the generated files key it: 12 lower-case hex digits ("001a2b3c4d5e", the form
// Cisco switches send by default) from the site's "00:1a:2b:3c:4d:5e".
std::string nac_user_name(std::string_view mac);

// The switch's IPv4 access list for a device of the role ("wg-infusion-pump"); the IPv6 one
// adds "-v6".
std::string nac_acl_name(std::string_view role);
// What the RADIUS reply names it by (Filter-Id): Cisco switches take "NAME.in", the list
// applied inbound on the port.
std::string nac_filter_id(std::string_view role);

// One entry per device with a MAC and a VLAN (the stance's for its life-cycle stage, else its
// segment's); a DEFAULT entry for every other MAC per the site's [nac] table. Throws
// std::invalid_argument for an unknown target or one that needs the policy, and
// std::runtime_error for a template problem.
NacResult render_nac(const Site& site, std::string_view target, const std::filesystem::path& template_dir);
// Every target; ios-access and ise also write each role's port access list from `policy`
// (compiled from `site`).
NacResult render_nac(const Site& site, const Policy& policy, std::string_view target,
                     const std::filesystem::path& template_dir, const NacOptions& options = {});

}  // namespace wardgate
