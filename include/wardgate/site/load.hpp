#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "wardgate/site/site.hpp"

namespace wardgate {

// What a load of a site keeps for the next load of the same directory (the service reloading
// after an edit): the device each [[device]] block of a devices.toml gave, with the block's text.
// A block whose text is unchanged is not parsed again; a file with anything but [[device]]
// tables, or with more than a few changed blocks, is read whole. Nothing else is kept: every
// other file, and every check across devices, is read and made again.
struct SiteLoadCache {
    struct Block {
        std::string text;     // from its [[device]] header to the next
        Device device;
        int line_offset = 0;  // of the device's origin below the block's first line
    };
    using Blocks = std::vector<std::unique_ptr<Block>>;  // in the file's order; moved as pointers
    std::map<std::string, Blocks> device_blocks;  // by devices file, relative to the site
    size_t reused = 0, parsed = 0;                // blocks, in the last load
};

// Reads and validates a site directory (see docs/site-format.md).
// Throws InputError with every problem found, each naming file, line, column and field.
Site load_site(const std::filesystem::path& dir, SiteLoadCache* cache = nullptr);

// The stage a device is in on `today` follows its dates: past its end of support (eos) it is
// end-of-support, past its end of life (eol) at least limited-support, whatever the inventory
// says. Raises the stage of each such device (keeping what the inventory said) and adds a
// warning naming it to site.warnings.
void raise_stages_by_date(Site& site, const Date& today);

}  // namespace wardgate
