#pragma once
// Turns a PeerRef into an address group, honouring whether the internet may be reached.
#include <map>
#include <optional>
#include <set>

#include "group_table.hpp"
#include "wardgate/graph/address_book.hpp"
#include "wardgate/resolve/dns.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate::policy_detail {

class PeerGroups {
public:
    // `dns`: the answers for DNS-only endpoints' names (may be null: such endpoints have no address).
    PeerGroups(const AddressBook& book, GroupTable& table, const DnsAnswers* dns = nullptr);

    // nullopt when nothing is left (e.g. only the internet, which the stance forbids).
    // `exclude` drops those managed devices from role, segment, network and any groups.
    std::optional<size_t> resolve(const PeerRef& ref, bool internet_allowed,
                                  const std::vector<uint32_t>& exclude = {});
    // True when the group reaches beyond the site's segments and named non-internet endpoints.
    bool reaches_internet(size_t group) const;
    // The site's devices with this role, in inventory order.
    const std::vector<uint32_t>& devices_with_role(std::string_view role) const;

private:
    std::optional<size_t> build(const PeerRef& ref, bool internet_allowed, const std::vector<uint32_t>& exclude);
    bool on_site(const Prefix& p) const;
    void add_endpoint(AddressGroup& g, std::vector<DnsBinding>& dns, const Endpoint& e);
    std::vector<Prefix> site_space_except(const Endpoint* self) const;
    std::vector<Prefix> outside_part(const std::vector<Prefix>& prefixes, const Endpoint* self, bool internet);
    std::vector<Prefix> dns_prefixes(const Endpoint& e) const;
    const AddressBook& book_;
    const Site& site_;
    std::optional<SiteNames> names_;  // built at the first device reference
    GroupTable& table_;
    const DnsAnswers* dns_;
    std::vector<Prefix> site_prefixes_;  // segments and non-internet endpoints
    std::vector<Prefix> site_space_;     // the same collapsed: sorted and disjoint, for on_site()
    // Each role's devices: a role group or an approval's check reads these, not every device.
    std::map<std::string, std::vector<uint32_t>, std::less<>> devices_by_role_;
    std::map<std::string, std::optional<size_t>> resolved_;  // every device of a model asks the same
    std::set<std::string> carved_;  // wide prefixes that lost the site's addresses

public:
    // Prefixes written wider than the site that were cut down to their outside part.
    const std::set<std::string>& carved() const { return carved_; }
};

std::vector<Prefix> subtract_hosts(const std::vector<Prefix>& prefixes, const std::vector<IpAddress>& hosts);

}  // namespace wardgate::policy_detail
