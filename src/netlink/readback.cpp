#include "readback.hpp"

#include <arpa/inet.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <system_error>

#include "attrs.hpp"
#include "expressions.hpp"

namespace wardgate::netlink::detail {

namespace {

constexpr int kDumpRetries = 5;

struct RequestBuffer {
    alignas(nlmsghdr) char data[8192];
};

nlmsghdr* request_header(RequestBuffer& b, uint16_t type, uint16_t family, uint16_t flags) {
    return nftnl_nlmsg_build_hdr(b.data, type, family, flags, 0);
}

// Attributes after the nfgenmsg header, indexed by type.
template <size_t N>
void parse_attrs(const nlmsghdr* nlh, const nlattr* (&tb)[N]) {
    std::memset(tb, 0, sizeof tb);
    for_each_attr(nlh, [&](const nlattr* attr) {
        uint16_t type = mnl_attr_get_type(attr);
        if (type < N) tb[type] = attr;
    });
}

template <size_t N>
void parse_nested(const nlattr* nest, const nlattr* (&tb)[N]) {
    std::memset(tb, 0, sizeof tb);
    for_each_nested(nest, [&](const nlattr* attr) {
        uint16_t type = mnl_attr_get_type(attr);
        if (type < N) tb[type] = attr;
    });
}

// NFTA_DATA_VALUE inside a key attribute, copied to exactly len bytes.
void data_value(const nlattr* nest, uint8_t* out, uint32_t len) {
    std::memset(out, 0, len);
    for_each_nested(nest, [&](const nlattr* attr) {
        if (mnl_attr_get_type(attr) != NFTA_DATA_VALUE) return;
        std::memcpy(out, mnl_attr_get_payload(attr), std::min<uint32_t>(len, mnl_attr_get_payload_len(attr)));
    });
}

void parse_element(const nlattr* elem, ElementList& out) {
    const nlattr* tb[NFTA_SET_ELEM_MAX + 1];
    parse_nested(elem, tb);
    uint8_t key[kMaxKeyLen], key_end[kMaxKeyLen];
    if (tb[NFTA_SET_ELEM_KEY])
        data_value(tb[NFTA_SET_ELEM_KEY], key, out.key_len);
    else
        std::memset(key, 0, out.key_len);
    if (tb[NFTA_SET_ELEM_KEY_END])
        data_value(tb[NFTA_SET_ELEM_KEY_END], key_end, out.key_len);
    else
        std::memcpy(key_end, key, out.key_len);
    uint8_t flags = 0;
    if (tb[NFTA_SET_ELEM_FLAGS]) flags = static_cast<uint8_t>(ntohl(mnl_attr_get_u32(tb[NFTA_SET_ELEM_FLAGS])) & 0x7f);
    if (tb[NFTA_SET_ELEM_USERDATA]) {
        auto* ud = static_cast<const uint8_t*>(mnl_attr_get_payload(tb[NFTA_SET_ELEM_USERDATA]));
        uint32_t len = mnl_attr_get_payload_len(tb[NFTA_SET_ELEM_USERDATA]);
        for (uint32_t off = 0; off + 2 <= len && off + 2 + ud[off + 1] <= len; off += 2 + ud[off + 1]) {
            if (ud[off] == NFTNL_UDATA_SET_ELEM_FLAGS && ud[off + 1] == 4) {
                uint32_t v;
                std::memcpy(&v, ud + off + 2, 4);
                if (v & NFTNL_SET_ELEM_F_INTERVAL_OPEN) flags |= kElemOpen;
            }
        }
    }
    int32_t verdict = 0;
    std::string chain;
    if (tb[NFTA_SET_ELEM_DATA]) {
        const nlattr* data[NFTA_DATA_MAX + 1];
        parse_nested(tb[NFTA_SET_ELEM_DATA], data);
        if (data[NFTA_DATA_VERDICT]) {
            const nlattr* v[NFTA_VERDICT_MAX + 1];
            parse_nested(data[NFTA_DATA_VERDICT], v);
            if (v[NFTA_VERDICT_CODE]) verdict = static_cast<int32_t>(ntohl(mnl_attr_get_u32(v[NFTA_VERDICT_CODE])));
            if (v[NFTA_VERDICT_CHAIN]) chain = mnl_attr_get_str(v[NFTA_VERDICT_CHAIN]);
        }
    }
    out.push(key, key_end, flags, verdict, std::move(chain));
}

SetDef parse_set_def(const nftnl_set* s) {
    SetDef d;
    auto u32 = [&](uint16_t a) { return nftnl_set_is_set(s, a) ? nftnl_set_get_u32(s, a) : 0u; };
    if (const char* n = nftnl_set_get_str(s, NFTNL_SET_NAME)) d.name = n;
    d.flags = u32(NFTNL_SET_FLAGS);
    d.key_type = u32(NFTNL_SET_KEY_TYPE);
    d.key_len = u32(NFTNL_SET_KEY_LEN);
    d.data_type = u32(NFTNL_SET_DATA_TYPE);
    d.data_len = u32(NFTNL_SET_DATA_LEN);
    d.size = u32(NFTNL_SET_DESC_SIZE);
    uint32_t len = 0;
    if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
        auto* p = static_cast<const char*>(nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len));
        if (p) d.udata.assign(p, len);
    }
    if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
        auto* p = static_cast<const uint8_t*>(nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &len));
        if (p && len > 1) d.field_lens.assign(p, p + len);
    }
    return d;
}

