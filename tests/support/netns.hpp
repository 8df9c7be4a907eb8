#pragma once
#include <sys/types.h>
// Network namespaces for kernel tests: each test builds its own (names carry the pid),
// and every namespace is deleted when its owner goes out of scope, also on failure.
// Traffic only ever goes between namespaces a test created.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wardgate::testing {

// "wg-<tag>-<pid>-<n>": unique per process and call.
std::string unique_name(const std::string& tag);

// Runs a shell command; returns its exit status, stdout (and stderr) in out.
int shell(const std::string& command, std::string* out = nullptr);
// Same, throws std::runtime_error with the output when the command fails.
std::string shell_ok(const std::string& command);

class Netns {
public:
    explicit Netns(const std::string& tag);  // ip netns add; loopback up
    ~Netns();                                 // ip netns del (kills what still runs inside)
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;

    const std::string& name() const { return name_; }
    // A command inside the namespace (ip netns exec); throws when it fails.
    std::string exec(const std::string& command) const;
    int exec_status(const std::string& command, std::string* out = nullptr) const;
    // `nft -s list table inet NAME` (empty when the table does not exist).
    std::string nft_list(const std::string& table = "wardgate", bool handles = false) const;
    // Runs fn in a child process that joined this namespace, and returns its result.
    // Exceptions in fn come back as std::runtime_error with their message.
    std::string run(const std::function<std::string()>& fn, int timeout_ms = 60000) const;

private:
    std::string name_;
};

// Starts argv[0] (a path) as a child process inside ns and returns its pid. Its standard
// output and error go to `output` (appended), or stay this process's when it is empty.
// The child exits 120 when it cannot join ns and 127 when exec fails.
pid_t spawn_in(const Netns& ns, const std::vector<std::string>& argv, const std::string& output = "");

// A veth pair: a_if in a, b_if in b, both up.
void veth(const Netns& a, const std::string& a_if, const Netns& b, const std::string& b_if);
// "10.0.0.1/24" or "fd00::1/64" (IPv6 without duplicate address detection).
void add_address(const Netns& ns, const std::string& ifname, const std::string& cidr);
void default_route(const Netns& ns, const std::string& via4, const std::string& via6);
void enable_forwarding(const Netns& ns);

// TCP: connect, send a few bytes, read them echoed back. UDP: datagram and reply.
// true when the exchange completed within timeout_ms.
// The timeout allows a lost first SYN to be sent again (after 1 s) on a busy machine.
bool tcp_exchange(const Netns& client, const Netns& server, const std::string& server_addr, uint16_t port,
                  int timeout_ms = 3000);
bool udp_exchange(const Netns& client, const Netns& server, const std::string& server_addr, uint16_t port,
                  int timeout_ms = 3000);

// One raw IP packet of `protocol` (ESP, GRE, ICMP, ...) carrying `payload` from client_addr
// in client to server_addr: true when a raw socket of that protocol in server received it.
// With `answer`, the server sends the same payload back from server_addr and it must reach
// the client too (the reply direction). ICMP payloads get their checksum filled in (bytes
// 2-3) for IPv4; the kernel computes ICMPv6's.
bool raw_exchange(const Netns& client, const std::string& client_addr, const Netns& server,
                  const std::string& server_addr, uint8_t protocol, std::string payload, bool answer,
                  int timeout_ms = 1500);

// An ICMP(v6) message of 24 bytes for raw_exchange: type, code, a zero checksum (the raw
// socket fills it in), then a marker the receiver looks for.
std::string icmp_message_bytes(uint8_t type, uint8_t code, char mark);

// The prefixes of the NFLOG messages of one group logged inside ns while during() runs.
std::vector<std::string> nflog_prefixes(const Netns& ns, uint16_t group, const std::function<void()>& during);

// A gateway routing between a device segment, a server segment and an outside network:
//   dev  10.110.0.21 fd00:110::21   (icu, gateway .1)
//   srv  10.50.0.10 (pacs) 10.50.0.5 (ntp) fd00:50::10 fd00:50::5   (servers, gateway .1)
//   out  203.0.113.10 2001:db8:113::10   (outside, gateway .1)
struct GatewayTopology {
    GatewayTopology();
    Netns gw, dev, srv, out;
};

}  // namespace wardgate::testing
