#pragma once
// Owning handles for libnftnl objects.
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>
#include <new>

namespace wardgate::netlink::detail {

template <typename T, void (*Free)(const T*)>
struct NftnlDeleter {
    void operator()(T* p) const { Free(p); }
};

using RulePtr = std::unique_ptr<nftnl_rule, NftnlDeleter<nftnl_rule, nftnl_rule_free>>;
using ExprPtr = std::unique_ptr<nftnl_expr, NftnlDeleter<nftnl_expr, nftnl_expr_free>>;
using SetPtr = std::unique_ptr<nftnl_set, NftnlDeleter<nftnl_set, nftnl_set_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, NftnlDeleter<nftnl_chain, nftnl_chain_free>>;
using TablePtr = std::unique_ptr<nftnl_table, NftnlDeleter<nftnl_table, nftnl_table_free>>;
using GenPtr = std::unique_ptr<nftnl_gen, NftnlDeleter<nftnl_gen, nftnl_gen_free>>;
using UdataPtr = std::unique_ptr<nftnl_udata_buf, NftnlDeleter<nftnl_udata_buf, nftnl_udata_buf_free>>;

template <typename Ptr, typename Raw>
Ptr checked(Raw* p) {
    if (!p) throw std::bad_alloc();
    return Ptr(p);
}

inline RulePtr make_rule() { return checked<RulePtr>(nftnl_rule_alloc()); }
inline ExprPtr make_expr(const char* name) { return checked<ExprPtr>(nftnl_expr_alloc(name)); }
inline SetPtr make_set() { return checked<SetPtr>(nftnl_set_alloc()); }
inline ChainPtr make_chain() { return checked<ChainPtr>(nftnl_chain_alloc()); }
inline TablePtr make_table() { return checked<TablePtr>(nftnl_table_alloc()); }

}  // namespace wardgate::netlink::detail
