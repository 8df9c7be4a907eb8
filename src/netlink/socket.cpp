#include "socket.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace wardgate::netlink::detail {

namespace {

constexpr size_t kRxBuffer = 256 * 1024;           // dumps: the kernel fills up to 32 KiB per skb
constexpr int kRcvBufForce = 8 * 1024 * 1024;      // errors from a big batch must not overflow
constexpr size_t kSndBufMin = 256 * 1024;

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

NfSocket::NfSocket() : rx_(kRxBuffer) {
    sock_.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!sock_) fail("netlink socket (NETLINK_NETFILTER)");
    if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0) fail("netlink bind");
    portid_ = mnl_socket_get_portid(sock_.get());
    int fd = mnl_socket_get_fd(sock_.get());
    int one = 1;
    // Errors carry only the header of the failed message (not up to 64 KiB of it), plus
    // the kernel's extended ack text and attribute offset.
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    int rcv = kRcvBufForce;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    ensure_sndbuf(kSndBufMin);
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seq_ = static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void NfSocket::ensure_sndbuf(size_t len) {
    if (len <= sndbuf_) return;
    int fd = mnl_socket_get_fd(sock_.get());
    // The kernel refuses a datagram larger than the send buffer (EMSGSIZE), and a batch
    // must go in one datagram: size the buffer to the batch.
    int want = static_cast<int>(std::min<size_t>(len + 64 * 1024, 1u << 30));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) < 0)
        fail("netlink send buffer");
    sndbuf_ = static_cast<size_t>(want);
}

uint64_t NfSocket::netns_cookie() const {
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (getsockopt(mnl_socket_get_fd(sock_.get()), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0) return 0;
    return cookie;
}

void NfSocket::drain() {
    int fd = mnl_socket_get_fd(sock_.get());
    while (recv(fd, rx_.data(), rx_.size(), MSG_DONTWAIT) > 0 || errno == EINTR || errno == ENOBUFS) {
    }
}

static Ack parse_error(const nlmsghdr* nlh) {
    Ack a;
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    a.seq = err->msg.nlmsg_seq;
    a.error = -err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return a;
    // TLVs follow the error and the (capped) original header.
    size_t hdr = sizeof(nlmsghdr) + sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) hdr += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (nlh->nlmsg_len <= hdr) return a;
    const char* base = reinterpret_cast<const char*>(nlh) + MNL_ALIGN(hdr);
    const char* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
    for (auto* attr = reinterpret_cast<const nlattr*>(base);
         reinterpret_cast<const char*>(attr) + sizeof(nlattr) <= end && attr->nla_len >= sizeof(nlattr) &&
         reinterpret_cast<const char*>(attr) + attr->nla_len <= end;
         attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(attr) + MNL_ALIGN(attr->nla_len))) {
        const char* payload = reinterpret_cast<const char*>(attr) + MNL_ATTR_HDRLEN;
        size_t plen = attr->nla_len - MNL_ATTR_HDRLEN;
        switch (attr->nla_type & NLA_TYPE_MASK) {
            case NLMSGERR_ATTR_MSG: a.ext_message.assign(payload, strnlen(payload, plen)); break;
            case NLMSGERR_ATTR_OFFS:
                if (plen >= 4) {
                    uint32_t off;
                    std::memcpy(&off, payload, 4);
                    a.offset = off;
                }
                break;
        }
    }
    return a;
}

std::vector<Ack> NfSocket::send_batch(const char* data, size_t len) {
    drain();
    ensure_sndbuf(len);
    int fd = mnl_socket_get_fd(sock_.get());
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov{const_cast<char*>(data), len};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof kernel;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t sent;
    do sent = sendmsg(fd, &msg, 0);
    while (sent < 0 && errno == EINTR);
    if (sent < 0) fail("sending the nftables batch");
    if (static_cast<size_t>(sent) != len) throw std::runtime_error("netlink: short send of the nftables batch");

    std::vector<Ack> acks;
    for (;;) {
        ssize_t n = recv(fd, rx_.data(), rx_.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == ENOBUFS) {
                // Replies were dropped: there were errors, we lost some of them.
                Ack lost;
                lost.error = ENOBUFS;
                lost.ext_message = "some kernel error messages were lost (receive buffer overflow)";
                acks.push_back(lost);
                continue;
            }
            fail("reading the kernel's answer to the batch");
        }
        int remaining = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx_.data()); mnl_nlmsg_ok(nlh, remaining);
             nlh = mnl_nlmsg_next(nlh, &remaining)) {
            if (nlh->nlmsg_type == NLMSG_ERROR) acks.push_back(parse_error(nlh));
        }
    }
    return acks;
}

