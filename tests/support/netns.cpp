#include "netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "clock.hpp"

namespace wardgate::testing {

namespace {

std::atomic<int> g_counter{0};

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Reads everything from fd until EOF or the deadline.
bool read_all(int fd, std::string& out, Clock::time_point deadline) {
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        out.append(buf, static_cast<size_t>(n));
    }
}

bool write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

void join_netns(const std::string& name) {
    std::string path = "/run/netns/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    if (setns(fd, CLONE_NEWNET) < 0) {
        close(fd);
        throw std::runtime_error("setns " + name + ": " + std::strerror(errno));
    }
    close(fd);
}

struct Child {
    pid_t pid = -1;
    int fd = -1;  // the child's result pipe
};

// fork(); the child joins the namespace, runs fn and writes "ok\n<result>" or "error\n<what>".
Child spawn_in(const std::string& ns, const std::function<std::string()>& fn) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        close(p[0]);
        std::string msg;
        try {
            join_netns(ns);
            msg = "ok\n" + fn();
        } catch (const std::exception& e) {
            msg = std::string("error\n") + e.what();
        } catch (...) {
            msg = "error\nunknown exception";
        }
        write_all(p[1], msg);
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    return {pid, p[0]};
}

std::string finish(Child c, Clock::time_point deadline) {
    std::string out;
    bool complete = read_all(c.fd, out, deadline);
    close(c.fd);
    if (!complete) kill(c.pid, SIGKILL);
    int status = 0;
    while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!complete) throw std::runtime_error("child process timed out");
    if (out.rfind("ok\n", 0) == 0) return out.substr(3);
    if (out.rfind("error\n", 0) == 0) throw std::runtime_error(out.substr(6));
    throw std::runtime_error("child process died (status " + std::to_string(status) + ")");
}

sockaddr_storage parse_addr(const std::string& addr, uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (addr.find(':') == std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, addr.c_str(), &a->sin_addr) != 1) throw std::runtime_error("bad address " + addr);
        len = sizeof(sockaddr_in);
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr) != 1) throw std::runtime_error("bad address " + addr);
        len = sizeof(sockaddr_in6);
    }
    return ss;
}

constexpr const char* kProbe = "wardgate-probe";

// Server side of one exchange; reports "ready" on ready_fd once it listens.
std::string serve_once(const std::string& addr, uint16_t port, bool tcp, int ready_fd, int timeout_ms) {
    socklen_t len;
    sockaddr_storage ss = parse_addr(addr, port, len);
    int s = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0) throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    if (tcp && listen(s, 4) < 0) throw std::runtime_error("listen failed");
    write_all(ready_fd, "r");
    close(ready_fd);
    pollfd p{s, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return "no client";
    char buf[256];
    if (tcp) {
        int c = accept(s, nullptr, nullptr);
        if (c < 0) return "accept failed";
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, timeout_ms) <= 0) return "no data";
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n > 0) send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
        close(c);
    } else {
        sockaddr_storage peer{};
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &plen);
        if (n > 0) sendto(s, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
    close(s);
    return "served";
}

std::string exchange(const std::string& addr, uint16_t port, bool tcp, int timeout_ms) {
    socklen_t len;
    sockaddr_storage ss = parse_addr(addr, port, len);
    int s = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    if (tcp) {
        if (connect(s, reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) return "connect failed";
        pollfd p{s, POLLOUT, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) return "connect timed out";
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) return std::string("connect: ") + std::strerror(err);
        if (send(s, kProbe, std::strlen(kProbe), MSG_NOSIGNAL) < 0) return "send failed";
    } else {
        if (sendto(s, kProbe, std::strlen(kProbe), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) return "send failed";
    }
    std::string got;
    while (got.size() < std::strlen(kProbe)) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) return "no reply";
        char buf[256];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n <= 0) return "connection closed";
        got.append(buf, static_cast<size_t>(n));
    }
    close(s);
    return got == kProbe ? "ok" : "wrong reply";
}

uint16_t inet_checksum(const std::string& bytes) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < bytes.size(); i += 2)
        sum += static_cast<uint32_t>(static_cast<uint8_t>(bytes[i]) << 8 | static_cast<uint8_t>(bytes[i + 1]));
    if (bytes.size() % 2) sum += static_cast<uint32_t>(static_cast<uint8_t>(bytes.back()) << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// Waits on a raw socket for a packet carrying `payload` (IPv4 raw sockets see the IP header too).
bool raw_wait(int s, const std::string& payload, sockaddr_storage* from, socklen_t* from_len,
              Clock::time_point deadline) {
    for (;;) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
        char buf[2048];
        *from_len = sizeof *from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(from), from_len);
        if (n > 0 && std::string(buf, static_cast<size_t>(n)).find(payload.substr(8)) != std::string::npos) return true;
    }
}

