// VLAN links in the kernel through libnl-route: building the requests, reading the links
// and addresses there are, carrying out a plan.
#include <fmt/format.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "wardgate/netlink/vlan.hpp"

namespace wardgate::netlink {

void LinkDeleter::operator()(rtnl_link* l) const { rtnl_link_put(l); }
void AddrDeleter::operator()(rtnl_addr* a) const { rtnl_addr_put(a); }

namespace {

struct SockDeleter {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct CacheDeleter {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct NlAddrDeleter {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using SockPtr = std::unique_ptr<nl_sock, SockDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;

// libnl error codes back to errno, for the few a caller may want to tell apart.
int to_errno(int nle) {
    switch (-nle) {
        case NLE_OPNOTSUPP: return EOPNOTSUPP;
        case NLE_EXIST: return EEXIST;
        case NLE_PERM: return EPERM;
        case NLE_NODEV: return ENODEV;
        case NLE_OBJ_NOTFOUND: return ENOENT;
        case NLE_INVAL: return EINVAL;
        case NLE_BUSY: return EBUSY;
        default: return EIO;
    }
}

std::string words(int nle) {
    if (-nle == NLE_OPNOTSUPP) return std::string(kNo8021q);
    if (-nle == NLE_PERM) return "operation not permitted (wardgate needs CAP_NET_ADMIN)";
    return nl_geterror(nle);
}

[[noreturn]] void fail(const std::string& what, int nle) {
    throw VlanError(what + ": " + words(nle), to_errno(nle));
}

SockPtr connect_route() {
    SockPtr sock(nl_socket_alloc());
    if (!sock) throw std::bad_alloc();
    if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) fail("cannot open a route netlink socket", err);
    return sock;
}

std::string address_text(nl_addr* local, int prefixlen) {
    if (!local) return {};
    int family = nl_addr_get_family(local);
    if (family != AF_INET && family != AF_INET6) return {};
    IpAddress a;
    a.family = family == AF_INET ? Family::v4 : Family::v6;
    size_t n = std::min<size_t>(nl_addr_get_len(local), family == AF_INET ? 4 : 16);
    std::memcpy(a.bytes.data(), nl_addr_get_binary_addr(local), n);
    return a.to_string() + "/" + std::to_string(prefixlen);
}

LinkPtr link_by_index(int ifindex) {
    LinkPtr l(rtnl_link_alloc());
    if (!l) throw std::bad_alloc();
    rtnl_link_set_ifindex(l.get(), ifindex);
    return l;
}

void change_link(nl_sock* sock, int ifindex, const std::string& name, const std::function<void(rtnl_link*)>& edit,
                 const std::string& what) {
    LinkPtr orig = link_by_index(ifindex);
    rtnl_link_set_name(orig.get(), name.c_str());
    LinkPtr change(rtnl_link_alloc());
    if (!change) throw std::bad_alloc();
    edit(change.get());
    if (int err = rtnl_link_change(sock, orig.get(), change.get(), 0); err < 0) fail(what, err);
}

void add_address(nl_sock* sock, int ifindex, const std::string& link, const std::string& cidr) {
    AddrPtr a = build_address_request(ifindex, cidr);
    if (int err = rtnl_addr_add(sock, a.get(), 0); err < 0) fail(fmt::format("cannot add address {} to {}", cidr, link), err);
}

void remove_address(nl_sock* sock, int ifindex, const std::string& link, const std::string& cidr) {
    AddrPtr a = build_address_request(ifindex, cidr);
    if (int err = rtnl_addr_delete(sock, a.get(), 0); err < 0)
        fail(fmt::format("cannot remove address {} from {}", cidr, link), err);
}

void delete_link(nl_sock* sock, int ifindex, const std::string& name) {
    LinkPtr l = link_by_index(ifindex);
    if (int err = rtnl_link_delete(sock, l.get()); err < 0) fail("cannot delete link " + name, err);
}

int ifindex_of(nl_sock* sock, const std::string& name) {
    rtnl_link* l = nullptr;
    if (int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &l); err < 0) return 0;
    LinkPtr owned(l);
    return rtnl_link_get_ifindex(l);
}

// Created down, marked as wardgate's, addressed, then up: a link is never up without
// its owner mark. (The kernel ignores IFLA_IFALIAS in a create request.)
void create_link(nl_sock* sock, const VlanLink& want, int trunk_ifindex) {
    LinkPtr req = build_vlan_link_request(want, trunk_ifindex);
    rtnl_link_unset_flags(req.get(), IFF_UP);
    if (int err = rtnl_link_add(sock, req.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        fail(fmt::format("cannot create VLAN link {} (segment {}, VLAN {}) on {}", want.name, want.segment, want.vlan_id,
                         want.trunk),
             err);
    int ifindex = ifindex_of(sock, want.name);
    if (!ifindex) throw VlanError("VLAN link " + want.name + " vanished right after it was created", ENODEV);
    std::string alias = want.owner_alias();
    change_link(sock, ifindex, want.name, [&](rtnl_link* c) { rtnl_link_set_ifalias(c, alias.c_str()); },
                "cannot mark " + want.name + " as wardgate's");
    for (const auto& a : want.addresses) add_address(sock, ifindex, want.name, a);
    change_link(sock, ifindex, want.name, [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); }, "cannot set " + want.name + " up");
}

}  // namespace

LinkPtr build_vlan_link_request(const VlanLink& link, int parent_ifindex) {
    LinkPtr l(rtnl_link_vlan_alloc());
    if (!l) throw std::bad_alloc();
    rtnl_link_set_name(l.get(), link.name.c_str());
    rtnl_link_set_link(l.get(), parent_ifindex);
    if (int err = rtnl_link_vlan_set_id(l.get(), link.vlan_id); err < 0) fail("VLAN id " + std::to_string(link.vlan_id), err);
    std::string alias = link.owner_alias();
    rtnl_link_set_ifalias(l.get(), alias.c_str());
    rtnl_link_set_flags(l.get(), IFF_UP);
    return l;
}

AddrPtr build_address_request(int ifindex, const std::string& cidr) {
    auto slash = cidr.find('/');
    auto ip = IpAddress::parse(cidr.substr(0, slash));
    if (!ip || slash == std::string::npos) throw std::invalid_argument("not an address/length: " + cidr);
    int len = std::stoi(cidr.substr(slash + 1));
    if (len < 0 || len > ip->bit_width()) throw std::invalid_argument("bad prefix length in " + cidr);
    int family = ip->family == Family::v4 ? AF_INET : AF_INET6;
    std::unique_ptr<nl_addr, NlAddrDeleter> local(nl_addr_build(family, ip->bytes.data(), ip->family == Family::v4 ? 4 : 16));
    if (!local) throw std::bad_alloc();
    nl_addr_set_prefixlen(local.get(), len);
    AddrPtr a(rtnl_addr_alloc());
    if (!a) throw std::bad_alloc();
    rtnl_addr_set_ifindex(a.get(), ifindex);
    rtnl_addr_set_family(a.get(), family);
    if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) fail("address " + cidr, err);
    rtnl_addr_set_prefixlen(a.get(), len);
    return a;
}

std::vector<LiveLink> read_live_links() {
    SockPtr sock = connect_route();
    nl_cache* raw = nullptr;
    if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw); err < 0) fail("cannot read the links", err);
    CachePtr links(raw);
    std::vector<LiveLink> out;
    for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
        auto* l = reinterpret_cast<rtnl_link*>(o);
        LiveLink live;
        live.ifindex = rtnl_link_get_ifindex(l);
        live.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
        live.kind = rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "";
        if (rtnl_link_is_vlan(l)) live.vlan_id = static_cast<uint16_t>(rtnl_link_vlan_get_id(l));
        live.parent_ifindex = rtnl_link_get_link(l);
        live.alias = rtnl_link_get_ifalias(l) ? rtnl_link_get_ifalias(l) : "";
        live.up = rtnl_link_get_flags(l) & IFF_UP;
        out.push_back(std::move(live));
    }
    raw = nullptr;
    if (int err = rtnl_addr_alloc_cache(sock.get(), &raw); err < 0) fail("cannot read the addresses", err);
    CachePtr addrs(raw);
    for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        if (rtnl_addr_get_scope(a) == RT_SCOPE_LINK || rtnl_addr_get_scope(a) == RT_SCOPE_HOST) continue;
        std::string text = address_text(rtnl_addr_get_local(a), rtnl_addr_get_prefixlen(a));
        if (text.empty()) continue;
        for (auto& l : out)
            if (l.ifindex == rtnl_addr_get_ifindex(a)) l.addresses.push_back(text);
    }
    for (auto& l : out) std::sort(l.addresses.begin(), l.addresses.end());
    return out;
}

