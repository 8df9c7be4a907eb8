#include "desired.hpp"

#include <linux/netfilter.h>

#include <stdexcept>
#include <unordered_set>

namespace wardgate::netlink::detail {

DesiredTable build_desired(const nft::Ruleset& r, SetEncodings* encodings) {
    DesiredTable out;
    out.model.name = r.table;
    out.model.exists = true;
    SetIds ids;
    std::unordered_set<std::string> names;
    out.model.sets.reserve(r.sets.size());
    for (const auto& s : r.sets) {
        if (!names.insert(s.name).second) throw std::invalid_argument("set " + s.name + " is defined twice");
        if (!encodings) {
            out.model.sets.push_back(set_model_of(s));
        } else if (const SetModel* kept = encodings->memo->find(s.name, s)) {
            out.model.sets.push_back(*kept);
        } else {
            out.model.sets.push_back(encodings->memo->keep(s.name, s, set_model_of(s)));
        }
        uint32_t id = ids.next++;
        ids.by_name[s.name] = id;
        out.set_ids.push_back(id);
    }
    if (encodings) encodings->memo->end_round();
    for (const auto& c : r.chains) {
        ChainModel cm;
        cm.name = c.name;
        cm.base = c.base;
        if (c.base) {
            // type filter hook forward priority filter; policy drop
            cm.type = "filter";
            cm.hook = NF_INET_FORWARD;
            cm.priority = 0;
            cm.policy = NF_DROP;
        }
        out.model.chains.push_back(std::move(cm));
    }
    out.rules.resize(r.chains.size());
    out.source.resize(r.chains.size());
    for (size_t ci = 0; ci < r.chains.size(); ++ci) {
        const auto& c = r.chains[ci];
        auto& cm = out.model.chains[ci];
        for (const auto& rule : c.rules) {
            BuiltRule b = build_rule(rule, r.table, c.name, ids);
            AnonResolver resolve = [&b](const std::string&, uint32_t id) -> const SetModel* {
                for (const auto& a : b.anon)
                    if (a.id == id) return &a.set;
                return nullptr;
            };
            cm.rules.push_back(canonical_rule_text(b.rule.get(), resolve));
            cm.rule_comments.push_back(rule.comment);
            out.rules[ci].push_back(std::move(b));
            out.source[ci].push_back(&rule);
        }
    }
    return out;
}

}  // namespace wardgate::netlink::detail

namespace wardgate::netlink {

SetEncodings::SetEncodings() : memo(std::make_unique<Memo>()) {}
SetEncodings::~SetEncodings() = default;
size_t SetEncodings::reused() const { return memo->found(); }
size_t SetEncodings::encoded() const { return memo->missed(); }

}  // namespace wardgate::netlink

namespace wardgate::netlink::detail {

std::string rule_line(const nft::Rule& rule) {
    nft::Ruleset one;
    one.table = "x";
    one.chains.push_back({"c", false, {rule}});
    std::string text = nft::print_ruleset(one);
    auto at = text.find("chain c {\n");
    if (at == std::string::npos) return "";
    at = text.find_first_not_of('\t', text.find('\n', at) + 1);
    auto end = text.find('\n', at);
    return text.substr(at, end - at);
}

}  // namespace wardgate::netlink::detail
