#pragma once
#include <filesystem>

#include "wardgate/site/site.hpp"

namespace wardgate {

// Reads and validates a site directory (see docs/site-format.md).
// Throws InputError with every problem found, each naming file, line, column and field.
Site load_site(const std::filesystem::path& dir);

// The stage a device is in on `today` follows its dates: past its end of support (eos) it is
// end-of-support, past its end of life (eol) at least limited-support, whatever the inventory
// says. Raises the stage of each such device (keeping what the inventory said) and adds a
// warning naming it to site.warnings.
void raise_stages_by_date(Site& site, const Date& today);

}  // namespace wardgate
