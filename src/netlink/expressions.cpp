// Lowers one nft::Rule to nf_tables expressions the way nftables 1.0.x lowers its text
// form (netlink_linearize.c): implicit protocol dependencies (meta nfproto before an ip
// payload, meta l4proto before tcp/udp dport), register layout of concatenations, port
// lists as anonymous sets.
#include "expressions.hpp"

#include <fmt/format.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace wardgate::netlink::detail {

namespace {

constexpr uint32_t kNetworkHeader = NFT_PAYLOAD_NETWORK_HEADER;
constexpr uint32_t kTransportHeader = NFT_PAYLOAD_TRANSPORT_HEADER;
// nftables' ids recorded in an anonymous set's "typeof" userdata.
constexpr uint32_t kExprPayload = 7;
// nftables' enum proto_desc_id.
constexpr uint32_t kProtoDescUdp = 6, kProtoDescUdplite = 7, kProtoDescTcp = 8, kProtoDescSctp = 10;

uint32_t proto_desc(uint8_t l4proto) {
    switch (l4proto) {
        case IPPROTO_TCP: return kProtoDescTcp;
        case IPPROTO_UDP: return kProtoDescUdp;
        case IPPROTO_SCTP: return kProtoDescSctp;
        case IPPROTO_UDPLITE: return kProtoDescUdplite;
    }
    throw std::invalid_argument(fmt::format("no port header for protocol {}", l4proto));
}
constexpr uint32_t kThDportField = 2;
constexpr uint32_t kInetServiceKeyType = 13;

// nftables numbers registers in 32-bit units; whole 128-bit registers are sent as such.
uint32_t reg_at(uint32_t offset32) {
    return offset32 % 4 == 0 ? NFT_REG_1 + offset32 / 4 : NFT_REG32_00 + offset32;
}

uint32_t ct_state_bit(const std::string& s) {
    if (s == "invalid") return 1;
    if (s == "established") return 1u << 1;
    if (s == "related") return 1u << 2;
    if (s == "new") return 1u << 3;
    if (s == "untracked") return 1u << 6;
    throw std::invalid_argument("unknown ct state \"" + s + "\"");
}

class Lowering {
public:
    Lowering(nftnl_rule* r, SetIds& ids, std::vector<AnonSet>& anon) : r_(r), ids_(ids), anon_(anon) {}

    void match(const nft::Match& m) {
        switch (m.kind) {
            case nft::Match::Kind::nfproto:
                nfproto(m.family);
                break;
            case nft::Match::Kind::address_set:
                need_family(m.family);
                address_load(m.family, m.dir, NFT_REG_1);
                lookup(NFT_REG_1, m.set, std::nullopt);
                break;
            case nft::Match::Kind::l4proto:
                l4proto(m.l4proto);
                break;
            case nft::Match::Kind::dport:
                dport(m);
                break;
            case nft::Match::Kind::icmp_type:
                icmp_type(m);
                break;
            case nft::Match::Kind::ct_state: {
                uint32_t mask = 0;
                for (const auto& s : m.states) mask |= ct_state_bit(s);
                ct_state(mask);
                break;
            }
        }
    }

    void concat(const nft::ConcatLookup& c) {
        need_family(c.family);
        uint32_t addr32 = c.family == Family::v4 ? 1 : 4;
        address_load(c.family, nft::AddrDir::saddr, reg_at(0));
        address_load(c.family, nft::AddrDir::daddr, reg_at(addr32));
        if (c.key == nft::ConcatLookup::Key::protocol || c.key == nft::ConcatLookup::Key::protocol_port)
            meta_load(NFT_META_L4PROTO, reg_at(2 * addr32));
        if (c.key == nft::ConcatLookup::Key::protocol_port) payload(kTransportHeader, 2, 2, reg_at(2 * addr32 + 1));
        if (c.key == nft::ConcatLookup::Key::icmp_type) payload(kTransportHeader, 0, 1, reg_at(2 * addr32));
        lookup(NFT_REG_1, c.set, std::nullopt);
    }

    void vmap(const nft::VerdictMapLookup& v) {
        need_family(v.family);
        address_load(v.family, v.dir, NFT_REG_1);
        lookup(NFT_REG_1, v.map, NFT_REG_VERDICT);
    }

    void log(const nft::Log& l) {
        auto e = make_expr("log");
        nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOG_PREFIX, l.prefix.c_str());
        if (l.group) nftnl_expr_set_u16(e.get(), NFTNL_EXPR_LOG_GROUP, l.group);
        add(std::move(e));
    }