bool NfSocket::request(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& on_msg) {
    nlh->nlmsg_seq = next_seq();
    nlh->nlmsg_pid = 0;
    const uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) fail("netlink request");
    bool interrupted = false;
    int error = 0;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock_.get(), rx_.data(), rx_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("netlink reply");
        }
        int remaining = static_cast<int>(n);
        for (auto* m = reinterpret_cast<const nlmsghdr*>(rx_.data()); mnl_nlmsg_ok(m, remaining);
             m = mnl_nlmsg_next(m, &remaining)) {
            if (m->nlmsg_seq != seq || (m->nlmsg_pid && m->nlmsg_pid != portid_)) continue;  // stale
            if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
            if (m->nlmsg_type == NLMSG_DONE) {
                int status = 0;
                if (m->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
                    std::memcpy(&status, mnl_nlmsg_get_payload(m), sizeof status);
                if (status < 0 && !error) error = -status;
                goto done;
            }
            if (m->nlmsg_type == NLMSG_ERROR) {
                Ack a = parse_error(m);
                if (a.error && !error) error = a.error;
                goto done;  // an ack (or error) ends a request; a failed dump ends here too
            }
            if (!error) on_msg(m);
        }
    }
done:
    if (error) {
        errno = error;
        fail("netlink request");
    }
    return !interrupted;
}

namespace {

struct Pooled {
    pid_t pid;
    uint64_t dev, ino;
    std::unique_ptr<NfSocket> sock;
};
constexpr size_t kPoolMax = 4;  // a socket keeps its namespace alive: keep few
std::mutex g_pool_mutex;
std::vector<Pooled> g_pool;

bool current_netns(uint64_t& dev, uint64_t& ino) {
    struct stat st {};
    if (stat("/proc/thread-self/ns/net", &st) < 0) return false;
    dev = st.st_dev;
    ino = st.st_ino;
    return true;
}

}  // namespace

SocketLease::SocketLease() : exceptions_(std::uncaught_exceptions()) {
    if (current_netns(dev_, ino_)) {
        std::lock_guard lock(g_pool_mutex);
        pid_t pid = getpid();
        for (auto it = g_pool.begin(); it != g_pool.end(); ++it) {
            if (it->pid == pid && it->dev == dev_ && it->ino == ino_) {
                sock_ = std::move(it->sock);
                g_pool.erase(it);
                break;
            }
        }
        // Sockets inherited across fork() are the parent's (closing our copy is harmless).
        std::erase_if(g_pool, [&](const Pooled& p) { return p.pid != pid; });
    }
    if (!sock_) sock_ = std::make_unique<NfSocket>();
}

SocketLease::~SocketLease() {
    if (!ino_ || std::uncaught_exceptions() > exceptions_) return;  // unknown state: close it
    std::lock_guard lock(g_pool_mutex);
    // One socket kept per network namespace: a second one, leased while the first was out (a
    // drift check on its own thread beside an apply), is closed rather than kept open for good.
    const pid_t pid = getpid();
    if (std::any_of(g_pool.begin(), g_pool.end(), [&](const Pooled& p) { return p.pid == pid && p.dev == dev_ && p.ino == ino_; }))
        return;
    if (g_pool.size() >= kPoolMax) g_pool.erase(g_pool.begin());
    g_pool.push_back({pid, dev_, ino_, std::move(sock_)});
}

}  // namespace wardgate::netlink::detail
