#include "batch.hpp"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace wardgate::netlink::detail {

namespace {

// NFTA_SET_ELEM_LIST_ELEMENTS is one attribute with a 16-bit length: stay well below it.
constexpr size_t kElementPayloadMax = 32 * 1024;
constexpr size_t kElementMessageRoom = kElementPayloadMax + 4096;

void put_nfgenmsg(nlmsghdr* nlh, uint8_t family, uint16_t res_id) {
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = res_id;
}

}  // namespace

char* ByteBuffer::tail(size_t max) {
    if (size_ + max > capacity_) {
        size_t cap = capacity_ ? capacity_ : 64 * 1024;
        while (cap < size_ + max) cap *= 2;
        auto* p = static_cast<char*>(std::realloc(data_, cap));
        if (!p) throw std::bad_alloc();
        data_ = p;
        capacity_ = cap;
    }
    return data_ + size_;
}

Batch::Batch(uint32_t first_seq, uint32_t genid) : first_seq_(first_seq), seq_(first_seq) {
    auto* nlh = mnl_nlmsg_put_header(buf_.tail(MNL_NLMSG_HDRLEN + 64));
    nlh->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq_++;
    put_nfgenmsg(nlh, AF_UNSPEC, htons(NFNL_SUBSYS_NFTABLES));
    // The kernel refuses the whole batch (ERESTART) if the ruleset is no longer at genid.
    if (genid) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
    offsets_.push_back(0);
    buf_.commit(nlh->nlmsg_len);
    MessageInfo begin;
    begin.object = "the transaction";
    infos_.push_back(std::move(begin));
}

nlmsghdr* Batch::start(uint16_t type, uint16_t flags, MessageInfo info, size_t max) {
    auto* nlh = mnl_nlmsg_put_header(buf_.tail(max));
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = seq_++;
    put_nfgenmsg(nlh, NFPROTO_INET, 0);
    offsets_.push_back(buf_.size());
    infos_.push_back(std::move(info));
    ++objects_;
    return nlh;
}

void Batch::finish(nlmsghdr* nlh) { buf_.commit(nlh->nlmsg_len); }

void Batch::add_table(const std::string& table, bool create) {
    MessageInfo info{MessageInfo::Kind::table, "table inet " + table};
    info.removal = !create;
    auto* nlh = start(create ? NFT_MSG_NEWTABLE : NFT_MSG_DELTABLE, create ? NLM_F_CREATE : 0, std::move(info));
    mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str());
    if (create) mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, 0);
    finish(nlh);
}

void Batch::add_chain(const std::string& table, const ChainModel& c) {
    auto ch = make_chain();
    nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, c.name.c_str());
    if (c.base) {
        nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, c.hook);
        nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.priority);
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, c.type.c_str());
        nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY, c.policy);
    }
    auto* nlh = start(NFT_MSG_NEWCHAIN, NLM_F_CREATE, {MessageInfo::Kind::chain, "chain " + c.name});
    nftnl_chain_nlmsg_build_payload(nlh, ch.get());
    finish(nlh);
}

void Batch::add_set(const std::string& table, const SetModel& s, uint32_t id, const std::string& object) {
    const SetDef& d = s.def;
    auto set = make_set();
    nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, table.c_str());
    nftnl_set_set_str(set.get(), NFTNL_SET_NAME, d.name.c_str());
    nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, d.flags);
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, d.key_type);
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, d.key_len);
    if (d.flags & NFT_SET_MAP) {
        nftnl_set_set_u32(set.get(), NFTNL_SET_DATA_TYPE, d.data_type);
        nftnl_set_set_u32(set.get(), NFTNL_SET_DATA_LEN, d.data_len);
    }
    nftnl_set_set_u32(set.get(), NFTNL_SET_ID, id);
    if (d.size) nftnl_set_set_u32(set.get(), NFTNL_SET_DESC_SIZE, d.size);
    if (!d.field_lens.empty())
        nftnl_set_set_data(set.get(), NFTNL_SET_DESC_CONCAT, d.field_lens.data(), static_cast<uint32_t>(d.field_lens.size()));
    if (!d.udata.empty())
        nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, d.udata.data(), static_cast<uint32_t>(d.udata.size()));
    MessageInfo info{MessageInfo::Kind::set, object};
    info.set = &s;
    auto* nlh = start(NFT_MSG_NEWSET, NLM_F_CREATE, std::move(info));
    nftnl_set_nlmsg_build_payload(nlh, set.get());
    finish(nlh);
}