// A raw socket of `proto` that sends from `source` (the interface's first address otherwise).
int raw_socket(bool v6, int proto, const std::string& source) {
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);
    if (s < 0) throw std::runtime_error(std::string("raw socket: ") + std::strerror(errno));
    if (!source.empty()) {
        socklen_t len;
        sockaddr_storage ss = parse_addr(source, 0, len);
        if (bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0)
            throw std::runtime_error("bind " + source + ": " + std::strerror(errno));
    }
    return s;
}

bool run_raw_exchange(const Netns& client, const std::string& client_addr, const Netns& server,
                      const std::string& server_addr, uint8_t protocol, std::string payload, bool answer, int timeout_ms) {
    if (payload.size() < 16) throw std::invalid_argument("raw_exchange: a payload of at least 16 bytes");
    const bool v6 = server_addr.find(':') != std::string::npos;
    if (protocol == IPPROTO_ICMP && !v6) {
        payload[2] = payload[3] = 0;
        uint16_t sum = inet_checksum(payload);
        payload[2] = static_cast<char>(sum >> 8);
        payload[3] = static_cast<char>(sum & 0xff);
    }
    const int proto = protocol == IPPROTO_ICMP && v6 ? IPPROTO_ICMPV6 : protocol;
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");
    Child srv = spawn_in(server.name(), [&]() -> std::string {
        close(ready[0]);
        int s = raw_socket(v6, proto, server_addr);
        write_all(ready[1], "r");
        close(ready[1]);
        sockaddr_storage from{};
        socklen_t len = 0;
        if (!raw_wait(s, payload, &from, &len, Clock::now() + std::chrono::milliseconds(timeout_ms))) return "nothing";
        if (answer) sendto(s, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        close(s);
        return "got";
    });
    close(ready[1]);
    std::string r;
    read_all(ready[0], r, Clock::now() + std::chrono::seconds(10));
    close(ready[0]);
    if (r != "r") {
        finish(srv, Clock::now() + std::chrono::seconds(5));
        throw std::runtime_error("the raw receiver did not start");
    }
    std::string sent = client.run([&]() -> std::string {
        socklen_t len;
        sockaddr_storage ss = parse_addr(server_addr, 0, len);
        int s = raw_socket(v6, proto, client_addr);
        if (sendto(s, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
            return std::string("send: ") + std::strerror(errno);
        if (!answer) return "sent";
        sockaddr_storage from{};
        socklen_t flen = 0;
        bool back = raw_wait(s, payload, &from, &flen, Clock::now() + std::chrono::milliseconds(timeout_ms));
        close(s);
        return back ? "answered" : "no answer";
    }, timeout_ms + 5000);
    std::string got = finish(srv, Clock::now() + std::chrono::milliseconds(timeout_ms + 3000));
    return got == "got" && (answer ? sent == "answered" : sent == "sent");
}

bool run_exchange(const Netns& client, const Netns& server, const std::string& addr, uint16_t port, bool tcp,
                  int timeout_ms) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");
    int server_wait = timeout_ms + 1000;
    Child srv = spawn_in(server.name(), [&] {
        close(ready[0]);
        return serve_once(addr, port, tcp, ready[1], server_wait);
    });
    close(ready[1]);
    std::string r;
    read_all(ready[0], r, Clock::now() + std::chrono::seconds(10));
    close(ready[0]);
    if (r != "r") {
        finish(srv, Clock::now() + std::chrono::seconds(5));  // throws the server's error
        throw std::runtime_error("the server did not start");
    }
    std::string result = client.run([&] { return exchange(addr, port, tcp, timeout_ms); }, timeout_ms + 5000);
    if (result != "ok") kill(srv.pid, SIGKILL);
    try {
        finish(srv, Clock::now() + std::chrono::milliseconds(server_wait + 2000));
    } catch (const std::exception&) {
        // killed on purpose, or no client reached it
    }
    return result == "ok";
}

// Binds an nfnetlink_log socket to the group; reports "r" on ready_fd, then collects
// prefixes until stop_fd closes.
std::string listen_nflog(uint16_t group, int ready_fd, int stop_fd) {
    mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) throw std::runtime_error("nflog socket");
    auto config = [&](uint16_t attr, const void* data, size_t len) {
        char buf[256];
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = 1;
        auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
        g->nfgen_family = AF_UNSPEC;
        g->version = NFNETLINK_V0;
        g->res_id = htons(group);
        mnl_attr_put(nlh, attr, len, data);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) throw std::runtime_error("nflog config");
        char reply[8192];
        ssize_t n = mnl_socket_recvfrom(nl, reply, sizeof reply);
        if (n < 0 || mnl_cb_run(reply, static_cast<size_t>(n), 1, mnl_socket_get_portid(nl), nullptr, nullptr) < 0)
            throw std::runtime_error(std::string("nflog config: ") + std::strerror(errno));
    };
    nfulnl_msg_config_cmd bind{NFULNL_CFG_CMD_BIND};
    config(NFULA_CFG_CMD, &bind, sizeof bind);
    nfulnl_msg_config_mode mode{htonl(0), NFULNL_COPY_META, 0};
    config(NFULA_CFG_MODE, &mode, sizeof mode);
    write_all(ready_fd, "r");
    close(ready_fd);

    std::string prefixes;
    pollfd p[2] = {{mnl_socket_get_fd(nl), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, 30000) <= 0) break;
        if (p[0].revents & POLLIN) {
            char buf[65536];
            ssize_t n = recv(p[0].fd, buf, sizeof buf, 0);
            int left = static_cast<int>(n);
            for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); n > 0 && mnl_nlmsg_ok(nlh, left);
                 nlh = mnl_nlmsg_next(nlh, &left)) {
                if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET) continue;
                auto* a = static_cast<const char*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
                auto* end = reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len;
                while (end - a >= static_cast<std::ptrdiff_t>(sizeof(nlattr))) {
                    auto* attr = reinterpret_cast<const nlattr*>(a);
                    if (attr->nla_len < sizeof(nlattr) || attr->nla_len > end - a) break;
                    if ((attr->nla_type & NLA_TYPE_MASK) == NFULA_PREFIX)
                        prefixes += std::string(static_cast<const char*>(mnl_attr_get_payload(attr))) + "\n";
                    a += MNL_ALIGN(attr->nla_len);
                }
            }
            continue;
        }
        if (p[1].revents) break;  // the parent is done
    }
    mnl_socket_close(nl);
    return prefixes;
}

}  // namespace

