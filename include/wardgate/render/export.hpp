#pragma once
// The policy as another firewall's configuration: Cisco ASA, IOS and Catalyst, PAN-OS, FortiOS,
// Juniper SRX, iptables-restore and nftables. Each target builds a view of the policy and
// renders it through the Mustache templates in templates/<target>/, so a site can adjust a
// template without recompiling (templates/README.md documents every view).
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

struct ExportFile {
    std::string filename;
    std::string text;
};

struct ExportResult {
    std::string filename;                // "<site>-<target>.<ext>", the site name made file-safe
    std::string text;                    // the main file
    std::vector<ExportFile> companions;  // files that belong with it (iptables: IPv6 rules, ipsets)
    std::vector<std::string> warnings;   // what the target cannot express exactly; never dropped silently

    // Everything in one text, each companion after a "# ==> NAME <==" line (standard output form).
    std::string combined() const;
};

// What a site says about the device an export is for.
struct ExportOptions {
    // The device's interface for a segment (by the segment's name), for "outside" (the uplink)
    // and for "trunk" (the port carrying the segment VLANs): "icu" -> "GigabitEthernet0/1.110".
    // Interfaces left out get the target's defaults, which the file header lists.
    std::map<std::string, std::string> interfaces;
    // SRX: the logged default denies as multizone global policies (Junos 15.1X49-D30 or 17.3R1
    // and later) instead of one policy at the end of every zone pair.
    bool srx_global_policies = false;
};

// The policy uses something the target cannot express exactly (an IP protocol or ICMP message
// types it has no syntax for here). Nothing is rendered: dropping the rule would block a flow
// someone allowed, dropping the restriction would open more than they allowed.
struct ExportLimit : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// asa, ios, ios-switch, panos, fortios, srx, iptables, nft.
const std::vector<std::string>& export_targets();

// Whether a target names an interface by this key (a segment, "outside" or "trunk"): nft and
// iptables name none (they filter by address on the gateway, whose own interfaces carry the
// segments), ios-switch no trunk (a Catalyst's segment VLANs are SVIs). Empty when it does,
// else why not.
std::string export_interface_refusal(std::string_view target, std::string_view key);

// Throws std::invalid_argument for an unknown target and std::runtime_error when a template
// is missing or does not parse. The nft target is exactly render_nft(policy).
// Throws std::invalid_argument too when options name an interface for no segment or one the
// target does not take (export_interface_refusal), and
// ExportLimit when the target cannot express the policy.
ExportResult render_export(const Policy& policy, std::string_view target, const std::filesystem::path& template_dir,
                           const ExportOptions& options = {});

// The templates installed with the binary: <prefix>/share/wardgate/templates beside <prefix>/bin
// (the build tree has the same layout).
std::filesystem::path default_template_dir();

}  // namespace wardgate
