#include "nft_dns_sets.hpp"

#include <algorithm>

#include "wardgate/render/nft.hpp"

namespace wardgate {

std::string nft_dns_set(const std::string& name, Family f) {
    std::string out = "dns_";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        out += ok ? c : '_';
    }
    return out + (f == Family::v4 ? "_v4" : "_v6");
}

namespace nft {

std::optional<std::string> DnsSets::use(const DnsBinding& b, Family f) {
    if (std::none_of(b.addresses.begin(), b.addresses.end(), [&](const IpAddress& a) { return a.family == f; }))
        return std::nullopt;
    used_.try_emplace({b.name, f}, &b);
    return nft_dns_set(b.name, f);
}

void DnsSets::emit(std::vector<Set>& out) const {
    for (const auto& [key, b] : used_) {
        Family f = key.second;
        // The comment stays the same when the addresses change, so a refresh only sends elements;
        // when they were resolved goes into the text form only.
        Set s{nft_dns_set(b->name, f), {f == Family::v4 ? KeyType::ipv4_addr : KeyType::ipv6_addr}, false, false,
              ("DNS " + b->name).substr(0, 127), {}, {}};
        s.note = b->text();
        for (const auto& a : b->addresses)
            if (a.family == f) s.elements.push_back({{{ElementPart::Kind::prefix, Prefix::host(a), 0}}, {}});
        out.push_back(std::move(s));
    }
}

}  // namespace nft
}  // namespace wardgate
