#pragma once
// Packet captures (pcap and pcapng, through libpcap) turned into connections.
//
// Link types: Ethernet (with 802.1Q / QinQ tags 0x8100, 0x88a8, 0x9100), raw IP
// (12, 14, 101, 228, 229), Linux cooked SLL (113) and SLL2 (276), BSD loopback (0).
// IPv4 and IPv6 (extension headers skipped); TCP, UDP, ICMP and ICMPv6 (as icmp).
//
// Who initiated a connection, and whether it was answered, is decided when the flow ends
// and only on evidence from both sides: a packet anyone can forge alone (a SYN+ACK, a
// reply from a service port, an echo reply) never establishes a flow nor turns its
// direction around; such a flow keeps its first packet's sender as the initiator.
//  - TCP: a SYN without ACK names its sender. Established only when the handshake
//    completed: that SYN, a SYN+ACK back, then an ACK or data from the SYN's sender.
//    Without a SYN (the connection began before the capture, marked handshake_missing)
//    the flow is never established (Zeek's OTH); its initiator is the receiver of a
//    SYN+ACK it acknowledged, else, when both sides sent more than a RST, the side
//    responder_by_ports() does not name, else the first packet's sender.
//  - UDP: established when both sides sent. The first packet's sender initiated, unless
//    the other side answered and that first packet went from a service port to a client
//    port (a DNS answer whose query came before the capture): then the roles flip.
//  - ICMP: the sender of the first request (echo, timestamp, information, address mask),
//    else the first packet's sender; established when the request got its reply.
//    ICMPv6 neighbour discovery and multicast listener messages are skipped: they are
//    link housekeeping, not conversations. So are packets from a group address.
//
// The application a flow carries (DICOM, HL7, DHCP, telnet...) is recognised from the first
// payload packets each side sent, whatever the port (dissect.hpp).
//
// Bytes are payload bytes of both directions as Zeek counts orig_bytes + resp_bytes:
// TCP in sequence space (a retransmission counts once; bytes the capture missed but the
// peer acknowledged count), UDP the UDP payload, ICMP what follows the 8-byte header.
//
// A flow ends after an idle timeout, shortly after a TCP FIN from both sides or a RST,
// or when the table is full (the least recently active flow is written out early),
// so memory is bounded by the number of concurrent flows, not by the capture size.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "wardgate/core/application.hpp"
#include "wardgate/flows/dissect.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/readers.hpp"

namespace wardgate {

struct PcapOptions {
    double tcp_idle_timeout = 300;   // seconds of capture time; Zeek's tcp_inactivity_timeout
    double udp_idle_timeout = 60;
    double icmp_idle_timeout = 60;
    double close_linger = 5;         // after FIN both ways or RST, late packets still belong to the flow
    size_t max_flows = size_t{1} << 18;  // concurrent flows kept; beyond this the least recently active ends early
};

enum class DirectionSource {
    handshake,     // TCP SYN or SYN+ACK seen
    ports,         // decided by the port heuristic (TCP without handshake, UDP flipped)
    first_packet,  // the sender of the first packet
};

struct PcapFlow {
    FlowRecord record;
    DirectionSource direction = DirectionSource::first_packet;
    bool handshake_missing = false;  // TCP only: the connection began before the capture
    uint64_t packets = 0;
    // Recognised from the first payload packets of each side (see dissect.hpp). Also in
    // record.applications, except an insecure protocol in a flow that was never answered.
    std::optional<Application> application;
    std::string application_detail;
    // DHCP: the first message of each client and type the flow carried (at most
    // kDhcpClientsPerFlow), whatever the packet's position in the flow.
    struct DhcpMessage {
        double time = 0;
        DhcpAnnouncement announcement;
    };
    std::vector<DhcpMessage> dhcp_messages;
    // The Ethernet source address of each side's frames (see MacSighting); 0 when none.
    uint64_t initiator_mac = 0;
    uint64_t responder_mac = 0;
};
inline constexpr size_t kDhcpClientsPerFlow = 256;

struct PcapSummary {
    // rows: packets read; accepted: flows produced; skipped: packets not used, by reason.
    ReadSummary read;
    int link_type = -1;
    uint64_t tcp_without_handshake = 0;
    uint64_t udp_flipped = 0;
    uint64_t ended_early = 0;     // flows written out early because the table was full
    uint64_t peak_flows = 0;      // most flows tracked at once
    // Set when the capture is truncated or corrupt: what was read before is kept.
    std::optional<Diagnostic> stopped;
};

using PcapFlowSink = std::function<void(const PcapFlow&)>;

// True for the pcap magic numbers (a1b2c3d4, a1b23c4d, either byte order) and pcapng (0a0d0d0a).
bool is_capture_magic(std::string_view first_bytes);

// Is this port where a service listens rather than a client's source port? Ports up to
// 1023 (except client-side ones such as 68 and 546) and well-known registered service
// ports (HL7 2575/6661, DICOM 11112, RDP 3389, VNC 5900-5903, HTTP 8080...).
bool is_service_port(uint16_t port);
// The side of a connection between port_a and port_b that is the responder: 0 for a,
// 1 for b, -1 when the ports do not tell.
int responder_by_ports(uint16_t port_a, uint16_t port_b);

// Throws InputError when the file cannot be opened or is not a capture libpcap reads.
// A capture that is truncated or corrupt part way is read up to the damage and the
// damage reported in PcapSummary::stopped (and in read.warnings with its location).
// A pcapng capture whose interfaces differ in snapshot length is read whole; one whose
// interfaces differ in link type is refused with an InputError that says how to split it.
PcapSummary read_pcap(const std::filesystem::path& file, const PcapFlowSink& sink,
                      const ProgressCallback& progress = {}, const PcapOptions& options = {});
ReadSummary read_pcap(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});
// The same, with the capture's own summary; flows whose application was recognised leave
// their sighting in the aggregator (Aggregator::note).
PcapSummary read_pcap_edges(const std::filesystem::path& file, Aggregator& out, const ProgressCallback& progress = {});

}  // namespace wardgate