    void counter() { add(make_expr("counter")); }

    void verdict(const nft::Verdict& v) {
        if (v.kind == nft::Verdict::Kind::none) return;
        auto e = make_expr("immediate");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        switch (v.kind) {
            case nft::Verdict::Kind::accept: nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT); break;
            case nft::Verdict::Kind::drop: nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, NF_DROP); break;
            case nft::Verdict::Kind::jump:
                if (v.chain.empty()) throw std::invalid_argument("jump without a chain");
                nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(NFT_JUMP));
                nftnl_expr_set_str(e.get(), NFTNL_EXPR_IMM_CHAIN, v.chain.c_str());
                break;
            case nft::Verdict::Kind::none: break;
        }
        add(std::move(e));
    }

private:
    void add(ExprPtr e) { nftnl_rule_add_expr(r_, e.release()); }

    void meta_load(uint32_t key, uint32_t dreg) {
        auto e = make_expr("meta");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, dreg);
        add(std::move(e));
    }

    void cmp(uint32_t op, const void* data, uint32_t len) {
        auto e = make_expr("cmp");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e.get(), NFTNL_EXPR_CMP_DATA, data, len);
        add(std::move(e));
    }

    void payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
        auto e = make_expr("payload");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, dreg);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, len);
        add(std::move(e));
    }

    void lookup(uint32_t sreg, const std::string& set, std::optional<uint32_t> dreg, uint32_t id = 0) {
        if (!id) id = ids_.id_of(set);
        auto e = make_expr("lookup");
        nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, sreg);
        if (dreg) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_DREG, *dreg);
        nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, set.c_str());
        if (id) nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SET_ID, id);
        add(std::move(e));
    }

    void nfproto(Family f) {
        uint8_t v = f == Family::v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
        meta_load(NFT_META_NFPROTO, NFT_REG_1);
        cmp(NFT_CMP_EQ, &v, 1);
        family_ = f;
    }

    void need_family(Family f) {
        if (family_ == f) return;
        if (family_) throw std::invalid_argument("a rule matches IPv4 and IPv6 addresses at once");
        nfproto(f);
    }

    void l4proto(uint8_t p) {
        meta_load(NFT_META_L4PROTO, NFT_REG_1);
        cmp(NFT_CMP_EQ, &p, 1);
        l4proto_ = p;
    }

    void address_load(Family f, nft::AddrDir d, uint32_t dreg) {
        if (f == Family::v4)
            payload(kNetworkHeader, d == nft::AddrDir::saddr ? 12 : 16, 4, dreg);
        else
            payload(kNetworkHeader, d == nft::AddrDir::saddr ? 8 : 24, 16, dreg);
    }

    void ct_state(uint32_t mask) {
        auto ct = make_expr("ct");
        nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
        add(std::move(ct));
        uint32_t zero = 0;
        auto bw = make_expr("bitwise");
        nftnl_expr_set_u32(bw.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(bw.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(bw.get(), NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
        nftnl_expr_set(bw.get(), NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
        nftnl_expr_set(bw.get(), NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
        add(std::move(bw));
        cmp(NFT_CMP_NEQ, &zero, sizeof zero);
    }

    // nft merges the type and code tests into one two-byte comparison.
    void icmp_type(const nft::Match& m) {
        need_family(m.family);
        uint8_t proto = m.family == Family::v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
        if (l4proto_ != proto) l4proto(proto);
        uint8_t value[2] = {m.icmp_type, static_cast<uint8_t>(m.icmp_code)};
        uint32_t len = m.icmp_code >= 0 ? 2 : 1;
        payload(kTransportHeader, 0, len, NFT_REG_1);
        cmp(NFT_CMP_EQ, value, len);
    }

    void dport(const nft::Match& m) {
        if (nft::port_protocol_keyword(m.l4proto).empty())
            throw std::invalid_argument(fmt::format("dport match for protocol {}", m.l4proto));
        if (m.ports.empty()) throw std::invalid_argument("dport match without ports");
        if (l4proto_ != m.l4proto) l4proto(m.l4proto);
        payload(kTransportHeader, 2, 2, NFT_REG_1);
        if (m.ports.size() == 1) {
            uint8_t lo[2] = {static_cast<uint8_t>(m.ports[0].first >> 8), static_cast<uint8_t>(m.ports[0].first)};
            uint8_t hi[2] = {static_cast<uint8_t>(m.ports[0].last >> 8), static_cast<uint8_t>(m.ports[0].last)};
            if (m.ports[0].first == m.ports[0].last) {
                cmp(NFT_CMP_EQ, lo, 2);
            } else {
                cmp(NFT_CMP_GTE, lo, 2);
                cmp(NFT_CMP_LTE, hi, 2);
            }
            return;
        }
        AnonSet a = port_set(m);
        std::string name = a.set.def.name;
        uint32_t id = a.id;
        anon_.push_back(std::move(a));
        lookup(NFT_REG_1, name, std::nullopt, id);
    }

    // { 104, 11112 } or { 443, 8443-8444 }: an anonymous constant set, as nft makes one.
    AnonSet port_set(const nft::Match& m) {
        bool interval = std::any_of(m.ports.begin(), m.ports.end(), [](const PortRange& p) { return p.first != p.last; });
        AnonSet a;
        a.id = ids_.next++;
        SetDef& d = a.set.def;
        d.name = "__set%d";
        d.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (interval ? NFT_SET_INTERVAL : 0);
        d.key_type = kInetServiceKeyType;
        d.key_len = 2;
        UdataPtr ud(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
        if (!ud) throw std::bad_alloc();
        nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_KEYBYTEORDER, 2);
        if (interval) nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
        auto* typeof_nest = nftnl_udata_nest_start(ud.get(), NFTNL_UDATA_SET_KEY_TYPEOF);
        nftnl_udata_put_u32(ud.get(), NFTNL_UDATA_SET_TYPEOF_EXPR, kExprPayload);
        auto* data_nest = nftnl_udata_nest_start(ud.get(), NFTNL_UDATA_SET_TYPEOF_DATA);
        nftnl_udata_put_u32(ud.get(), 0, proto_desc(m.l4proto));
        nftnl_udata_put_u32(ud.get(), 1, kThDportField);
        nftnl_udata_nest_end(ud.get(), data_nest);
        nftnl_udata_nest_end(ud.get(), typeof_nest);
        d.udata.assign(static_cast<const char*>(nftnl_udata_buf_data(ud.get())), nftnl_udata_buf_len(ud.get()));
        a.set.types = {nft::KeyType::inet_service};

        ElementList& e = a.set.elems;
        e.key_len = 2;
        auto be = [](uint32_t v, uint8_t* out) {
            out[0] = static_cast<uint8_t>(v >> 8);
            out[1] = static_cast<uint8_t>(v);
        };
        uint8_t k[2];
        if (!interval) {
            for (const auto& p : m.ports) {
                be(p.first, k);
                e.push(k, nullptr, 0);
            }
        } else {
            auto ports = m.ports;
            std::sort(ports.begin(), ports.end());
            if (ports.front().first != 0) {
                be(0, k);
                e.push(k, nullptr, kElemIntervalEnd);
            }
            for (const auto& p : ports) {
                be(p.first, k);
                bool open = p.last == 0xffff;
                e.push(k, nullptr, open ? kElemOpen : 0);
                if (open) continue;
                be(p.last + 1u, k);
                e.push(k, nullptr, kElemIntervalEnd);
            }
        }
        d.size = static_cast<uint32_t>(e.size());
        return a;
    }

    nftnl_rule* r_;
    SetIds& ids_;
    std::vector<AnonSet>& anon_;
    std::optional<Family> family_;
    std::optional<uint8_t> l4proto_;
};

}  // namespace

BuiltRule build_rule(const nft::Rule& r, const std::string& table, const std::string& chain, SetIds& ids) {
    BuiltRule out;
    out.rule = make_rule();
    nftnl_rule* rule = out.rule.get();
    nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain.c_str());

    Lowering l(rule, ids, out.anon);
    for (const auto& m : r.matches) l.match(m);
    if (r.concat) l.concat(*r.concat);
    if (r.vmap) l.vmap(*r.vmap);
    if (r.log) l.log(*r.log);
    if (r.counter) l.counter();
    if (r.vmap && r.verdict.kind != nft::Verdict::Kind::none)
        throw std::invalid_argument("a rule with a verdict map has a verdict of its own");
    l.verdict(r.verdict);

    if (!r.comment.empty()) {
        if (r.comment.size() >= NFTNL_UDATA_COMMENT_MAXLEN)
            throw std::invalid_argument("rule comment longer than 127 bytes: " + r.comment);
        UdataPtr ud(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
        if (!ud) throw std::bad_alloc();
        nftnl_udata_put_strz(ud.get(), NFTNL_UDATA_RULE_COMMENT, r.comment.c_str());
        nftnl_rule_set_data(rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud.get()), nftnl_udata_buf_len(ud.get()));
    }
    return out;
}

}  // namespace wardgate::netlink::detail