std::vector<std::string> nflog_prefixes(const Netns& ns, uint16_t group, const std::function<void()>& during) {
    int ready[2], stop[2];
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(stop, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");
    Child listener = spawn_in(ns.name(), [&] {
        close(ready[0]);
        close(stop[1]);
        return listen_nflog(group, ready[1], stop[0]);
    });
    close(ready[1]);
    close(stop[0]);
    std::string r;
    read_all(ready[0], r, Clock::now() + std::chrono::seconds(10));
    close(ready[0]);
    if (r != "r") {
        close(stop[1]);
        finish(listener, Clock::now() + std::chrono::seconds(5));
        throw std::runtime_error("the NFLOG listener did not start");
    }
    try {
        during();
    } catch (...) {
        close(stop[1]);
        kill(listener.pid, SIGKILL);
        try {
            finish(listener, Clock::now() + std::chrono::seconds(5));
        } catch (...) {
        }
        throw;
    }
    usleep(200 * 1000);  // let the last log messages arrive
    close(stop[1]);
    std::string text = finish(listener, Clock::now() + std::chrono::seconds(10));
    std::vector<std::string> out;
    for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) out.push_back(text.substr(at, nl - at));
    return out;
}

std::string unique_name(const std::string& tag) {
    return "wg-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(g_counter++);
}

int shell(const std::string& command, std::string* out) {
    std::string cmd = command + " 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return -1;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    int status = pclose(f);
    if (out) *out = std::move(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string shell_ok(const std::string& command) {
    std::string out;
    int rc = shell(command, &out);
    if (rc != 0) throw std::runtime_error("`" + command + "` failed (" + std::to_string(rc) + "): " + out);
    return out;
}

Netns::Netns(const std::string& tag) : name_(unique_name(tag)) {
    shell_ok("ip netns add " + name_);
    try {
        exec("ip link set lo up");
        // Interfaces made later skip duplicate address detection (link-local addresses too).
        exec("sysctl -q -w net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0");
    } catch (...) {
        shell("ip netns del " + name_);
        throw;
    }
}

Netns::~Netns() {
    // Processes still inside (a test that failed midway) would keep it alive.
    shell("ip netns pids " + name_ + " | xargs -r kill -9");
    shell("ip netns del " + name_);
}

std::string Netns::exec(const std::string& command) const { return shell_ok("ip netns exec " + name_ + " " + command); }

int Netns::exec_status(const std::string& command, std::string* out) const {
    return shell("ip netns exec " + name_ + " " + command, out);
}

std::string Netns::nft_list(const std::string& table, bool handles) const {
    std::string out;
    if (exec_status(std::string("nft -s ") + (handles ? "-a " : "") + "list table inet " + table, &out) != 0) return "";
    return out;
}

std::string Netns::run(const std::function<std::string()>& fn, int timeout_ms) const {
    return finish(spawn_in(name_, fn), Clock::now() + std::chrono::milliseconds(timeout_ms));
}

pid_t spawn_in(const Netns& ns, const std::vector<std::string>& argv, const std::string& output) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::string netns = "/run/netns/" + ns.name();
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) _exit(120);
        if (!output.empty()) {
            int out = open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            dup2(out, 1);
            dup2(out, 2);
        }
        execv(args[0], args.data());
        _exit(127);
    }
    return pid;
}

