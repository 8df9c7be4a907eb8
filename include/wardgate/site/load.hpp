#pragma once
#include <filesystem>

#include "wardgate/site/site.hpp"

namespace wardgate {

// Reads and validates a site directory (see docs/site-format.md).
// Throws InputError with every problem found, each naming file, line, column and field.
Site load_site(const std::filesystem::path& dir);

}  // namespace wardgate
