#pragma once
// One nf_tables transaction being written: BATCH_BEGIN (with the generation id the
// kernel must still have), the object messages, BATCH_END (left out for a dry run).
// Remembers what each sequence number stands for, to report the kernel's errors in words.
#include <libmnl/libmnl.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"
#include "nftnl_ptr.hpp"

namespace wardgate::netlink::detail {

class ByteBuffer {
public:
    ByteBuffer() = default;
    ByteBuffer(const ByteBuffer&) = delete;
    ByteBuffer& operator=(const ByteBuffer&) = delete;
    ~ByteBuffer() { std::free(data_); }
    // Room for a message of at most max bytes at the end; valid until the next call.
    char* tail(size_t max);
    void commit(size_t len) { size_ += len; }
    const char* data() const { return data_; }
    char* data() { return data_; }
    size_t size() const { return size_; }

private:
    char* data_ = nullptr;
    size_t size_ = 0, capacity_ = 0;
};

// What a message in the batch creates or deletes.
struct MessageInfo {
    enum class Kind { batch, table, chain, set, elements, rule };
    MessageInfo() = default;
    MessageInfo(Kind k, std::string o) : kind(k), object(std::move(o)) {}
    Kind kind = Kind::batch;
    std::string object;                 // "set role_pacs_v4", "rule 12 in chain forward", ...
    const SetModel* set = nullptr;      // elements: whose
    uint32_t first = 0;                 // elements: index of the first element, when contiguous
    std::vector<uint32_t> indices;      // elements: indices when not contiguous (incremental)
    bool removal = false;
    const nft::Rule* rule = nullptr;    // rules: the source, for error messages
};

class Batch {
public:
    Batch(uint32_t first_seq, uint32_t genid);
    // Object messages: type NFT_MSG_*, family NFPROTO_INET.
    nlmsghdr* start(uint16_t type, uint16_t flags, MessageInfo info, size_t max = 16 * 1024);
    void finish(nlmsghdr* nlh);

    void add_table(const std::string& table, bool create);  // create: NEWTABLE, else DELTABLE
    void add_chain(const std::string& table, const ChainModel& c);
    void add_set(const std::string& table, const SetModel& s, uint32_t id, const std::string& object);
    // Elements of a set, split over messages of at most ~32 KiB. indices: a subset in
    // that order (incremental), or all elements when null.
    // exclusive: an element that already exists is an error (incremental updates).
    void add_elements(const std::string& table, const SetModel& s, uint32_t set_id, const std::vector<uint32_t>* indices,
                      bool remove, const std::string& object, bool exclusive = false);
    void add_rule(nftnl_rule* r, MessageInfo info);

    // Closes the batch (BATCH_END) unless this is a dry run.
    void close(bool commit);
    const char* data() const { return buf_.data(); }
    size_t size() const { return buf_.size(); }
    size_t object_messages() const { return objects_; }
    uint32_t begin_seq() const { return first_seq_; }
    const MessageInfo* info(uint32_t seq) const;
    // The message with that sequence number, as sent.
    const nlmsghdr* message(uint32_t seq) const;

private:
    ByteBuffer buf_;
    uint32_t first_seq_;
    uint32_t seq_;
    std::vector<MessageInfo> infos_;          // index = seq - first_seq
    std::vector<size_t> offsets_;             // where each message starts in buf_
    size_t objects_ = 0;
};

}  // namespace wardgate::netlink::detail
