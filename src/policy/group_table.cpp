#include "group_table.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "wardgate/core/sorted_runs.hpp"

namespace wardgate::policy_detail {

std::string identifier(std::string_view text) {
    std::string out;
    for (char c : text) {
        char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
        if (ok) {
            out += l;
        } else if (!out.empty() && out.back() != '_') {
            out += '_';
        }
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out.empty() ? "g" : out;
}

static GroupContent tidied(GroupContent c) {
    c.prefixes = collapse_prefixes(std::move(c.prefixes));
    sort_by_runs(c.members);
    c.members.erase(std::unique(c.members.begin(), c.members.end()), c.members.end());
    return c;
}

size_t GroupTable::intern(const std::string& key, AddressGroup g) {
    auto [it, fresh] = by_key_.emplace(key, groups_.size());
    if (!fresh) return it->second;
    GroupContent gathered{std::move(g.prefixes), std::move(g.members)};
    GroupContent made;
    if (!memo_) {
        made = tidied(std::move(gathered));
    } else if (const GroupContent* kept = memo_->find(key, gathered)) {
        made = *kept;
    } else {
        made = tidied(gathered);
        memo_->keep(key, std::move(gathered), made);
    }
    g.prefixes = std::move(made.prefixes);
    g.members = std::move(made.members);
    groups_.push_back(std::move(g));
    return it->second;
}

std::vector<size_t> GroupTable::finish(std::vector<AddressGroup>& out) && {
    if (memo_) memo_->end_round();
    std::vector<size_t> order(groups_.size());
    std::iota(order.begin(), order.end(), 0);
    // Key order breaks ties between equal names, so renaming is deterministic.
    std::vector<std::string> keys(groups_.size());
    for (const auto& [key, id] : by_key_) keys[id] = key;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::tie(groups_[a].name, keys[a]) < std::tie(groups_[b].name, keys[b]);
    });
    std::set<std::string> used;
    std::vector<size_t> new_index(groups_.size());
    out.clear();
    for (size_t id : order) {
        AddressGroup g = std::move(groups_[id]);
        std::string name = g.name;
        for (int n = 2; !used.insert(name).second; ++n) name = g.name + "_" + std::to_string(n);
        g.name = std::move(name);
        new_index[id] = out.size();
        out.push_back(std::move(g));
    }
    return new_index;
}

}  // namespace wardgate::policy_detail
