#pragma once
// Single packets through a gateway namespace, with any source address:
//   client --veth-- gw --veth-- sink
// The client writes whole Ethernet frames to the gateway's MAC (an AF_PACKET socket, so no
// address needs to exist on the client); the gateway forwards everything to the sink by its
// default routes; the sink captures what arrives and answers nothing.
#include <set>
#include <string>
#include <vector>

#include "netns.hpp"
#include "random_site.hpp"

namespace wardgate::testing {

class ProbeTopology {
public:
    ProbeTopology();
    ~ProbeTopology();
    ProbeTopology(const ProbeTopology&) = delete;
    ProbeTopology& operator=(const ProbeTopology&) = delete;

    const Netns& gateway() const { return gw_; }

    // Sends probes[i] for every i in `which` as one new connection each (a TCP SYN, a UDP
    // datagram, the probe's ICMP message or an ESP or GRE packet; the TCP or UDP source port
    // is kSourcePortBase + i, the ICMP identifier or ESP and GRE marker i), and
    // returns the indexes of those that reached the sink within `settle_ms` after the last.
    // Frames that reach the sink but match no probe go to `strays`, described.
    std::set<size_t> send(const std::vector<Probe>& probes, const std::vector<size_t>& which, uint16_t attempt,
                          std::vector<std::string>& strays, int settle_ms = 150);

    static constexpr uint16_t kSourcePortBase = 20000;
    static constexpr size_t kMaxProbes = 40000;

private:
    void drain(const std::vector<Probe>& probes, std::set<size_t>& arrived, std::vector<std::string>& strays,
               int wait_ms);

    Netns client_, gw_, sink_;
    int client_fd_ = -1, sink_fd_ = -1;
    int client_ifindex_ = 0;
    std::array<uint8_t, 6> client_mac_{}, gw_mac_{};
};

}  // namespace wardgate::testing
