#pragma once
// One set per DNS name and family, shared by every rule and group that names it, so the
// gateway refreshes a name by changing the elements of its sets only.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/policy/ir.hpp"
#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::nft {

class DnsSets {
public:
    // The set for b's addresses of family f; nullopt when the name has none in f.
    std::optional<std::string> use(const DnsBinding& b, Family f);
    // Appends the sets used, in name order.
    void emit(std::vector<Set>& out) const;

private:
    std::map<std::pair<std::string, Family>, const DnsBinding*> used_;
};

}  // namespace wardgate::nft
