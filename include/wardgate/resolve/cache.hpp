#pragma once
// The resolution cache, SITE/.wardgate/dns.json: the last answer for every DNS name, so
// plans and exports are reproducible without the network and the gateway starts with the
// last-known addresses.
//
// {"names": {"update.vendor.example":
//     {"addresses": ["203.0.113.5"], "ttl": 300, "resolved": "2026-11-22T10:15:07Z"}}}
#include <filesystem>

#include "wardgate/resolve/dns.hpp"

namespace wardgate {

std::filesystem::path default_dns_cache(const std::filesystem::path& site_dir);  // SITE/.wardgate/dns.json

// A missing file is an empty cache. Throws InputError naming the file, the byte offset or
// the field of a malformed entry.
DnsAnswers read_dns_cache(const std::filesystem::path& file);
// Written to a temporary file and renamed over the old one: readers see the old or the new.
void write_dns_cache(const std::filesystem::path& file, const DnsAnswers& answers);

}  // namespace wardgate
