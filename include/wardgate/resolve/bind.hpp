#pragma once
// Compile time: the addresses of every DNS-only endpoint (dns_names without addresses),
// from the resolution cache or, for names it lacks (or with `refresh`), from DNS.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/resolve/dns.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

struct DnsBindOptions {
    std::string nameserver;           // overrides the site's; empty: the site's, else the system's
    bool refresh = false;             // ask DNS even for names the cache holds
    bool offline = false;             // never ask DNS: the cache must hold every name
    std::filesystem::path cache;      // empty: SITE/.wardgate/dns.json
    bool write_cache = true;          // record new answers in the cache
    std::optional<DnsAnswers> given;  // answers to use as they are (the gateway's live table)
};

struct DnsBindResult {
    DnsAnswers answers;                 // every DNS-only endpoint's names
    std::vector<std::string> warnings;  // names that did not resolve now and kept their cached answer
};

// Every DNS name of a DNS-only endpoint, with the endpoint that lists it.
struct DnsNameUse {
    std::string name;
    const Endpoint* endpoint = nullptr;
};
std::vector<DnsNameUse> dns_only_names(const Site& site);

// Throws InputError naming the endpoint, the name and site.toml's line for each name that
// neither resolves nor has a cached answer.
DnsBindResult bind_dns_names(const Site& site, const DnsBindOptions& options);

}  // namespace wardgate
