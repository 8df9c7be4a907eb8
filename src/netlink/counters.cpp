// Reading the live table for reports: per-segment counters and a canonical dump.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include <netinet/in.h>  // before the linux/ headers, which define the same names
#include <linux/netfilter.h>

#include "readback.hpp"
#include "wardgate/netlink/nft_apply.hpp"

namespace wardgate::netlink {

using namespace detail;

namespace {

// Counters of every chain whose name starts with one of the prefixes, in chain order.
std::vector<ChainCounters> chain_counters(const std::string& table, const std::vector<std::string>& prefixes) {
    SocketLease lease;
    NfSocket& sock = *lease;
    std::vector<ChainCounters> out;
    for (const auto& r : read_rules(sock, table)) {
        bool wanted = std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return r.chain.rfind(p, 0) == 0; });
        if (!wanted) continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const ChainCounters& c) { return c.chain == r.chain; });
        if (it == out.end()) it = out.insert(out.end(), ChainCounters{r.chain, 0, 0, {}});
        nftnl_expr_iter* iter = nftnl_expr_iter_create(r.rule.get());
        if (!iter) throw std::bad_alloc();
        uint64_t packets = 0, bytes = 0;
        bool accepts = false;
        for (nftnl_expr* e = nftnl_expr_iter_next(iter); e; e = nftnl_expr_iter_next(iter)) {
            const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
            if (name && std::strcmp(name, "immediate") == 0 && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
                auto verdict = static_cast<int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
                if (verdict == NF_ACCEPT || verdict == NF_DROP) it->last_verdict_accepts = accepts = verdict == NF_ACCEPT;
            }
            if (!name || std::strcmp(name, "counter") != 0) continue;
            packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
            bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
        }
        nftnl_expr_iter_destroy(iter);
        it->packets += packets;
        it->bytes += bytes;
        if (accepts) {
            it->accept_packets += packets;
            it->accept_bytes += bytes;
        }
    }
    return out;
}

}  // namespace

std::vector<ChainCounters> read_drop_counters(const std::string& table) { return chain_counters(table, {"drop_"}); }

std::vector<SegmentCounters> read_segment_counters(const std::string& table) {
    std::vector<SegmentCounters> out;
    auto segment = [&](const std::string& name) -> SegmentCounters& {
        auto it = std::find_if(out.begin(), out.end(), [&](const SegmentCounters& s) { return s.segment == name; });
        if (it == out.end()) it = out.insert(out.end(), SegmentCounters{name});
        return *it;
    };
    for (const auto& c : chain_counters(table, {"accept_", "drop_"})) {
        bool accept = c.chain.rfind("accept_", 0) == 0;
        auto& s = segment(c.chain.substr(accept ? 7 : 5));
        if (accept) {
            s.accepted_packets = c.packets;
            s.accepted_bytes = c.bytes;
            s.has_accept_counter = true;
        } else {
            s.dropped_packets = c.packets - c.accept_packets;
            s.dropped_bytes = c.bytes - c.accept_bytes;
            s.would_be_dropped_packets = c.accept_packets;
            s.would_be_dropped_bytes = c.accept_bytes;
            s.has_drop_counter = true;
            s.monitor = c.last_verdict_accepts;
        }
    }
    return out;
}

std::string describe_live_table(const std::string& table) {
    SocketLease lease;
    NfSocket& sock = *lease;
    TableModel t = read_table(sock, table);
    if (!t.exists) return "no table inet " + table + "\n";
    std::string out = "table inet " + table + "\n";
    for (const auto& s : t.sets) {
        const SetDef& d = s.def;
        out += fmt::format("set {} flags {:#x} key {}/{} data {:#x}/{} fields {} size {} udata {}\n", d.name, d.flags,
                           d.key_type, d.key_len, d.data_type, d.data_len, hex(d.field_lens.data(), d.field_lens.size()),
                           d.size, hex(d.udata.data(), d.udata.size()));
        std::vector<std::string> elems;
        elems.reserve(s.elems.size());
        for (size_t i = 0; i < s.elems.size(); ++i) {
            std::string e = hex(s.elems.key(i), s.elems.stride()) + fmt::format(" flags {:#x}", s.elems.flags[i]);
            if (s.elems.map && !s.elems.end(i)) e += fmt::format(" verdict {} {}", s.elems.verdicts[i], s.elems.chains[i]);
            elems.push_back(std::move(e));
        }
        std::sort(elems.begin(), elems.end());  // dump order depends on the set backend
        for (const auto& e : elems) out += "  element " + e + "\n";
    }
    for (const auto& c : t.chains) {
        out += "chain " + c.name;
        if (c.base) out += fmt::format(" type {} hook {} priority {} policy {}", c.type, c.hook, c.priority, c.policy);
        out += "\n";
        for (const auto& r : c.rules) out += "  rule " + r + "\n";
    }
    return out;
}

}  // namespace wardgate::netlink
