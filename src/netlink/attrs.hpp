#pragma once
// Iterating netlink attributes from C++ (libmnl's mnl_attr_for_each macros assign void*).
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstddef>

namespace wardgate::netlink::detail {

template <typename F>
void for_each_attr(const char* p, const char* end, F&& f) {
    while (end - p >= static_cast<std::ptrdiff_t>(sizeof(nlattr))) {
        auto* a = reinterpret_cast<const nlattr*>(p);
        if (a->nla_len < sizeof(nlattr) || a->nla_len > end - p) break;
        f(a);
        p += MNL_ALIGN(a->nla_len);
    }
}

// The attributes of an nf_tables message (after its nfgenmsg header).
template <typename F>
void for_each_attr(const nlmsghdr* nlh, F&& f) {
    auto* p = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
    for_each_attr(p, reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len, f);
}

template <typename F>
void for_each_nested(const nlattr* nest, F&& f) {
    auto* p = static_cast<const char*>(mnl_attr_get_payload(nest));
    for_each_attr(p, p + mnl_attr_get_payload_len(nest), f);
}

}  // namespace wardgate::netlink::detail
