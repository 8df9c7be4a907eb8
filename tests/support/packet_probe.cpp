#include "packet_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace wardgate::testing {

namespace {

// The test gateway's links, inside kLinkNet4 / kLinkNet6.
constexpr const char* kGwSink4 = "100.64.0.1/24";
constexpr const char* kSink4 = "100.64.0.2";
constexpr const char* kGwSink6 = "2001:db8:ffff:1::1/64";
constexpr const char* kSink6 = "2001:db8:ffff:1::2";
constexpr const char* kGwClient4 = "100.65.0.1/24";
constexpr const char* kGwClient6 = "2001:db8:ffff:2::1/64";

struct PacketSocket {
    int fd = -1;
    int ifindex = 0;
};

// An AF_PACKET socket on an interface of ns: a thread joins the namespace just to create it,
// and the socket stays in that namespace.
PacketSocket packet_socket(const Netns& ns, const std::string& ifname, bool capture) {
    PacketSocket out;
    std::string error;
    std::thread t([&] {
        std::string path = "/run/netns/" + ns.name();
        int nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
            error = "cannot join " + ns.name() + ": " + std::strerror(errno);
            if (nsfd >= 0) close(nsfd);
            return;
        }
        close(nsfd);
        out.ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
        out.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, capture ? htons(ETH_P_ALL) : 0);
        if (out.fd < 0 || out.ifindex == 0) {
            error = std::string("packet socket: ") + std::strerror(errno);
            return;
        }
        if (capture) {
            int size = 32 << 20;
            setsockopt(out.fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
            sockaddr_ll ll{};
            ll.sll_family = AF_PACKET;
            ll.sll_protocol = htons(ETH_P_ALL);
            ll.sll_ifindex = out.ifindex;
            if (bind(out.fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0)
                error = std::string("bind packet socket: ") + std::strerror(errno);
        }
    });
    t.join();
    if (!error.empty()) {
        if (out.fd >= 0) close(out.fd);
        throw std::runtime_error(error);
    }
    return out;
}

std::array<uint8_t, 6> mac_of(const Netns& ns, const std::string& ifname) {
    std::string text = ns.exec("cat /sys/class/net/" + ifname + "/address");
    std::array<uint8_t, 6> mac{};
    unsigned b[6];
    if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        throw std::runtime_error("no MAC address for " + ifname + ": " + text);
    for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(b[i]);
    return mac;
}

uint32_t sum16(const uint8_t* data, size_t len, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(data[i]) << 8 | data[i + 1];
    if (len & 1) sum += uint32_t(data[len - 1]) << 8;
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xffff);
}

