#pragma once
// What the fuzz targets share: a small valid site in a private temporary directory, into
// which each run writes one file, and the check that bad input ends in an InputError.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/flow_record.hpp"

namespace wardgate::fuzz {

// A private copy of tests/data/fuzz-site (site.toml, devices.toml, assets.csv, a profile,
// policy.toml), made on first use and removed when the process exits.
const std::filesystem::path& base_site();

// Replaces one file of the base site (a path relative to it) with data, then loads the site
// and, when it loads, writes the inventory patch that moves every device (segment --propose's).
// A clean InputError is the expected outcome of bad input; anything else escapes and is a finding.
void load_site_with(const std::string& relative, const uint8_t* data, size_t size);

// Prints the times of what a flow reader accepted, as `wardgate flows` and the plan do: a time
// a reader lets through must convert to a date without overflow.
void show_times(const FlowRecord& record);
void show_times(const Aggregator& edges);

}  // namespace wardgate::fuzz