VlanPlan plan_vlan_links_live(const std::vector<VlanLink>& desired, const std::string& trunk) {
    auto live = read_live_links();
    auto it = std::find_if(live.begin(), live.end(), [&](const LiveLink& l) { return l.name == trunk; });
    if (it == live.end()) throw VlanError("trunk interface " + trunk + " does not exist", ENODEV);
    return plan_vlan_links(desired, live, it->ifindex);
}

void apply_vlan_plan(const VlanPlan& plan, const std::string& trunk) {
    SockPtr sock = connect_route();
    int trunk_ifindex = ifindex_of(sock.get(), trunk);
    if (!trunk_ifindex) throw VlanError("trunk interface " + trunk + " does not exist", ENODEV);
    for (const auto& op : plan.ops) {
        const VlanLink& l = op.link;
        switch (op.kind) {
            case VlanOp::Kind::create: create_link(sock.get(), l, trunk_ifindex); break;
            case VlanOp::Kind::recreate:
                delete_link(sock.get(), op.ifindex, l.name);
                create_link(sock.get(), l, trunk_ifindex);
                break;
            case VlanOp::Kind::remove: delete_link(sock.get(), op.ifindex, l.name); break;
            case VlanOp::Kind::add_address: add_address(sock.get(), op.ifindex, l.name, op.address); break;
            case VlanOp::Kind::remove_address: remove_address(sock.get(), op.ifindex, l.name, op.address); break;
            case VlanOp::Kind::set_alias: {
                std::string alias = l.owner_alias();
                change_link(sock.get(), op.ifindex, l.name, [&](rtnl_link* c) { rtnl_link_set_ifalias(c, alias.c_str()); },
                            "cannot mark " + l.name + " as wardgate's");
                break;
            }
            case VlanOp::Kind::set_up:
                change_link(sock.get(), op.ifindex, l.name, [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); },
                            "cannot set " + l.name + " up");
                break;
        }
    }
}

}  // namespace wardgate::netlink