void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
    f[at] = static_cast<uint8_t>(v >> 8);
    f[at + 1] = static_cast<uint8_t>(v);
}

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Ethernet + IPv4/IPv6 + TCP SYN / UDP / the probe's ICMP message / ESP or GRE, every
// checksum right (conntrack marks a packet with a bad checksum invalid, and the gateway drops
// those). ICMP carries the probe's index where echo has its identifier, ESP and GRE in their
// bytes 6-7 after the marker 'w' 'g'.
std::vector<uint8_t> frame(const Probe& p, uint16_t id, uint16_t attempt, const std::array<uint8_t, 6>& dst_mac,
                           const std::array<uint8_t, 6>& src_mac) {
    bool v4 = p.src.family == Family::v4;
    size_t ip_len = v4 ? 20 : 40;
    static const uint8_t kPayload[8] = {'w', 'a', 'r', 'd', 'g', 'a', 't', 'e'};
    size_t l4_len = p.proto == Protocol::tcp ? 20 : 8 + sizeof kPayload;
    std::vector<uint8_t> f(14 + ip_len + l4_len, 0);
    std::memcpy(f.data(), dst_mac.data(), 6);
    std::memcpy(f.data() + 6, src_mac.data(), 6);
    put16(f, 12, v4 ? ETHERTYPE_IP : ETHERTYPE_IPV6);
    uint8_t* ip = f.data() + 14;
    uint8_t* l4 = ip + ip_len;
    uint8_t l4proto = p.proto == Protocol::icmp ? static_cast<uint8_t>(v4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6})
                                                : static_cast<uint8_t>(p.proto);
    if (v4) {
        ip[0] = 0x45;
        put16(f, 14 + 2, static_cast<uint16_t>(ip_len + l4_len));
        put16(f, 14 + 4, id);
        put16(f, 14 + 6, 0x4000);  // don't fragment
        ip[8] = 64;
        ip[9] = l4proto;
        std::memcpy(ip + 12, p.src.bytes.data(), 4);
        std::memcpy(ip + 16, p.dst.bytes.data(), 4);
        put16(f, 14 + 10, fold(sum16(ip, 20)));
    } else {
        ip[0] = 0x60;
        put16(f, 14 + 4, static_cast<uint16_t>(l4_len));
        ip[6] = l4proto;
        ip[7] = 64;
        std::memcpy(ip + 8, p.src.bytes.data(), 16);
        std::memcpy(ip + 24, p.dst.bytes.data(), 16);
    }
    size_t l4_at = 14 + ip_len;
    uint16_t source_port = static_cast<uint16_t>(ProbeTopology::kSourcePortBase + id);
    size_t checksum_at = 0;
    if (p.proto == Protocol::tcp) {
        put16(f, l4_at, source_port);
        put16(f, l4_at + 2, p.port);
        uint32_t seq = 0x10000u * attempt + id;
        put16(f, l4_at + 4, static_cast<uint16_t>(seq >> 16));
        put16(f, l4_at + 6, static_cast<uint16_t>(seq));
        l4[12] = 5 << 4;  // data offset: 20 bytes
        l4[13] = 0x02;    // SYN
        put16(f, l4_at + 14, 64240);
        checksum_at = l4_at + 16;
    } else if (p.proto == Protocol::udp) {
        put16(f, l4_at, source_port);
        put16(f, l4_at + 2, p.port);
        put16(f, l4_at + 4, static_cast<uint16_t>(l4_len));
        std::memcpy(l4 + 8, kPayload, sizeof kPayload);
        checksum_at = l4_at + 6;
    } else if (p.proto == Protocol::icmp) {
        auto m = icmp_message(p.port);
        l4[0] = m ? m->type : v4 ? 8 : 128;  // echo request when the message is not known
        l4[1] = m ? m->code : 0;
        put16(f, l4_at + 4, id);
        put16(f, l4_at + 6, attempt);
        std::memcpy(l4 + 8, kPayload, sizeof kPayload);
        checksum_at = l4_at + 2;
    } else {
        // ESP: SPI, then the sequence number; GRE: no flags, a protocol type, then payload.
        put16(f, l4_at, p.proto == Protocol::gre ? 0 : 0x0100);
        put16(f, l4_at + 2, p.proto == Protocol::gre ? 0x88be : 0x0001);
        l4[4] = 'w';
        l4[5] = 'g';
        put16(f, l4_at + 6, id);
        std::memcpy(l4 + 8, kPayload, sizeof kPayload);
        return f;  // neither has a checksum here
    }
    // The pseudo header: ICMPv4 has none.
    uint32_t pseudo = 0;
    if (!(v4 && p.proto == Protocol::icmp)) {
        size_t addr_len = v4 ? 4 : 16;
        pseudo = sum16(p.src.bytes.data(), addr_len, pseudo);
        pseudo = sum16(p.dst.bytes.data(), addr_len, pseudo);
        pseudo += l4proto;
        pseudo += static_cast<uint32_t>(l4_len);
    }
    uint16_t checksum = fold(sum16(l4, l4_len, pseudo));
    if (checksum == 0 && p.proto == Protocol::udp) checksum = 0xffff;
    put16(f, checksum_at, checksum);
    return f;
}

struct Seen {
    IpAddress src, dst;
    Protocol proto = Protocol::tcp;
    uint16_t port = 0;
    size_t index = 0;
    bool probe = false;  // a frame a probe sent at all
};

Seen parse(const uint8_t* f, size_t len) {
    Seen s;
    if (len < 14) return s;
    uint16_t type = get16(f + 12);
    const uint8_t* ip = f + 14;
    size_t left = len - 14;
    uint8_t l4proto = 0;
    const uint8_t* l4 = nullptr;
    size_t l4_len = 0;
    if (type == ETHERTYPE_IP && left >= 20) {
        size_t ihl = (ip[0] & 0x0f) * 4u;
        if (ihl < 20 || left < ihl) return s;
        s.src.family = s.dst.family = Family::v4;
        std::memcpy(s.src.bytes.data(), ip + 12, 4);
        std::memcpy(s.dst.bytes.data(), ip + 16, 4);
        l4proto = ip[9];
        l4 = ip + ihl;
        l4_len = left - ihl;
    } else if (type == ETHERTYPE_IPV6 && left >= 40) {
        s.src.family = s.dst.family = Family::v6;
        std::memcpy(s.src.bytes.data(), ip + 8, 16);
        std::memcpy(s.dst.bytes.data(), ip + 24, 16);
        l4proto = ip[6];
        l4 = ip + 40;
        l4_len = left - 40;
    } else {
        return s;
    }
    if ((l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP) && l4_len >= 8) {
        s.proto = static_cast<Protocol>(l4proto);
        s.port = get16(l4 + 2);
        s.index = static_cast<size_t>(get16(l4)) - ProbeTopology::kSourcePortBase;
        s.probe = get16(l4) >= ProbeTopology::kSourcePortBase;
    } else if ((l4proto == IPPROTO_ICMP || l4proto == IPPROTO_ICMPV6) && l4_len >= 16 && std::memcmp(l4 + 8, "wardgate", 8) == 0) {
        s.proto = Protocol::icmp;
        s.port = icmp_port(l4[0], l4[1]);
        s.index = get16(l4 + 4);
        s.probe = true;
    } else if ((l4proto == IPPROTO_ESP || l4proto == IPPROTO_GRE) && l4_len >= 8 && l4[4] == 'w' && l4[5] == 'g') {
        s.proto = static_cast<Protocol>(l4proto);
        s.index = get16(l4 + 6);
        s.probe = true;
    }
    return s;
}

}  // namespace