void veth(const Netns& a, const std::string& a_if, const Netns& b, const std::string& b_if) {
    a.exec("ip link add " + a_if + " type veth peer name " + b_if + " netns " + b.name());
    a.exec("ip link set " + a_if + " up");
    b.exec("ip link set " + b_if + " up");
}

void add_address(const Netns& ns, const std::string& ifname, const std::string& cidr) {
    bool v6 = cidr.find(':') != std::string::npos;
    ns.exec(std::string("ip ") + (v6 ? "-6 " : "") + "addr add " + cidr + " dev " + ifname + (v6 ? " nodad" : ""));
}

void default_route(const Netns& ns, const std::string& via4, const std::string& via6) {
    ns.exec("ip route add default via " + via4);
    ns.exec("ip -6 route add default via " + via6);
}

void enable_forwarding(const Netns& ns) {
    ns.exec("sysctl -q -w net.ipv4.ip_forward=1");
    ns.exec("sysctl -q -w net.ipv6.conf.all.forwarding=1");
}

bool tcp_exchange(const Netns& client, const Netns& server, const std::string& server_addr, uint16_t port,
                  int timeout_ms) {
    return run_exchange(client, server, server_addr, port, true, timeout_ms);
}

bool udp_exchange(const Netns& client, const Netns& server, const std::string& server_addr, uint16_t port,
                  int timeout_ms) {
    return run_exchange(client, server, server_addr, port, false, timeout_ms);
}

std::string icmp_message_bytes(uint8_t type, uint8_t code, char mark) {
    std::string m(24, mark);
    m[0] = static_cast<char>(type);
    m[1] = static_cast<char>(code);
    m[2] = m[3] = 0;
    return m;
}

bool raw_exchange(const Netns& client, const std::string& client_addr, const Netns& server,
                  const std::string& server_addr, uint8_t protocol, std::string payload, bool answer, int timeout_ms) {
    return run_raw_exchange(client, client_addr, server, server_addr, protocol, std::move(payload), answer, timeout_ms);
}

GatewayTopology::GatewayTopology() : gw("gw"), dev("dev"), srv("srv"), out("out") {
    veth(gw, "icu0", dev, "eth0");
    veth(gw, "srv0", srv, "eth0");
    veth(gw, "out0", out, "eth0");
    add_address(gw, "icu0", "10.110.0.1/24");
    add_address(gw, "icu0", "fd00:110::1/64");
    add_address(gw, "srv0", "10.50.0.1/24");
    add_address(gw, "srv0", "fd00:50::1/64");
    add_address(gw, "out0", "203.0.113.1/24");
    add_address(gw, "out0", "2001:db8:113::1/64");
    add_address(dev, "eth0", "10.110.0.21/24");
    add_address(dev, "eth0", "fd00:110::21/64");
    for (const char* a : {"10.50.0.10/24", "10.50.0.5/24", "fd00:50::10/64", "fd00:50::5/64"}) add_address(srv, "eth0", a);
    add_address(out, "eth0", "203.0.113.10/24");
    add_address(out, "eth0", "2001:db8:113::10/64");
    default_route(dev, "10.110.0.1", "fd00:110::1");
    default_route(srv, "10.50.0.1", "fd00:50::1");
    default_route(out, "203.0.113.1", "2001:db8:113::1");
    enable_forwarding(gw);
    // Resolve the neighbours once, so the first test packet does not wait for it.
    auto poke = [](const Netns& ns, std::vector<std::string> addrs) {
        ns.run([&] {
            for (const auto& a : addrs) {
                socklen_t len;
                sockaddr_storage ss = parse_addr(a, 9, len);
                int s = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&ss), len);
                close(s);
            }
            return std::string();
        });
    };
    poke(dev, {"10.110.0.1", "fd00:110::1"});
    poke(srv, {"10.50.0.1", "fd00:50::1"});
    poke(out, {"203.0.113.1", "2001:db8:113::1"});
    poke(gw, {"10.110.0.21", "fd00:110::21", "10.50.0.10", "10.50.0.5", "fd00:50::10", "fd00:50::5", "203.0.113.10",
              "2001:db8:113::10"});
}

}  // namespace wardgate::testing
