#include "errors.hpp"

#include "attrs.hpp"
#include "desired.hpp"

#include <fmt/format.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>

namespace wardgate::netlink {

bool ApplyError::concurrent_change() const {
    for (const auto& e : errors_)
        if (e.error == ERESTART) return true;
    return false;
}

namespace detail {

namespace {

std::string hint(int err, MessageInfo::Kind kind, uint32_t genid) {
    switch (err) {
        case ERESTART:
            return fmt::format("the nftables ruleset changed since generation {} was read (someone else changed it); "
                               "nothing was applied, read it again and retry",
                               genid);
        case ENOENT:
            return kind == MessageInfo::Kind::elements ? "the set or the element does not exist"
                                                       : "it refers to a table, chain, set or map that does not exist";
        case EEXIST:
            return kind == MessageInfo::Kind::elements ? "the element, or an interval overlapping it, is already in the set"
                                                       : "it already exists";
        case ENOTEMPTY: return "it overlaps an interval already in the set";
        case EINVAL: return "the kernel found it malformed (a key of the wrong length, a bad attribute)";
        case ERANGE: return "a value is out of range";
        case EOPNOTSUPP: return "this kernel does not support it";
        case ELOOP: return "the jumps between chains form a loop";
        case EPERM: return "changing nftables needs CAP_NET_ADMIN";
        case E2BIG: return "it is too large";
        case ENOSPC: return "the set is full";
        case EBUSY: return "it is in use";
        case ENOBUFS: return "some errors could not be read";
    }
    return "";
}

// Which attribute of a nested list holds byte offset off of the message; -1 if none.
int nested_index(const nlmsghdr* nlh, const nlattr* nest, uint32_t off) {
    const char* base = reinterpret_cast<const char*>(nlh);
    int k = 0, found = -1;
    for_each_nested(nest, [&](const nlattr* attr) {
        uint32_t start = static_cast<uint32_t>(reinterpret_cast<const char*>(attr) - base);
        if (found < 0 && off >= start && off < start + attr->nla_len) found = k;
        ++k;
    });
    return found;
}

const nlattr* top_attr(const nlmsghdr* nlh, uint16_t type) {
    const nlattr* found = nullptr;
    for_each_attr(nlh, [&](const nlattr* attr) {
        if (!found && mnl_attr_get_type(attr) == type) found = attr;
    });
    return found;
}

// The element of an element message the kernel pointed at, in words.
std::string element_at(const Batch& batch, const MessageInfo& info, uint32_t seq, uint32_t off) {
    const nlmsghdr* nlh = batch.message(seq);
    const nlattr* list = nlh ? top_attr(nlh, NFTA_SET_ELEM_LIST_ELEMENTS) : nullptr;
    if (!list || !info.set) return "";
    int k = nested_index(nlh, list, off);
    if (k < 0) return "";
    uint32_t index = info.indices.empty() ? info.first + static_cast<uint32_t>(k)
                                          : (static_cast<size_t>(k) < info.indices.size() ? info.indices[k] : UINT32_MAX);
    if (index >= info.set->elems.size()) return "";
    return "element " + element_text(*info.set, index);
}

// The expression of a rule message the kernel pointed at: "expression 3 (lookup set x)".
std::string expression_at(const Batch& batch, uint32_t seq, uint32_t off) {
    const nlmsghdr* nlh = batch.message(seq);
    const nlattr* list = nlh ? top_attr(nlh, NFTA_RULE_EXPRESSIONS) : nullptr;
    if (!list) return "";
    int k = nested_index(nlh, list, off);
    if (k < 0) return "";
    int i = 0;
    std::string out;
    for_each_nested(list, [&](const nlattr* expr) {
        if (i++ != k) return;
        std::string name, set;
        for_each_nested(expr, [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == NFTA_EXPR_NAME) name = mnl_attr_get_str(a);
            if (mnl_attr_get_type(a) != NFTA_EXPR_DATA) return;
            for_each_nested(a, [&](const nlattr* d) {
                if (mnl_attr_get_type(d) == NFTA_LOOKUP_SET) set = mnl_attr_get_str(d);
            });
        });
        if (name == "lookup" && !set.empty()) name += " @" + set;
        out = fmt::format("expression {} ({})", k + 1, name);
    });
    return out;
}

}  // namespace

KernelError describe_error(const Batch& batch, const Ack& ack, uint32_t genid) {
    KernelError e;
    e.seq = ack.seq;
    e.error = ack.error;
    const MessageInfo* info = batch.info(ack.seq);
    MessageInfo::Kind kind = info ? info->kind : MessageInfo::Kind::batch;
    e.object = info ? info->object : "the transaction";
    std::string where;
    if (info && ack.offset) {
        if (kind == MessageInfo::Kind::elements) where = element_at(batch, *info, ack.seq, *ack.offset);
        if (kind == MessageInfo::Kind::rule) where = expression_at(batch, ack.seq, *ack.offset);
    }
    e.message = e.object;
    if (info && info->rule) e.message += " (" + rule_line(*info->rule) + ")";
    if (!where.empty()) e.message += ", " + where;
    e.message += ": ";
    e.message += ack.error == ERESTART ? "the ruleset generation changed" : std::strerror(ack.error);
    if (!ack.ext_message.empty()) e.message += " (" + ack.ext_message + ")";
    std::string h = hint(ack.error, kind, genid);
    if (!h.empty() && ack.error != ERESTART) e.message += " - " + h;
    if (ack.error == ERESTART) e.message += ": " + h;
    return e;
}

std::string summarize(const std::vector<KernelError>& errors, bool dry_run) {
    std::string out = dry_run ? "the kernel would refuse the nftables transaction"
                              : "the kernel refused the nftables transaction; nothing was changed";
    if (errors.empty()) return out;
    out += ": " + errors.front().message;
    if (errors.size() > 1) out += fmt::format(" (and {} more error{})", errors.size() - 1, errors.size() > 2 ? "s" : "");
    return out;
}

}  // namespace detail
}  // namespace wardgate::netlink
