// check_drift: the live table against the desired ruleset, in readable differences.
#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "delta.hpp"
#include "desired.hpp"
#include "readback.hpp"
#include "wardgate/netlink/nft_apply.hpp"

namespace wardgate::netlink {

using namespace detail;

namespace {

constexpr size_t kMaxElementLines = 50;  // per set and direction; the rest is counted
constexpr size_t kMaxLcsCells = 4'000'000;

std::string set_word(const SetDef& d) { return (d.flags & NFT_SET_MAP ? "map " : "set ") + d.name; }

std::string def_difference(const SetDef& want, const SetDef& have) {
    std::vector<std::string> what;
    if (want.flags != have.flags) what.push_back(fmt::format("flags {:#x}, expected {:#x}", have.flags, want.flags));
    if (want.key_type != have.key_type || want.key_len != have.key_len) what.push_back("key type");
    if (want.data_type != have.data_type || (want.data_type != NFT_DATA_VERDICT && want.data_len != have.data_len))
        what.push_back("data type");
    if (want.field_lens != have.field_lens) what.push_back("concatenation fields");
    if (want.size != have.size) what.push_back("size");
    if (want.udata != have.udata) what.push_back("userdata (comment or type information)");
    return fmt::format("{}", fmt::join(what, ", "));
}

void element_lines(Drift& d, const std::string& set, const std::vector<std::string>& items, const char* what) {
    for (size_t i = 0; i < items.size() && i < kMaxElementLines; ++i)
        d.differences.push_back(fmt::format("{}: {} {}", set, items[i], what));
    if (items.size() > kMaxElementLines)
        d.differences.push_back(fmt::format("{}: {} more elements {}", set, items.size() - kMaxElementLines, what));
}

std::string live_rule_text(const ChainModel& c, size_t i) {
    const std::string& comment = c.rule_comments[i];
    return comment.empty() ? c.rules[i] : "comment \"" + comment + "\"";
}

// Longest common subsequence of the two rule lists; matched[i] = index in live or -1.
std::vector<long> match_rules(const std::vector<std::string>& want, const std::vector<std::string>& have) {
    const size_t n = want.size(), m = have.size();
    std::vector<long> matched(n, -1);
    size_t pre = 0;
    while (pre < n && pre < m && want[pre] == have[pre]) matched[pre] = static_cast<long>(pre), ++pre;
    size_t suf = 0;
    while (suf < n - pre && suf < m - pre && want[n - 1 - suf] == have[m - 1 - suf]) {
        matched[n - 1 - suf] = static_cast<long>(m - 1 - suf);
        ++suf;
    }
    const size_t a = n - pre - suf, b = m - pre - suf;
    if (a == 0 || b == 0) return matched;
    if (a * b > kMaxLcsCells) {
        for (size_t i = 0; i < std::min(a, b); ++i)
            if (want[pre + i] == have[pre + i]) matched[pre + i] = static_cast<long>(pre + i);
        return matched;
    }
    std::vector<uint32_t> dp((a + 1) * (b + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return dp[i * (b + 1) + j]; };
    for (size_t i = a; i-- > 0;)
        for (size_t j = b; j-- > 0;)
            at(i, j) = want[pre + i] == have[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    for (size_t i = 0, j = 0; i < a && j < b;) {
        if (want[pre + i] == have[pre + j]) {
            matched[pre + i] = static_cast<long>(pre + j);
            ++i, ++j;
        } else if (at(i + 1, j) >= at(i, j + 1)) {
            ++i;
        } else {
            ++j;
        }
    }
    return matched;
}

void rule_lines(Drift& d, const ChainModel& want, const std::vector<const nft::Rule*>& source, const ChainModel& have) {
    const std::vector<long> matched = match_rules(want.rules, have.rules);
    const size_t n = want.rules.size(), m = have.rules.size();
    // next_anchor[i]: the live index of the first matched rule at or after i.
    std::vector<size_t> next_anchor(n + 1, m);
    for (size_t i = n; i-- > 0;) next_anchor[i] = matched[i] >= 0 ? static_cast<size_t>(matched[i]) : next_anchor[i + 1];
    std::vector<bool> used(m, false);
    size_t j = 0;  // first live rule not yet consumed
    for (size_t i = 0; i < n; ++i) {
        if (matched[i] >= 0) {
            used[static_cast<size_t>(matched[i])] = true;
            j = static_cast<size_t>(matched[i]) + 1;
            continue;
        }
        std::string text = i < source.size() ? rule_line(*source[i]) : want.rules[i];
        // An unmatched live rule in the same gap: the same rule, changed.
        if (j < next_anchor[i + 1]) {
            d.differences.push_back(fmt::format("chain {}: rule {} differs: expected `{}`, the kernel has `{}`", want.name,
                                                i + 1, text, live_rule_text(have, j)));
            used[j++] = true;
        } else {
            d.differences.push_back(fmt::format("chain {}: rule {} missing: `{}`", want.name, i + 1, text));
        }
    }
    for (size_t k = 0; k < m; ++k)
        if (!used[k])
            d.differences.push_back(fmt::format("chain {}: rule at position {} is not in the policy: `{}`", want.name, k + 1,
                                                live_rule_text(have, k)));
}

}  // namespace

Drift check_drift(const nft::Ruleset& desired_rules, SetEncodings* encodings) {
    DesiredTable desired = build_desired(desired_rules, encodings);
    SocketLease lease;
    NfSocket& sock = *lease;
    TableModel live = read_table(sock, desired.model.name);
    Drift d;
    if (!live.exists) {
        d.table_missing = true;
        return d;
    }
    std::unordered_map<std::string_view, const SetModel*> live_sets;
    for (const auto& s : live.sets) live_sets.emplace(s.def.name, &s);
    for (const auto& s : desired.model.sets) {
        auto it = live_sets.find(s.def.name);
        std::string word = set_word(s.def);
        if (it == live_sets.end()) {
            d.differences.push_back(word + ": missing");
            continue;
        }
        const SetModel& l = *it->second;
        live_sets.erase(it);
        if (!(l.def == s.def)) {
            d.differences.push_back(word + ": definition differs (" + def_difference(s.def, l.def) + ")");
            if (l.def.key_len != s.def.key_len || l.def.flags != s.def.flags) continue;
        }
        ElementDiff diff = element_diff(s, l);
        element_lines(d, word, diff.missing, "missing");
        element_lines(d, word, diff.extra, "not in the policy");
    }
    for (const auto& s : live.sets)
        if (live_sets.count(s.def.name)) d.differences.push_back(set_word(s.def) + ": not in the policy");

    for (size_t ci = 0; ci < desired.model.chains.size(); ++ci) {
        const ChainModel& c = desired.model.chains[ci];
        const ChainModel* l = live.find_chain(c.name);
        if (!l) {
            d.differences.push_back("chain " + c.name + ": missing");
            continue;
        }
        if (!l->same_definition(c))
            d.differences.push_back("chain " + c.name + ": definition differs (type, hook, priority or policy)");
        rule_lines(d, c, desired.source[ci], *l);
    }
    for (const auto& c : live.chains)
        if (!desired.model.find_chain(c.name)) d.differences.push_back("chain " + c.name + ": not in the policy");
    return d;
}

}  // namespace wardgate::netlink