ProbeTopology::ProbeTopology() : client_("dc"), gw_("dg"), sink_("ds") {
    gw_.exec("sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0");
    veth(client_, "eth0", gw_, "c0");
    veth(gw_, "s0", sink_, "eth0");
    gw_.exec("sysctl -q -w net.ipv4.conf.c0.rp_filter=0 net.ipv4.conf.s0.rp_filter=0");
    add_address(gw_, "c0", kGwClient4);
    add_address(gw_, "c0", kGwClient6);
    add_address(gw_, "s0", kGwSink4);
    add_address(gw_, "s0", kGwSink6);
    add_address(sink_, "eth0", std::string(kSink4) + "/24");
    add_address(sink_, "eth0", std::string(kSink6) + "/64");
    // The sink captures and never answers: no ICMP errors, no resets going back.
    sink_.exec("nft 'add table inet sink; add chain inet sink in { type filter hook prerouting priority -400; policy drop; }'");
    // The gateway knows the sink's MAC from the start, so no packet waits for ARP or ND.
    std::string sink_mac;
    for (uint8_t b : mac_of(sink_, "eth0")) sink_mac += fmt::format("{}{:02x}", sink_mac.empty() ? "" : ":", b);
    gw_.exec("ip neigh replace " + std::string(kSink4) + " lladdr " + sink_mac + " dev s0 nud permanent");
    gw_.exec("ip -6 neigh replace " + std::string(kSink6) + " lladdr " + sink_mac + " dev s0 nud permanent");
    gw_.exec(std::string("ip route add default via ") + kSink4 + " dev s0");
    gw_.exec(std::string("ip -6 route add default via ") + kSink6 + " dev s0");
    enable_forwarding(gw_);
    gw_mac_ = mac_of(gw_, "c0");
    client_mac_ = mac_of(client_, "eth0");
    auto client = packet_socket(client_, "eth0", false);
    client_fd_ = client.fd;
    client_ifindex_ = client.ifindex;
    sink_fd_ = packet_socket(sink_, "eth0", true).fd;
}

ProbeTopology::~ProbeTopology() {
    if (client_fd_ >= 0) close(client_fd_);
    if (sink_fd_ >= 0) close(sink_fd_);
}

void ProbeTopology::drain(const std::vector<Probe>& probes, std::set<size_t>& arrived, std::vector<std::string>& strays,
                          int wait_ms) {
    uint8_t buf[2048];
    for (;;) {
        pollfd p{sink_fd_, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0) return;
        for (;;) {
            sockaddr_ll from{};
            socklen_t from_len = sizeof from;
            ssize_t n = recvfrom(sink_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
            if (n < 0) break;
            if (from.sll_pkttype == PACKET_OUTGOING) continue;
            Seen s = parse(buf, static_cast<size_t>(n));
            if (!s.probe) continue;  // neighbour discovery, router solicitations, ...
            bool matches = s.index < probes.size() && probes[s.index].src == s.src && probes[s.index].dst == s.dst &&
                           probes[s.index].proto == s.proto && probes[s.index].port == s.port;
            if (matches) {
                arrived.insert(s.index);
            } else {
                Probe seen{s.src, s.dst, s.proto, s.port};
                strays.push_back(seen.text());
            }
        }
    }
}

std::set<size_t> ProbeTopology::send(const std::vector<Probe>& probes, const std::vector<size_t>& which,
                                     uint16_t attempt, std::vector<std::string>& strays, int settle_ms) {
    if (probes.size() > kMaxProbes) throw std::runtime_error("too many probes for distinct source ports");
    std::set<size_t> arrived;
    drain(probes, arrived, strays, 0);
    size_t sent = 0;
    for (size_t i : which) {
        auto f = frame(probes[i], static_cast<uint16_t>(i), attempt, gw_mac_, client_mac_);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = client_ifindex_;
        to.sll_halen = 6;
        std::memcpy(to.sll_addr, gw_mac_.data(), 6);
        for (;;) {
            if (sendto(client_fd_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0) break;
            if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
                throw std::runtime_error(std::string("send probe: ") + std::strerror(errno));
            drain(probes, arrived, strays, 1);
        }
        // Small batches keep the receive backlog of the namespaces short.
        if (++sent % 32 == 0) drain(probes, arrived, strays, 0);
    }
    drain(probes, arrived, strays, settle_ms);
    return arrived;
}

}  // namespace wardgate::testing
