#pragma once
// Test-only readers that parse an exported firewall configuration back into the
// (source prefix, destination prefix, protocol, port range, action) tuples it permits and
// denies, so a test can prove an export loses no rule and adds none. They know the shape
// wardgate's templates write, not every configuration the platforms accept.
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/policy/ir.hpp"
#include "wardgate/render/export.hpp"

namespace wardgate::testing {

struct FlowTuple {
    Prefix src, dst;
    int protocol = 0;            // 0: every protocol; 1: ICMP (v4 or v6); else the IP protocol number
    // Ports; for ICMP the messages as icmp_port() encodes them (one type: every code of it).
    // 0-65535 when every port or message is allowed, and for protocols without ports.
    PortRange ports{0, 65535};
    bool allow = true;

    auto operator<=>(const FlowTuple&) const = default;
    std::string to_string() const;
};

// One rule of the configuration, in order, with where it applies.
struct ParsedRule {
    std::string context;          // rules are evaluated in order within one context (ACL, zone pair, chain)
    std::set<std::string> from;   // zones the traffic enters from ("vlan110", "outside"); empty: any
    std::set<std::string> to;     // zones it leaves to; empty: any
    std::vector<FlowTuple> tuples;
    bool allow = true;
    bool logged = false;
    bool default_deny = false;    // the trailing catch-all of a context (not compared as a tuple)
    // A stateless list's entry letting back the replies of allowed connections (ios-switch):
    // its tuples' ports are the source ports (TCP, UDP) or the reply message (ICMP); not
    // compared as a policy tuple.
    bool reply = false;
    bool established = false;     // TCP: only segments with ACK or RST
};

struct ParsedConfig {
    std::vector<ParsedRule> rules;
};

// target: asa, ios, ios-switch, panos, fortios, srx, iptables, nft. Throws std::runtime_error with the
// offending line when the text has a shape the reader does not know.
ParsedConfig read_export(std::string_view target, const ExportResult& exported);

// Every tuple the policy permits or denies explicitly (rules and baseline pinholes).
std::set<FlowTuple> expected_tuples(const Policy& policy);
// Every tuple of the configuration's rules, default denies left out.
std::set<FlowTuple> parsed_tuples(const ParsedConfig& config);

// The zones ("vlanN" per segment, "outside") whose addresses a prefix overlaps.
std::set<std::string> zones_of(const Policy& policy, const Prefix& p);

// The sites the export tests run on, compiled as of kExportToday: the example hospital and
// tests/data/export/<case>.
inline constexpr const char* kExportToday = "2026-11-22";
const std::vector<std::string>& export_cases();
std::filesystem::path export_case_dir(const std::string& name);

// Port 0 carries no connection: for a protocol with ports, 1-65535 (what FortiOS, PAN-OS and
// SRX write for "every port") and 0-65535 let the same traffic through; both become 0-65535.
PortRange every_port_as_one(int protocol, PortRange ports);

// The example hospital one change later: pump-icu-02 moved from the infusion-pump role to
// patient-monitor, ws-icu-02 moved from the workstations segment to biomed (new addresses),
// and the approval CHG-5230 removed. Written into `dir`; returns the site.
std::filesystem::path write_next_hospital(const std::filesystem::path& dir);

// What a device holds after loading `first` and then `second`: each file of `second` read
// after the same file of `first`, as one text; the main file of `first` is followed by its
// undo file, where it has one (PAN-OS, FortiOS), as the file headers say to load them.
ExportResult loaded_after(const ExportResult& first, const ExportResult& second);

}  // namespace wardgate::testing
