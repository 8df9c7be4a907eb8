// NetFlow v9 and IPFIX collection over loopback: a sender paces prebuilt 30-record
// datagrams at increasing rates; the collector (socket, decoder, edge aggregation) must
// take every record with no sequence gap and no kernel drop. The baseline is the same
// socket read by a loop that decodes nothing. The rates are as fast as one core each for
// the sender and the receiver allow, so the ratio is the figure to compare across machines.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../tests/support/netflow_packets.hpp"
#include "wardgate/flows/netflow_collector.hpp"

using namespace wardgate;
using namespace wardgate::netflow;
using wardgate::testing::Message;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRecordsPerPacket = 30;

struct Stream {
    std::vector<uint8_t> templates;  // sent first
    std::vector<uint8_t> data;       // sent again and again with the sequence number patched
    size_t sequence_at = 0;
    uint32_t sequence_step = 0;      // per datagram: 1 for v9, the record count for IPFIX
};

void record(Message& m, int i) {
    m.p.u32(0x0a000000 + (i % 250) + 1).u32(0x0a010001).u16(40000 + i).u16(i % 2 ? 443 : 2575).u8(6).u8(0x1b);
    m.p.u32(10).u32(4000).u32(90000).u32(99000);
}

Stream make_stream(int version) {
    Stream s;
    const uint16_t template_set = version == 9 ? 0 : 2;
    Message t(version, 0, 1);
    t.begin_set(template_set)
        .template_record(256, {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {6, 1}, {2, 4}, {1, 4}, {22, 4}, {21, 4}})
        .end_set();
    s.templates = t.finish(1);
    Message d(version, version == 9 ? 1 : 0, 1);
    d.begin_set(256);
    for (int i = 0; i < kRecordsPerPacket; ++i) record(d, i);
    d.end_set();
    s.data = d.finish(kRecordsPerPacket);
    s.sequence_at = version == 9 ? 12 : 8;
    s.sequence_step = version == 9 ? 1 : kRecordsPerPacket;
    return s;
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    b[at] = uint8_t(v >> 24), b[at + 1] = uint8_t(v >> 16), b[at + 2] = uint8_t(v >> 8), b[at + 3] = uint8_t(v);
}

