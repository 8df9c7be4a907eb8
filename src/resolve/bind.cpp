#include "wardgate/resolve/bind.hpp"

#include <fmt/format.h>

#include <memory>
#include <set>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/resolve/cache.hpp"

namespace wardgate {

std::vector<DnsNameUse> dns_only_names(const Site& site) {
    std::vector<DnsNameUse> out;
    std::set<std::string> seen;
    for (const auto& e : site.endpoints) {
        if (!e.dns_only()) continue;
        for (const auto& n : e.dns_names)
            if (seen.insert(normalize_dns_name(n)).second) out.push_back({normalize_dns_name(n), &e});
    }
    return out;
}

DnsBindResult bind_dns_names(const Site& site, const DnsBindOptions& options) {
    DnsBindResult out;
    auto uses = dns_only_names(site);
    if (uses.empty()) return out;
    if (options.given) {
        for (const auto& u : uses) {
            auto it = options.given->find(u.name);
            if (it != options.given->end()) out.answers[u.name] = it->second;
        }
        // Names the live table does not know yet fall through to the cache and DNS.
        if (out.answers.size() == uses.size()) return out;
    }
    auto cache_file = options.cache.empty() ? default_dns_cache(site.dir) : options.cache;
    DnsAnswers cache;
    try {
        cache = read_dns_cache(cache_file);
    } catch (const InputError& e) {
        // A damaged cache is reported like any other site file, relative to the site.
        auto diags = e.diagnostics();
        for (auto& d : diags) {
            auto rel = std::filesystem::path(d.file).lexically_relative(site.dir);
            if (!rel.empty() && *rel.begin() != "..") d.file = rel.string();
        }
        throw InputError(std::move(diags));
    }
    std::string nameserver = options.nameserver.empty() ? site.dns.nameserver : options.nameserver;
    std::unique_ptr<Resolver> resolver;
    Diagnostics diags;
    bool changed = false;
    for (const auto& u : uses) {
        if (out.answers.count(u.name)) continue;
        auto cached = cache.find(u.name);
        if (cached != cache.end() && (!options.refresh || options.offline)) {
            out.answers[u.name] = cached->second;
            continue;
        }
        std::string why = "no cached answer and resolving is off (--offline)";
        if (!options.offline) {
            if (!resolver) {
                ResolverOptions ro;
                ro.nameserver = nameserver;
                try {
                    resolver = std::make_unique<Resolver>(ro);
                } catch (const std::invalid_argument& e) {
                    throw InputError(Diagnostic{"site.toml", 0, 0, "site.nameserver", e.what()});
                }
            }
            // cppcheck-suppress nullPointerRedundantCheck ; created just above when it was null
            Resolution r = resolver->resolve(u.name);
            if (r.ok()) {
                out.answers[u.name] = r.answer;
                cache[u.name] = r.answer;
                changed = true;
                continue;
            }
            why = r.message + (nameserver.empty() ? "" : " from " + nameserver);
            if (cached != cache.end()) {
                out.answers[u.name] = cached->second;
                out.warnings.push_back(fmt::format("endpoint {}: {} did not resolve ({}); using the addresses resolved {}",
                                                   u.endpoint->name, u.name, why,
                                                   resolution_minute(cached->second.resolved)));
                continue;
            }
        }
        diags.add(u.endpoint->origin.file, u.endpoint->origin.line, 0, "endpoint.dns_names",
                  fmt::format("endpoint \"{}\": cannot resolve \"{}\": {}", u.endpoint->name, u.name, why));
    }
    if (changed && options.write_cache) write_dns_cache(cache_file, cache);
    diags.throw_if_any();
    return out;
}

}  // namespace wardgate
