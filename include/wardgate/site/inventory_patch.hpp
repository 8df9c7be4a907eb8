#pragma once
// Changes to the inventory files (devices.toml, asset CSV exports) written as a unified diff
// that a person reviews and applies with `patch -d SITE -p1`: only the values that change are
// rewritten; comments, order, quoting and line endings stay as they are.
#include <string>
#include <vector>

#include "wardgate/site/site.hpp"

namespace wardgate {

// A device's new segment and addresses; its origin says which file and line hold it.
struct DeviceEdit {
    std::string device;
    std::string segment;
    std::vector<IpAddress> addresses;
};

struct InventoryPatch {
    std::string diff;                  // "--- a/devices.toml" / "+++ b/devices.toml" hunks, by file
    std::vector<std::string> by_hand;  // edits it could not write, each with its device, place and why
};

// Throws InputError when an inventory file cannot be read.
InventoryPatch inventory_patch(const Site& site, const std::vector<DeviceEdit>& edits);

}  // namespace wardgate
