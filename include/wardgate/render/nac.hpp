#pragma once
// Where devices plug in: the switches ask a RADIUS server which VLAN a port gets when a device
// is plugged into it (MAC authentication bypass), and the server answers from these files.
// Rendered through templates/<target>/ like the exports.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/render/export.hpp"
#include "wardgate/render/nac_state.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

struct NacResult {
    std::vector<ExportFile> files;      // relative paths under the output directory, in a fixed order
    std::vector<std::string> warnings;  // devices that get no entry, and why
    std::vector<NacAssignment> assignments;  // what the files answer for each MAC
};

// freeradius.
const std::vector<std::string>& nac_targets();

// The MAC as the generated files key it: 12 lower-case hex digits ("001a2b3c4d5e", the form
// Cisco switches send by default) from the site's "00:1a:2b:3c:4d:5e".
std::string nac_user_name(std::string_view mac);

// The access list the switch applies to a device of the role (RADIUS Filter-Id).
std::string nac_filter_id(std::string_view role);

// One entry per device with a MAC and a VLAN (the stance's for its life-cycle stage, else its
// segment's); a DEFAULT entry for every other MAC per the site's [nac] table. Throws
// std::invalid_argument for an unknown target and std::runtime_error for a template problem.
NacResult render_nac(const Site& site, std::string_view target, const std::filesystem::path& template_dir);

}  // namespace wardgate