// Sends `packets` data datagrams at `rate` records per second; returns the seconds it took.
double send_stream(const Stream& s, uint16_t port, double rate, uint64_t packets) {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::send(fd, s.templates.data(), s.templates.size(), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));

    constexpr size_t kBurst = 32;
    std::vector<std::vector<uint8_t>> bufs(kBurst, s.data);
    std::vector<iovec> iov(kBurst);
    std::vector<mmsghdr> msgs(kBurst);
    uint32_t sequence = s.sequence_step == 1 ? 1 : 0;
    const double packets_per_second = rate / kRecordsPerPacket;
    const auto start = Clock::now();
    uint64_t sent = 0;
    while (sent < packets) {
        const double due = std::chrono::duration<double>(Clock::now() - start).count() * packets_per_second;
        uint64_t n = std::min<uint64_t>({kBurst, packets - sent, due > double(sent) ? uint64_t(due - double(sent)) + 1 : 0});
        if (n == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
            continue;
        }
        for (uint64_t i = 0; i < n; ++i) {
            put32(bufs[i], s.sequence_at, sequence);
            sequence += s.sequence_step;
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        uint64_t done = 0;
        while (done < n) {
            int r = ::sendmmsg(fd, msgs.data() + done, unsigned(n - done), 0);
            if (r > 0) done += uint64_t(r);
        }
        sent += n;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ::close(fd);
    return seconds;
}

struct Step {
    double sent_rate = 0;      // records/s the sender achieved
    double received_rate = 0;  // records/s over the receiver's busy time
    uint64_t records = 0, expected = 0, lost = 0, drops = 0;
    bool clean() const { return records == expected && lost == 0 && drops == 0; }
};

// Receives until no datagram came for a while after the sender finished.
template <typename Poll>
void drain(std::atomic<bool>& sending, Poll poll, Clock::time_point& first, Clock::time_point& last) {
    bool any = false;
    for (;;) {
        size_t n = poll();
        const auto now = Clock::now();
        if (n > 0) {
            if (!any) first = now;
            any = true;
            last = now;
        } else if (!sending && (!any || now - last > std::chrono::milliseconds(300))) {
            break;
        }
    }
}

Step run_collector(const Stream& s, double rate, double seconds, int buffer) {
    Collector c("127.0.0.1:0", buffer);
    std::atomic<bool> sending{true};
    Clock::time_point first{}, last{};
    std::thread rx([&] { drain(sending, [&] { return c.poll(20); }, first, last); });
    const uint64_t packets = uint64_t(rate * seconds / kRecordsPerPacket) + 1;
    Step step;
    step.sent_rate = double(packets * kRecordsPerPacket) / send_stream(s, c.port(), rate, packets);
    sending = false;
    rx.join();
    const auto& k = c.decoder().counters();
    step.expected = packets * kRecordsPerPacket;
    step.records = k.records;
    step.lost = k.lost_records + k.lost_packets * kRecordsPerPacket;
    step.drops = c.receiver_stats().kernel_drops;
    step.received_rate = double(step.records) / std::max(1e-9, std::chrono::duration<double>(last - first).count());
    return step;
}

Step run_baseline(const Stream& s, double rate, double seconds, int buffer) {
    UdpReceiver r("127.0.0.1:0", buffer);
    std::atomic<bool> sending{true};
    Clock::time_point first{}, last{};
    uint64_t datagrams = 0;
    auto count = [&](const Exporter&, const uint8_t*, size_t) { ++datagrams; };
    std::thread rx([&] { drain(sending, [&] { return r.receive(20, count); }, first, last); });
    const uint64_t packets = uint64_t(rate * seconds / kRecordsPerPacket) + 1;
    Step step;
    step.sent_rate = double(packets * kRecordsPerPacket) / send_stream(s, r.port(), rate, packets);
    sending = false;
    rx.join();
    step.expected = packets * kRecordsPerPacket;
    step.records = (datagrams - 1) * kRecordsPerPacket;  // the template datagram carries none
    step.drops = r.stats().kernel_drops;
    step.received_rate = double(step.records) / std::max(1e-9, std::chrono::duration<double>(last - first).count());
    return step;
}

// Decoding alone, in memory: records per second.
double decode_only(const Stream& s, uint64_t packets) {
    Decoder d;
    Exporter e{*IpAddress::parse("127.0.0.1"), 9995};
    d.decode(e, s.templates.data(), s.templates.size());
    auto data = s.data;
    uint32_t sequence = s.sequence_step == 1 ? 1 : 0;
    Aggregator agg;
    const auto start = Clock::now();
    for (uint64_t i = 0; i < packets; ++i) {
        put32(data, s.sequence_at, sequence);
        sequence += s.sequence_step;
        for (const auto& r : d.decode(e, data.data(), data.size())) agg.add(r.flow);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return double(d.counters().records) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"NetFlow v9 / IPFIX collector throughput over loopback (records/s without loss)"};
    double seconds = 2, start_rate = 50000, max_rate = 6.4e6, factor = 1.5;
    int buffer = 4 << 20;
    app.add_option("--seconds", seconds, "Seconds per rate step");
    app.add_option("--start-rate", start_rate, "First rate, records/s");
    app.add_option("--factor", factor, "Each step multiplies the rate by this")->check(CLI::Range(1.05, 10.0));
    app.add_option("--max-rate", max_rate, "Highest rate tried, records/s");
    app.add_option("--receive-buffer", buffer, "Socket receive buffer, bytes");
    CLI11_PARSE(app, argc, argv);

    for (int version : {9, 10}) {
        const Stream stream = make_stream(version);
        const char* name = version == 9 ? "NetFlow v9" : "IPFIX";
        fmt::print("{}: {} records per {}-byte datagram; decode alone: {:.0f} records/s\n", name, kRecordsPerPacket,
                   stream.data.size(), decode_only(stream, 200000));
        double best[2] = {0, 0};
        for (int which = 0; which < 2; ++which) {
            const char* label = which == 0 ? "bare recvmmsg" : "collector";
            for (double rate = start_rate; rate <= max_rate; rate *= factor) {
                Step s = which == 0 ? run_baseline(stream, rate, seconds, buffer) : run_collector(stream, rate, seconds, buffer);
                fmt::print("  {:13} target {:>9.0f}  sent {:>9.0f}  received {:>9.0f} records/s  {}/{} records, "
                           "{} lost by sequence, {} kernel drops{}\n",
                           label, rate, s.sent_rate, s.received_rate, s.records, s.expected, s.lost, s.drops,
                           s.clean() ? "" : "  LOSS");
                if (!s.clean()) break;
                best[which] = std::max(best[which], std::min(s.sent_rate, s.received_rate));
            }
        }
        fmt::print("{}: highest rate without loss: collector {:.0f} records/s, bare recvmmsg {:.0f} records/s, "
                   "ratio {:.2f}; target 200000: {}\n\n",
                   name, best[1], best[0], best[0] > 0 ? best[1] / best[0] : 0.0, best[1] >= 200000 ? "met" : "NOT met");
    }
}
