#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/site/site.hpp"

namespace wardgate {

// What a load of a site keeps for the next load of the same directory (the service reloading
// after an edit): each devices.toml's text and the device each of its [[device]] blocks gave.
// The next text is compared with the kept one; blocks in the bytes both share at the start and
// the end are not parsed again. A file with anything but [[device]] tables, or with more than a
// few changed blocks, is read whole. Nothing else is kept: every other file, and every check
// across devices, is read and made again.
struct SiteLoadCache {
    struct Block {
        size_t offset = 0;             // of its [[device]] header in the file's text
        int line = 0;                  // of that header
        std::optional<Device> device;  // none when the block gave an error: parsed again next time
        int line_offset = 0;           // of the device's origin below the block's first line
    };
    struct DevicesFile {
        std::string text;  // as last read
        std::vector<std::unique_ptr<Block>> blocks;  // in the file's order, each up to the next
    };
    std::map<std::string, DevicesFile> devices_files;  // by file, relative to the site
    size_t reused = 0, parsed = 0;                      // blocks, in the last load
};

// Reads and validates a site directory (see docs/site-format.md).
// Throws InputError with every problem found, each naming file, line, column and field.
Site load_site(const std::filesystem::path& dir, SiteLoadCache* cache = nullptr);
// The same into `site` (empty), calling `while_validating` once every file has been read without
// an error, just before the cross-file checks: a caller can start reading the site on another
// thread meanwhile (the checks only read it), and must not trust what it built if this throws.
void load_site(Site& site, const std::filesystem::path& dir, SiteLoadCache* cache,
               const std::function<void()>& while_validating);

// The stage a device is in on `today` follows its dates: past its end of support (eos) it is
// end-of-support, past its end of life (eol) at least limited-support, whatever the inventory
// says. Raises the stage of each such device (keeping what the inventory said) and adds a
// warning naming it to site.warnings.
void raise_stages_by_date(Site& site, const Date& today);

}  // namespace wardgate
