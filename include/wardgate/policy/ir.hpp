#pragma once
// The backend-independent policy. Renderers, the planner and the applier see only this.
#include <optional>
#include <string>
#include <vector>

#include "wardgate/site/site.hpp"

namespace wardgate {

struct SegmentIR {
    std::string name;
    SegmentKind kind = SegmentKind::devices;
    std::optional<uint16_t> vlan;
    std::vector<Prefix> subnets;
    std::vector<IpAddress> gateways;
    bool monitor = false;  // would-be drops are logged and accepted
};

// A DNS name whose resolved addresses are part of a group; the gateway keeps them fresh.
struct DnsBinding {
    std::string name;                  // update.vendor.example
    std::string endpoint;              // the endpoint that lists it
    std::vector<IpAddress> addresses;  // sorted; what the name resolved to (and, on the gateway, still in grace)
    std::string resolved;              // "2026-11-22T10:15Z": when

    std::string text() const { return name + " resolved " + resolved; }
};

struct AddressGroup {
    enum class Kind { devices, role, segment, endpoint, device, network, site, tag };
    Kind kind = Kind::devices;
    std::string name;                  // identifier safe for every backend: [a-z0-9_], unique
    std::string label;                 // what a person reads
    std::vector<std::string> members;  // device and endpoint names, sorted
    std::vector<Prefix> prefixes;      // collapsed and sorted, IPv4 before IPv6
    bool any = false;                  // matches every address (no address test)
    std::vector<DnsBinding> dns;       // names whose addresses are in prefixes, sorted by name
    std::vector<Prefix> fixed;         // with dns: the prefixes that do not come from DNS, collapsed

    bool contains(const IpAddress& a) const;  // binary search over prefixes
    bool has(Family f) const;
};

struct Provenance {
    enum class Kind { declared, approved, baseline, denied };
    Kind kind = Kind::declared;
    Service service;             // the part of the rule this reason covers
    std::string source;          // "BD Alaris 8015 profile", "approval CHG-4711 by M. Keller", ...
    std::string detail;          // purpose or reason
    std::string origin;          // file:line
    std::optional<Date> expires;
    std::string document;        // the manufacturer's document behind a declaration (MDS2 table, MUD URL)
    std::string ticket;          // approvals and denies: the change ticket
    std::string owner;           // approvals and denies: who answers for it
    bool trial = false;          // approvals and denies in monitor: logged, and a deny does not drop

    // source, with the document in brackets when there is one
    std::string source_and_document() const { return document.empty() ? source : source + " (" + document + ")"; }
};
std::string_view to_string(Provenance::Kind k);
std::string_view to_string(AddressGroup::Kind k);

struct Rule {
    enum class Action { allow, deny };
    Action action = Action::allow;
    size_t src = 0;  // index into Policy::groups
    size_t dst = 0;
    std::vector<Service> services;  // normalised: one entry per protocol, merged port ranges; empty: all traffic
    std::vector<Provenance> why;

    bool matches_service(Protocol p, uint16_t port, Family f) const;  // port: see Service::matches
    // On trial: every reason is an approval or deny in monitor. A deny on trial logs what it
    // matches and lets the packet go on to the rules after it; an allow on trial logs each
    // new connection it accepts.
    bool trial() const;
    // What a rule on trial does, for a person: "logs what it matches and drops nothing".
    std::string_view trial_effect() const;
};

// A device whose would-be drops are logged and let through (its segment, role or itself in
// monitor). The gateway keeps their addresses in a set: no rules per device.
struct MonitoredDevice {
    std::string device;
    std::string segment;
    std::vector<IpAddress> addresses;
    MonitorCause cause;
};

// One observed host-to-host flow kept because the stance allows the device's baseline.
struct Pinhole {
    IpAddress src;
    IpAddress dst;
    Protocol protocol = Protocol::tcp;
    // The port; for ICMP the request seen (icmp_port(type, 0), every code of the type), 0 when
    // the flow named none (every message); 0 for other protocols without ports.
    uint16_t port = 0;
    std::string src_name;
    std::string dst_name;
    Provenance why;

    auto key() const { return std::tie(src, dst, protocol, port); }
    // What it lets through: its port, its ICMP message type, or the whole protocol.
    Service service() const;
};

// An observed flow of a device whose stance keeps its baseline, refused for want of
// evidence: the plan lists it, with the reason, so the engineer can approve or declare it.
struct BaselineRefusal {
    enum class Reason { unknown_peer, outside_peer, not_answered, immature, insecure, approval_expired };
    Reason reason = Reason::unknown_peer;
    IpAddress src;
    IpAddress dst;
    Protocol protocol = Protocol::tcp;
    uint16_t port = 0;
    std::string src_name;
    std::string dst_name;
    std::string detail;  // the evidence: "1 connection on 1 day", "telnet", "approval X expired on DATE"
    uint64_t connections = 0;

    auto key() const { return std::tie(reason, src, dst, protocol, port); }
};
// What a person reads as the heading of the refusals with this reason.
std::string_view heading(BaselineRefusal::Reason r);
std::string_view to_string(BaselineRefusal::Reason r);

struct PolicyNote {
    enum class Level { info, warning };
    Level level = Level::info;
    std::string message;
    // What kind of note, for programs reading the plan: "approval-expired", "no-profile",
    // "site-input", "flow-file", ... (docs/schema/plan.schema.json lists them).
    std::string code;
    // What it is about, where one thing is: an approval id, a file, an endpoint, a profile.
    std::string subject;
};

struct Policy;
// A rule's id from what it matches (action, groups, services): the same rule keeps its id
// across runs, whatever its position. "r-" and 12 hex digits.
std::string rule_id(const Policy& p, const Rule& r);

// A policy sliced for one gateway (site.toml [[gateway]]): the traffic it sees is what starts
// or ends in the segments it routes; the counts of the whole site's policy, for comparison.
struct GatewayScope {
    std::string name;
    std::vector<std::string> segments;  // the segments it routes, as declared
    std::vector<Prefix> local;          // their subnets, collapsed (holds() relies on it)
    std::string trunk;                  // the interface carrying their VLANs, as declared ("" = none)
    size_t site_rules = 0, site_groups = 0, site_pinholes = 0, site_elements = 0;

    bool holds(const IpAddress& a) const;
    // Traffic between these two addresses passes this gateway.
    bool crosses(const IpAddress& src, const IpAddress& dst) const { return holds(src) || holds(dst); }
};

struct Policy {
    std::string site;
    EnforcementMode mode = EnforcementMode::enforce;
    bool log_drops = true;
    uint16_t log_group = 0;
    DnsSettings dns;                   // how a gateway keeps the DNS-only endpoints' addresses fresh
    std::vector<SegmentIR> segments;
    std::vector<AddressGroup> groups;  // sorted by name
    std::vector<Rule> rules;           // denies first, then allows, each in a stable order
    std::vector<Pinhole> pinholes;     // sorted
    std::vector<MonitoredDevice> monitored;  // by device name; those in a monitored segment too
    std::vector<PolicyNote> notes;     // refused declarations, expired approvals, devices without profile
    std::vector<BaselineRefusal> refused;  // observed flows the baseline does not keep, sorted
    size_t unrouted_flows = 0;         // observed link-local/multicast/broadcast flows, ignored
    std::optional<GatewayScope> gateway;  // set when this is one gateway's slice of the site's policy

    const AddressGroup& group(size_t i) const { return groups[i]; }
    bool monitor(const SegmentIR& s) const { return mode == EnforcementMode::monitor || s.monitor; }
};

}  // namespace wardgate