// Runs a dump, retrying from scratch when the kernel reports it was interrupted.
template <typename Reset, typename OnMsg>
void dump(NfSocket& sock, const std::function<nlmsghdr*(RequestBuffer&)>& build, Reset reset, OnMsg on_msg) {
    for (int attempt = 0;; ++attempt) {
        reset();
        RequestBuffer buf;
        nlmsghdr* nlh = build(buf);
        if (sock.request(nlh, on_msg)) return;
        if (attempt + 1 >= kDumpRetries)
            throw std::runtime_error("the ruleset kept changing while it was being read; try again");
    }
}

}  // namespace

uint32_t read_genid(NfSocket& sock) {
    RequestBuffer buf;
    nlmsghdr* nlh = request_header(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);
    uint32_t genid = 0;
    bool got = false;
    sock.request(nlh, [&](const nlmsghdr* m) {
        GenPtr gen(nftnl_gen_alloc());
        if (!gen) throw std::bad_alloc();
        if (nftnl_gen_nlmsg_parse(m, gen.get()) == 0 && nftnl_gen_is_set(gen.get(), NFTNL_GEN_ID)) {
            genid = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
            got = true;
        }
    });
    if (!got) throw std::runtime_error("the kernel did not report the nftables generation id");
    return genid;
}

bool table_exists(NfSocket& sock, const std::string& table) {
    RequestBuffer buf;
    nlmsghdr* nlh = request_header(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK);
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str());
    try {
        sock.request(nlh, [](const nlmsghdr*) {});
    } catch (const std::system_error& e) {
        if (e.code().value() == ENOENT) return false;
        throw;
    }
    return true;
}

std::vector<LiveRule> read_rules(NfSocket& sock, const std::string& table) {
    std::vector<LiveRule> rules;
    dump(
        sock,
        [&](RequestBuffer& b) {
            nlmsghdr* nlh = request_header(b, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP);
            mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table.c_str());
            return nlh;
        },
        [&] { rules.clear(); },
        [&](const nlmsghdr* m) {
            RulePtr r = make_rule();
            if (nftnl_rule_nlmsg_parse(m, r.get()) < 0) throw std::runtime_error("unreadable rule from the kernel");
            const char* t = nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE);
            if (!t || table != t) return;
            const char* c = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
            rules.push_back({c ? c : "", std::move(r)});
        });
    return rules;
}

