#pragma once
// Receiving NetFlow v5/v9 and IPFIX over UDP: a socket read in batches (recvmmsg), its
// datagrams decoded (wardgate/flows/netflow.hpp) and folded into edges.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/netflow.hpp"

namespace wardgate::netflow {

struct ReceiverStats {
    uint64_t datagrams = 0;
    uint64_t bytes = 0;
    uint64_t kernel_drops = 0;  // datagrams the kernel dropped because the socket buffer was full (SO_RXQ_OVFL)
    uint64_t truncated = 0;     // datagrams longer than the receive buffer (cut, then decoded as they are)
    int receive_buffer = 0;     // bytes the kernel granted
};

using DatagramHandler = std::function<void(const Exporter& from, const uint8_t* bytes, size_t size)>;

class UdpReceiver {
public:
    // listen: "127.0.0.1:2055", "[::1]:2055", "[::]:2055" (IPv6 and IPv4), port 0 for any free port.
    // Throws std::runtime_error naming the address when it cannot bind.
    explicit UdpReceiver(const std::string& listen, int receive_buffer = 32 << 20, unsigned batch = 64);
    ~UdpReceiver();
    UdpReceiver(const UdpReceiver&) = delete;
    UdpReceiver& operator=(const UdpReceiver&) = delete;

    uint16_t port() const;
    // Waits up to timeout_ms for datagrams and hands each to the handler. Returns how many
    // were received: 0 after the timeout or a signal.
    size_t receive(int timeout_ms, const DatagramHandler& handler);
    const ReceiverStats& stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A receiver, a decoder and the edges seen since the last take_edges().
class Collector {
public:
    explicit Collector(const std::string& listen, int receive_buffer = 32 << 20, const DecoderOptions& options = {});
    uint16_t port() const { return receiver_.port(); }
    // Receives and decodes what arrives within timeout_ms; returns the datagrams received.
    size_t poll(int timeout_ms);
    // The edges since the last call, and the records that made them.
    Aggregator take_edges();
    const Decoder& decoder() const { return decoder_; }
    const ReceiverStats& receiver_stats() const { return receiver_.stats(); }
    // Called with each datagram's records, after they are aggregated. May be empty.
    std::function<void(std::span<const NetflowRecord>)> on_records;

private:
    UdpReceiver receiver_;
    Decoder decoder_;
    Aggregator pending_;
    std::vector<FlowRecord> flows_;  // one datagram's, added to pending_ together
};

}  // namespace wardgate::netflow
