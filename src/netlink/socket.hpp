#pragma once
// A NETLINK_NETFILTER socket in the calling thread's network namespace: one sendmsg per
// batch, errors collected per sequence number, dumps read with a reusable buffer.
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wardgate::netlink::detail {

struct Ack {
    uint32_t seq = 0;
    int error = 0;                 // errno, 0 for a plain ack
    std::string ext_message;       // extended ack text, if the kernel gave one
    std::optional<uint32_t> offset;  // byte offset of the offending attribute in the message
};

struct MnlSocketCloser {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

class NfSocket {
public:
    NfSocket();
    uint32_t portid() const { return portid_; }
    uint32_t next_seq() { return seq_++; }
    void advance_seq(uint32_t n) { seq_ += n; }
    // Sends the whole batch in one datagram (one transaction) and returns every error the
    // kernel queued for it. The kernel handles a batch inside sendmsg, so all replies are
    // queued when it returns.
    std::vector<Ack> send_batch(const char* data, size_t len);
    // Sends one request (a GET or a dump) and calls on_msg for each reply until done.
    // Throws std::system_error with the kernel's errno. Returns false when a dump was
    // interrupted by a concurrent change (NLM_F_DUMP_INTR): the caller retries.
    bool request(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& on_msg);
    // Identifies the network namespace (never reused while the system runs); 0 if unknown.
    uint64_t netns_cookie() const;

    // Discards replies left over from an earlier exchange.
    void drain();

private:
    void ensure_sndbuf(size_t len);
    std::unique_ptr<mnl_socket, MnlSocketCloser> sock_;
    uint32_t portid_ = 0;
    uint32_t seq_ = 0;
    size_t sndbuf_ = 0;
    std::vector<char> rx_;
};

// A socket for the calling thread's network namespace, kept open between calls: closing
// a netfilter socket right after a commit waits for the kernel's deferred cleanup of
// that transaction (an RCU grace period, often 5-30 ms). Discard it after an exception.
class SocketLease {
public:
    SocketLease();
    ~SocketLease();
    SocketLease(const SocketLease&) = delete;
    SocketLease& operator=(const SocketLease&) = delete;
    NfSocket& operator*() { return *sock_; }
    NfSocket* operator->() { return sock_.get(); }

private:
    std::unique_ptr<NfSocket> sock_;
    uint64_t dev_ = 0, ino_ = 0;
    int exceptions_ = 0;
};

}  // namespace wardgate::netlink::detail
