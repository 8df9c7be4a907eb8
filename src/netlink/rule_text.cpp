// A fixed text form of a rule's expressions, the same for a rule built here and for one
// dumped by the kernel: counter values dropped, the kernel's log defaults spelled out,
// anonymous sets replaced by their definition and sorted elements.
#include <fmt/format.h>
#include <libnftnl/udata.h>

#include <algorithm>
#include <cstring>

#include "expressions.hpp"

namespace wardgate::netlink::detail {

namespace {

constexpr uint32_t kLogLevelWarning = 4;  // the kernel's default log level

std::string expr_snprintf(const nftnl_expr* e) {
    char buf[4096];
    int n = nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
    if (n < 0) return "?";
    return std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

std::string lookup_text(const nftnl_expr* e, const AnonResolver& anon) {
    const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
    std::string name = set ? set : "";
    uint32_t id = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET_ID) ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID) : 0;
    std::string target = "@" + name;
    if (name.rfind("__set", 0) == 0) {
        const SetModel* s = anon ? anon(name, id) : nullptr;
        target = s ? anon_set_text(*s) : "{missing anonymous set " + name + "}";
    }
    std::string out = fmt::format("lookup reg {} {}", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG), target);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
        out += fmt::format(" dreg {}", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
    uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) : 0;
    if (flags) out += fmt::format(" flags {:#x}", flags);
    return out;
}

std::string log_text(const nftnl_expr* e) {
    std::string out = "log";
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
        out += fmt::format(" prefix \"{}\"", nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
    auto u32 = [&](uint16_t attr, uint32_t dflt) { return nftnl_expr_is_set(e, attr) ? nftnl_expr_get_u32(e, attr) : dflt; };
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)) {
        out += fmt::format(" group {} snaplen {} qthreshold {}", nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP),
                           u32(NFTNL_EXPR_LOG_SNAPLEN, 0),
                           nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD) ? nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD) : 0);
    } else {
        out += fmt::format(" level {} flags {:#x}", u32(NFTNL_EXPR_LOG_LEVEL, kLogLevelWarning), u32(NFTNL_EXPR_LOG_FLAGS, 0));
    }
    return out;
}

struct ExprIter {
    nftnl_expr_iter* it;
    explicit ExprIter(const nftnl_rule* r) : it(nftnl_expr_iter_create(r)) {
        if (!it) throw std::bad_alloc();
    }
    ~ExprIter() { nftnl_expr_iter_destroy(it); }
    ExprIter(const ExprIter&) = delete;
    ExprIter& operator=(const ExprIter&) = delete;
    nftnl_expr* next() { return nftnl_expr_iter_next(it); }
};

}  // namespace

std::string anon_set_text(const SetModel& s) {
    const auto& d = s.def;
    std::vector<std::string> elems;
    elems.reserve(s.elems.size());
    for (size_t i = 0; i < s.elems.size(); ++i)
        elems.push_back(hex(s.elems.key(i), s.elems.stride()) + "/" + std::to_string(s.elems.flags[i]));
    std::sort(elems.begin(), elems.end());
    return fmt::format("{{flags {:#x} type {} len {} size {} udata {} elements {}}}", d.flags, d.key_type, d.key_len,
                       d.size, hex(d.udata.data(), d.udata.size()), fmt::join(elems, ","));
}

std::string canonical_rule_text(const nftnl_rule* r, const AnonResolver& anon) {
    std::string out;
    ExprIter it(r);
    for (nftnl_expr* e = it.next(); e; e = it.next()) {
        const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
        if (!out.empty()) out += "; ";
        if (!name) {
            out += "?";
        } else if (std::strcmp(name, "counter") == 0) {
            out += "counter";
        } else if (std::strcmp(name, "lookup") == 0) {
            out += lookup_text(e, anon);
        } else if (std::strcmp(name, "log") == 0) {
            out += log_text(e);
        } else {
            out += std::string(name) + " " + expr_snprintf(e);
        }
    }
    uint32_t len = 0;
    const void* ud = nftnl_rule_is_set(r, NFTNL_RULE_USERDATA) ? nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len) : nullptr;
    if (ud && len) out += " userdata " + hex(ud, len);
    return out;
}

std::string rule_comment(const nftnl_rule* r) {
    uint32_t len = 0;
    if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) return "";
    const auto* ud = static_cast<const uint8_t*>(nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len));
    // Userdata is a list of (type, length, value); the comment is type 0, NUL-terminated.
    for (uint32_t off = 0; ud && off + 2 <= len;) {
        uint8_t type = ud[off], l = ud[off + 1];
        if (off + 2 + l > len) break;
        if (type == NFTNL_UDATA_RULE_COMMENT && l > 0)
            return std::string(reinterpret_cast<const char*>(ud + off + 2), strnlen(reinterpret_cast<const char*>(ud + off + 2), l));
        off += 2 + l;
    }
    return "";
}

}  // namespace wardgate::netlink::detail
