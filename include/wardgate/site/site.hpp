#pragma once
// The site model: everything the engineer declared about the hospital network.
// Loaded and validated by load_site(); every later stage reads it, none changes it.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/net.hpp"

namespace wardgate {

using Date = std::chrono::year_month_day;
std::optional<Date> parse_date(std::string_view text);  // YYYY-MM-DD
std::string to_string(const Date& d);

// Where a declaration came from, so later stages can point back at it.
struct Origin {
    std::string file;  // relative to the site directory
    int line = 0;

    bool operator==(const Origin&) const = default;
};

enum class SegmentKind { devices, servers, workstations, management, external };
std::optional<SegmentKind> parse_segment_kind(std::string_view text);
std::string_view to_string(SegmentKind k);

struct Segment {
    std::string name;
    SegmentKind kind = SegmentKind::devices;
    std::optional<uint16_t> vlan;
    std::vector<Prefix> subnets;        // IPv4 and IPv6
    std::vector<IpAddress> gateways;    // the gateway's own address in this segment, per family
    bool monitor = false;               // would-be drops are logged and counted but accepted
    std::string description;
    Origin origin;

    bool operator==(const Segment&) const = default;
};

enum class Lifecycle { support, limited_support, end_of_support };
std::optional<Lifecycle> parse_lifecycle(std::string_view text);
std::string_view to_string(Lifecycle l);

enum class FdaClass { none, I, II, III };
std::optional<FdaClass> parse_fda_class(std::string_view text);
std::string_view to_string(FdaClass c);

enum class Level { none, low, medium, high };
std::optional<Level> parse_level(std::string_view text);
std::string_view to_string(Level l);

struct Device {
    std::string name;
    std::vector<IpAddress> addresses;
    std::string mac;
    std::string role;
    std::string vendor;
    std::string model;
    std::string department;
    std::string segment;
    std::vector<std::string> tags;  // what profiles and policy refer to as "tag:<tag>": a ward, a bed range...
    FdaClass fda_class = FdaClass::none;
    Level phi = Level::none;
    Level downtime_impact = Level::none;
    Lifecycle lifecycle = Lifecycle::support;
    std::optional<Date> eol;
    std::optional<Date> eos;
    // Its new flows that the default deny would drop are logged and let through (while its
    // baseline matures); explicit denies still drop.
    bool monitor = false;
    Origin origin;
    std::optional<Lifecycle> declared_lifecycle;  // set when the dates raised `lifecycle` above what the inventory says

    // A regulated medical device: its flows are clinical and blocking them can hurt a patient.
    bool clinical() const { return fda_class != FdaClass::none; }
    bool has_tag(std::string_view t) const { return std::find(tags.begin(), tags.end(), t) != tags.end(); }
};

// A service or network that wardgate does not manage as a device.
struct Endpoint {
    std::string name;
    std::string kind;   // pacs, ehr, interface-engine, drug-library, ntp, dns, vendor-support, internet, server...
    std::string role;   // what profiles refer to as "role:<role>"; defaults to kind
    std::vector<Prefix> prefixes;
    std::string vendor; // for vendor-support networks
    std::string description;
    Origin origin;
    std::vector<std::string> dns_names;  // names the endpoint answers to (MUD dnsname matches map to it)
    std::vector<std::string> tags;       // as devices' tags

    bool operator==(const Endpoint&) const = default;

    bool is_internet() const { return kind == "internet"; }
    bool has_tag(std::string_view t) const { return std::find(tags.begin(), tags.end(), t) != tags.end(); }
    // Names without addresses: the addresses are whatever the names resolve to.
    bool dns_only() const { return prefixes.empty() && !dns_names.empty(); }
};

// Who a declaration, approval or deny talks about.
struct PeerRef {
    enum class Kind { any, role, segment, endpoint, device, cidr, tag };
    Kind kind = Kind::any;
    std::string name;  // role, segment, endpoint or device name
    Prefix cidr;       // for Kind::cidr

    // "any", "role:NAME", "segment:NAME", "endpoint:NAME", "device:NAME", "tag:NAME", "cidr:PREFIX" or a bare prefix
    static std::optional<PeerRef> parse(std::string_view text);
    std::string to_string() const;
    auto operator<=>(const PeerRef&) const = default;
};

enum class Direction { device_initiated, peer_initiated };
std::optional<Direction> parse_direction(std::string_view text);
std::string_view to_string(Direction d);

struct DeclaredFlow {
    Direction direction = Direction::device_initiated;
    PeerRef peer;
    Service service;
    std::string purpose;
    bool required = true;
    Origin origin;
    std::string dns_name;  // the DNS name the declaration named (MUD), kept for live resolution

    bool operator==(const DeclaredFlow&) const = default;
};

// One file per vendor + model: what the manufacturer says the device needs.
struct Profile {
    std::string vendor;
    std::string model;
    std::string source;    // the document it came from (MDS2 port table, MUD URL...)
    std::string mud_url;   // the MUD file's own URL, for a profile read from one: devices announce it (DHCP)
    std::vector<DeclaredFlow> flows;
    Origin origin;
    std::vector<std::string> notes;  // declarations not turned into flows (e.g. MUD drop ACEs), and why

    bool operator==(const Profile&) const = default;

    std::string label() const { return vendor + " " + model; }
};

struct Approval {
    std::string id;
    std::string ticket;  // the change ticket (URL or id), when it is not the id
    std::string owner;   // who answers for it now
    PeerRef from;   // initiator side
    PeerRef to;     // responder side
    Service service;
    std::string by;
    std::string reason;
    std::optional<Date> expires;  // the approval stops applying after this day
    bool monitor = false;         // on trial: it opens its flows and logs each new connection
    Origin origin;