void Batch::add_elements(const std::string& table, const SetModel& s, uint32_t set_id,
                         const std::vector<uint32_t>* indices, bool remove, const std::string& object,
                         bool exclusive) {
    const ElementList& e = s.elems;
    const size_t total = indices ? indices->size() : e.size();
    size_t pos = 0;
    while (pos < total) {
        MessageInfo info{MessageInfo::Kind::elements, object};
        info.set = &s;
        info.removal = remove;
        info.first = static_cast<uint32_t>(pos);
        auto* nlh = start(remove ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, remove ? 0 : NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0), std::move(info),
                          kElementMessageRoom);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s.def.name.c_str());
        if (set_id) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
        auto* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
        const size_t list_start = nlh->nlmsg_len;
        uint16_t n = 0;
        for (; pos < total && nlh->nlmsg_len - list_start < kElementPayloadMax; ++pos) {
            const uint32_t i = indices ? (*indices)[pos] : static_cast<uint32_t>(pos);
            auto* elem = mnl_attr_nest_start(nlh, ++n);
            uint32_t wire_flags = e.flags[i] & (kElemIntervalEnd | kElemCatchall);
            if (wire_flags) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(wire_flags));
            auto* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
            mnl_attr_put(nlh, NFTA_DATA_VALUE, e.key_len, e.key(i));
            mnl_attr_nest_end(nlh, key);
            if (e.ranged) {
                auto* key_end = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
                mnl_attr_put(nlh, NFTA_DATA_VALUE, e.key_len, e.key_end(i));
                mnl_attr_nest_end(nlh, key_end);
            }
            if (!remove && e.map && !e.end(i)) {
                auto* data = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
                auto* verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
                mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(static_cast<uint32_t>(e.verdicts[i])));
                if (!e.chains[i].empty()) mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, e.chains[i].c_str());
                mnl_attr_nest_end(nlh, verdict);
                mnl_attr_nest_end(nlh, data);
            }
            if (!remove && (e.flags[i] & kElemOpen)) {
                // nft marks a range reaching the top of the key space in element userdata.
                uint8_t ud[6] = {NFTNL_UDATA_SET_ELEM_FLAGS, 4, 0, 0, 0, 0};
                uint32_t open = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
                std::memcpy(ud + 2, &open, 4);
                mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof ud, ud);
            }
            mnl_attr_nest_end(nlh, elem);
            if (indices) infos_.back().indices.push_back(i);
        }
        mnl_attr_nest_end(nlh, list);
        finish(nlh);
    }
}

void Batch::add_rule(nftnl_rule* r, MessageInfo info) {
    auto* nlh = start(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, std::move(info), 64 * 1024);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    finish(nlh);
}

void Batch::close(bool commit) {
    if (!commit) return;  // without BATCH_END the kernel validates everything, then aborts
    auto* nlh = mnl_nlmsg_put_header(buf_.tail(MNL_NLMSG_HDRLEN + 64));
    nlh->nlmsg_type = NFNL_MSG_BATCH_END;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq_++;
    put_nfgenmsg(nlh, AF_UNSPEC, htons(NFNL_SUBSYS_NFTABLES));
    offsets_.push_back(buf_.size());
    infos_.push_back({MessageInfo::Kind::batch, "the transaction"});
    buf_.commit(nlh->nlmsg_len);
}

const MessageInfo* Batch::info(uint32_t seq) const {
    uint32_t i = seq - first_seq_;
    return i < infos_.size() ? &infos_[i] : nullptr;
}

const nlmsghdr* Batch::message(uint32_t seq) const {
    uint32_t i = seq - first_seq_;
    return i < offsets_.size() ? reinterpret_cast<const nlmsghdr*>(buf_.data() + offsets_[i]) : nullptr;
}

}  // namespace wardgate::netlink::detail