namespace {

TableModel read_table_once(NfSocket& sock, const std::string& table) {
    TableModel model;
    model.name = table;
    model.exists = table_exists(sock, table);
    if (!model.exists) return model;

    dump(
        sock,
        [&](RequestBuffer& b) {
            nlmsghdr* nlh = request_header(b, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP);
            mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
            return nlh;
        },
        [&] { model.chains.clear(); },
        [&](const nlmsghdr* m) {
            ChainPtr c = make_chain();
            if (nftnl_chain_nlmsg_parse(m, c.get()) < 0) throw std::runtime_error("unreadable chain from the kernel");
            const char* t = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
            if (!t || table != t) return;
            ChainModel cm;
            cm.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
            cm.base = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM);
            if (cm.base) {
                cm.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
                cm.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
                if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY)) cm.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
                if (const char* type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE)) cm.type = type;
            }
            model.chains.push_back(std::move(cm));
        });

    std::vector<SetModel> sets;
    dump(
        sock,
        [&](RequestBuffer& b) {
            nlmsghdr* nlh = request_header(b, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP);
            mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table.c_str());
            return nlh;
        },
        [&] { sets.clear(); },
        [&](const nlmsghdr* m) {
            SetPtr s = make_set();
            if (nftnl_set_nlmsg_parse(m, s.get()) < 0) throw std::runtime_error("unreadable set from the kernel");
            const char* t = nftnl_set_get_str(s.get(), NFTNL_SET_TABLE);
            if (!t || table != t) return;
            SetModel sm;
            sm.def = parse_set_def(s.get());
            sm.types = decode_key_type(sm.def.key_type, sm.def.key_len);
            sm.elems.key_len = sm.def.key_len;
            sm.elems.ranged = (sm.def.flags & NFT_SET_CONCAT) && (sm.def.flags & NFT_SET_INTERVAL);
            sm.elems.map = sm.def.flags & NFT_SET_MAP;
            sets.push_back(std::move(sm));
        });

    for (auto& s : sets) {
        if (s.def.key_len == 0 || s.def.key_len > kMaxKeyLen) continue;
        dump(
            sock,
            [&](RequestBuffer& b) {
                nlmsghdr* nlh = request_header(b, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP);
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
                mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s.def.name.c_str());
                return nlh;
            },
            [&] {
                ElementList fresh;
                fresh.key_len = s.elems.key_len;
                fresh.ranged = s.elems.ranged;
                fresh.map = s.elems.map;
                s.elems = std::move(fresh);
            },
            [&](const nlmsghdr* m) {
                const nlattr* tb[NFTA_SET_ELEM_LIST_MAX + 1];
                parse_attrs(m, tb);
                if (!tb[NFTA_SET_ELEM_LIST_ELEMENTS]) return;
                for_each_nested(tb[NFTA_SET_ELEM_LIST_ELEMENTS], [&](const nlattr* elem) { parse_element(elem, s.elems); });
            });
    }

    std::map<std::string, const SetModel*> anon;
    for (const auto& s : sets)
        if (s.def.anonymous()) anon[s.def.name] = &s;
    AnonResolver resolve = [&](const std::string& name, uint32_t) -> const SetModel* {
        auto it = anon.find(name);
        return it == anon.end() ? nullptr : it->second;
    };
    for (auto& r : read_rules(sock, table)) {
        for (auto& c : model.chains) {
            if (c.name != r.chain) continue;
            c.rules.push_back(canonical_rule_text(r.rule.get(), resolve));
            c.rule_comments.push_back(rule_comment(r.rule.get()));
            break;
        }
    }
    for (auto& s : sets)
        if (!s.def.anonymous()) model.sets.push_back(std::move(s));
    return model;
}

}  // namespace

TableModel read_table(NfSocket& sock, const std::string& table) {
    // Each dump is consistent on its own; the generation id around them makes the whole
    // read consistent.
    for (int attempt = 0;; ++attempt) {
        uint32_t before = read_genid(sock);
        TableModel model = read_table_once(sock, table);
        if (read_genid(sock) == before) return model;
        if (attempt + 1 >= kDumpRetries)
            throw std::runtime_error("the ruleset kept changing while it was being read; try again");
    }
}

}  // namespace wardgate::netlink::detail
