#pragma once
// The site side of MUD files: [[mud]] entries of site.toml, read into manufacturer profiles.
#include <toml++/toml.h>

#include <string>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::site_detail {

// One [[mud]] table of site.toml, stored in site.mud.
void read_mud_reference(Site& site, const toml::table& table, const std::string& file, Diagnostics& diags);
// Reads every [[mud]] file into a profile; needs the devices and endpoints already loaded.
void load_mud_profiles(Site& site, Diagnostics& diags);

}  // namespace wardgate::site_detail
