#pragma once
// Packets the gateway's ruleset logs to an NFLOG group before dropping them (see
// nft_log_prefix: "wardgate drop <segment>: ", "wardgate monitor <segment>: ", or
// "wardgate <rule>: " for an explicit deny), as denied-attempt records.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "wardgate/flows/dissect.hpp"
#include "wardgate/flows/flow_record.hpp"
#include "wardgate/observe/conntrack.hpp"

namespace wardgate::observe {

struct LogPrefix {
    std::string segment;  // the segment whose default deny logged it; empty for a rule
    std::string rule;     // the explicit rule that logged it; empty for a segment
    bool monitor = false; // monitor mode: logged and accepted, not dropped
    bool wardgate = false;  // the prefix is one wardgate writes
    bool trial = false;     // an approval on trial logged a connection it accepted: not a drop
    // "default deny of segment icu", "rule deny-telnet", or the raw prefix.
    std::string describe() const;
};
LogPrefix parse_log_prefix(std::string_view prefix);

struct DeniedPacket {
    IpAddress source, destination;
    Protocol protocol = Protocol::tcp;
    uint16_t destination_port = 0;  // 0 for ICMP
    uint32_t length = 0;            // IP packet length
    std::string prefix;             // as logged
    LogPrefix parsed;
    double time = 0;                // epoch seconds
    // What the packet's payload shows, as far as the copy reaches (see dissect.hpp): a
    // dropped attempt is never answered, so this is evidence to read, never a label that
    // changes the policy.
    std::optional<Recognition> application;
    std::optional<DhcpAnnouncement> dhcp;
    FlowRecord record() const;      // one attempt, not established
};

// Decodes the IPv4 or IPv6 header (and the L4 header's ports) at the start of `packet`.
// Nothing for other protocols or a packet cut short before the fields needed.
std::optional<DeniedPacket> decode_denied_packet(std::span<const uint8_t> packet);

struct NflogListenerOptions {
    int receive_buffer = 8 << 20;
    // Bytes of each packet copied to the listener: the headers, and enough of the payload to
    // recognise a DHCP message or a DICOM association request.
    uint32_t copy_bytes = 640;
};

// Binds the NFLOG group (only one listener per group and namespace). Non-blocking: poll
// fd(), then read(). Overruns are counted and logged, never fatal.
class NflogListener {
public:
    explicit NflogListener(uint16_t group, const NflogListenerOptions& options = {});  // throws ObserveError
    ~NflogListener();
    NflogListener(const NflogListener&) = delete;
    NflogListener& operator=(const NflogListener&) = delete;

    int fd() const;
    uint16_t group() const { return group_; }
    size_t read(const std::function<void(const DeniedPacket&)>& on_packet);

    uint64_t packets() const { return packets_; }
    uint64_t lost_events() const { return lost_; }
    uint64_t undecodable() const { return undecodable_; }  // not IP, or a protocol other than TCP/UDP/ICMP

private:
    nl_sock* sock_ = nullptr;
    uint16_t group_ = 0;
    uint64_t packets_ = 0, lost_ = 0, undecodable_ = 0;
};

}  // namespace wardgate::observe