    bool operator==(const Approval&) const = default;

    bool expired(const Date& today) const { return expires && *expires < today; }
};

struct Deny {
    std::string id;
    std::string ticket;
    std::string owner;
    PeerRef from;
    PeerRef to;
    std::optional<Service> service;  // empty: every protocol and port
    std::string reason;
    bool monitor = false;  // on trial: what it matches is logged, not dropped
    Origin origin;
};

// What each life-cycle stage may keep.
struct Stance {
    bool baseline = false;   // observed flows stay allowed without a declaration or approval
    bool approvals = true;   // approvals apply to devices at this stage
    bool internet = false;   // flows to internet endpoints (not named vendor networks) may be allowed
    // An observed flow is mature evidence once it was seen on this many distinct days, or
    // in this many connections; only mature flows join the baseline.
    uint32_t baseline_min_days = 2;
    uint32_t baseline_min_connections = 3;
    // Where a device at this stage plugs in: the VLAN its port is put in (RADIUS, `wardgate nac`)
    // instead of its segment's. Empty: the segment's VLAN.
    std::optional<uint16_t> vlan;

    bool operator==(const Stance&) const = default;
};

// What a site says a MUD file's abstractions and DNS names stand for (see docs/site-format.md).
struct MudMapping {
    // Keys: "my-controller", "local-networks", "same-manufacturer", "controller:URI",
    // "manufacturer:DOMAIN", "model:MUD-URL". One abstraction may stand for several peers.
    std::map<std::string, std::vector<PeerRef>> abstractions;
    std::map<std::string, std::vector<PeerRef>> dns;  // DNS name -> peers
};

// A [[mud]] entry of site.toml: an RFC 8520 MUD file read as a manufacturer profile.
struct MudReference {
    std::string file;    // relative to the site directory
    std::string vendor;  // empty: the file's mfg-name
    std::string model;   // empty: the file's model-name
    MudMapping map;
    Origin origin;
};

enum class EnforcementMode { enforce, monitor };

// [role.NAME] in policy.toml: every device of the role in monitor (see Device::monitor).
struct RoleMonitor {
    std::string role;
    std::string reason;
    Origin origin;
};

// How the names of DNS-only endpoints are resolved and kept fresh ([site] in site.toml).
struct DnsSettings {
    std::string nameserver;    // "ADDRESS[:PORT]"; empty: the system resolver
    uint32_t min_ttl = 30;     // seconds: a name is asked again no sooner than this...
    uint32_t max_ttl = 86400;  // ... and no later than this, whatever its TTL says
    uint32_t grace = 3600;     // seconds an address stays allowed after it left the answer
};

// [nac] in site.toml: how the switches' MAC authentication (RADIUS) treats a MAC no device has.
struct NacSettings {
    bool configured = false;                // the site has a [nac] table
    std::optional<uint16_t> quarantine_vlan;  // unknown MACs are put in this VLAN; empty: rejected
    Origin origin;
};

// Why a device's would-be drops are logged and let through: the broadest scope that says so.
struct MonitorCause {
    std::string scope;  // "site", "segment icu", "role infusion-pump", "device pump-01"
    std::string why;    // "role infusion-pump is in monitor (policy.toml:40): new firmware"

    // Its segment is in monitor: the segment's mode says so, no need to name the device.
    bool by_segment() const { return scope.starts_with("segment "); }
};

// [[gateway]] in site.toml: one enforcement point and the segments it routes. A segment two
// gateways route (an HA pair) gets the same rules on both.
struct GatewayDecl {
    std::string name;
    std::vector<std::string> segments;  // as declared; each names a [[segment]]
    std::string trunk;                  // the interface carrying its segments' VLANs ("" = none given)
    std::string description;
    Origin origin;

    bool routes(std::string_view segment) const {
        return std::find(segments.begin(), segments.end(), segment) != segments.end();
    }
};

struct Site {
    std::string name;
    std::filesystem::path dir;
    EnforcementMode mode = EnforcementMode::enforce;
    bool log_drops = true;
    uint16_t log_group = 0;       // NFLOG group for drop logs; 0 = kernel log only
    std::vector<Segment> segments;
    std::vector<Device> devices;
    std::vector<Endpoint> endpoints;
    std::vector<Profile> profiles;
    std::vector<Approval> approvals;
    std::vector<Deny> denies;
    std::vector<RoleMonitor> monitored_roles;
    std::map<Lifecycle, Stance> stances;
    std::vector<std::filesystem::path> flow_files;  // absolute paths
    std::vector<MudReference> mud;                  // their profiles are in `profiles` too
    DnsSettings dns;
    NacSettings nac;
    // Mistakes that do not stop the run but change what the policy means; check and plan show them.
    // [export.TARGET] interfaces = {KEY = NAME}: the firewall's interface per segment, "outside"
    // and "trunk", per export target (keys checked here, target names where the exports are).
    struct ExportInterfaces {
        std::string target;
        int line = 0;  // of the [export.TARGET] table in site.toml
        std::map<std::string, std::string> interfaces;
    };
    std::vector<ExportInterfaces> exports;
    std::vector<GatewayDecl> gateways;
    std::vector<Diagnostic> warnings;

    const Segment* find_segment(std::string_view name) const;
    const Device* find_device(std::string_view name) const;
    const Endpoint* find_endpoint(std::string_view name) const;
    const GatewayDecl* find_gateway(std::string_view name) const;
    const Profile* find_profile(std::string_view vendor, std::string_view model) const;
    const Stance& stance(Lifecycle l) const;
    std::optional<MonitorCause> monitor_cause(const Device& d) const;
};

}  // namespace wardgate
