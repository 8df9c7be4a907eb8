#pragma once
#include <string>
#include <vector>

#include "wardgate/site/site.hpp"

namespace wardgate {

// A profile in the profiles/*.toml format (docs/site-format.md) that load_site reads back to the same
// vendor, model, source and flows. Header lines and the profile's notes become comments.
std::string profile_to_toml(const Profile& profile, const std::vector<std::string>& header);

// A TOML basic string, quoted and escaped.
std::string toml_quote(std::string_view text);

}  // namespace wardgate
