#pragma once
// What every export target shares: the policy flattened into zones, addresses and ordered
// rules with their reasons, platform naming rules, small text helpers and the Mustache call.
#include <kainjow/mustache.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "wardgate/render/export.hpp"

namespace wardgate::export_detail {

using View = kainjow::mustache::data;

View make_list();
View make_object();

// ---- names ----

struct NameRules {
    size_t max_length = 63;
    std::string extra = "-_.";                   // allowed besides ASCII letters and digits
    std::vector<std::string> reserved;           // compared without case
    std::vector<std::string> reserved_prefixes;  // e.g. SRX "junos-"
    bool lower = false;
    // Put before every name ("wg-"): the objects wardgate owns on a shared device, which a
    // later load replaces or deletes by name, never share a name with the device's own.
    std::string owned_prefix;
};

// Fits names to a platform deterministically: disallowed characters become '_' (or '-'),
// names over the limit are cut and get a 6-digit hash of the full name, and names that
// still collide (or are reserved) get "-2", "-3", ... Ask in a deterministic order.
class Namer {
public:
    explicit Namer(NameRules rules) : rules_(std::move(rules)) {}
    // The same key always gets the same name; different keys never share one.
    std::string operator()(const std::string& key, std::string_view wanted);
    std::string operator()(const std::string& key) { return (*this)(key, key); }

private:
    std::string sanitize(std::string_view wanted) const;
    bool taken(const std::string& name) const;
    char separator() const;

    NameRules rules_;
    std::map<std::string, std::string> by_key_;
    std::set<std::string> used_;  // lower case
};

std::string short_hash(std::string_view text);  // 6 hex digits, stable across runs and machines

// ---- the flattened policy ----

enum class RuleKind { deny, allow, baseline };

// One side of a rule: an address group, or the single host of a baseline pinhole.
struct Side {
    const AddressGroup* group = nullptr;
    IpAddress host;
    std::string host_name;

    bool any() const { return group && group->any; }
    bool has(Family f) const;
    std::vector<Prefix> prefixes(Family f) const;  // empty for "any"
    std::string label() const;
};

// An address object's comment: the group's label and, for DNS names, when they were resolved
// ("endpoint vendor-update (update.vendor.example resolved 2026-11-22T10:15Z)").
std::string group_comment(const AddressGroup& g);

// Why a rule exists: one provenance, and the protocol it covers when the rule merges several.
struct Reason {
    std::string text;
    std::optional<Protocol> protocol;
};

struct ExportRule {
    RuleKind kind = RuleKind::allow;
    bool accept = true;  // the platform verdict: explicit denies accept (logged) in monitor mode
    bool log = false;
    Side src, dst;
    std::vector<Family> families;    // where both sides have addresses
    std::vector<Service> services;   // empty: every protocol
    std::vector<size_t> src_zones;   // indexes into Model::zones
    std::vector<size_t> dst_zones;
    std::string name;                // descriptive, not yet fit to a platform
    std::vector<Reason> reasons;
    std::string log_prefix;          // for logged rules, as nftables writes it

    std::string comment() const;            // every reason, in one line
    std::string comment(Protocol p) const;  // the reasons covering p (every reason when none does)
    // The reasons covering any protocol `covered` accepts (every reason when none does).
    template <class Pred>
    std::string comment_if(Pred covered) const {
        std::string out;
        for (const auto& r : reasons)
            if (!r.protocol || covered(*r.protocol)) out += (out.empty() ? "" : "; ") + r.text;
        return out.empty() ? comment() : out;
    }
    std::vector<std::string> reason_texts() const;
};

struct Zone {
    std::string name;                   // the segment's, or "outside"
    const SegmentIR* segment = nullptr;  // null for the outside zone
    bool monitor = false;               // default deny logs and accepts
    std::string log_prefix;
};


// How a target names interfaces it is not told: the uplink; a segment's VLAN as a unit of the
// trunk ("<trunk>.<vlan>") or, with vlan_prefix, an interface of its own ("Vlan110"); a
// segment without a VLAN a port of its own ("<port_prefix><zone index + port_base><port_suffix>").
struct InterfaceDefaults {
    std::string outside;
    std::string trunk;
    std::string vlan_prefix;
    std::string port_prefix;
    size_t port_base = 2;
    std::string port_suffix;
};
struct Model {
    explicit Model(const Policy& policy, ExportOptions options = {});

    const Policy& policy;
    ExportOptions options;
    std::vector<Zone> zones;             // segments in site order, then the outside zone
    std::vector<ExportRule> rules;       // explicit denies, allows, baseline pinholes: the order they apply in
    std::vector<std::string> notes;      // policy notes and rules no address family can carry

    size_t outside() const { return zones.size() - 1; }
    // A zone's interface: the site's name for it (ExportOptions::interfaces), else the
    // target's default, which the file header then lists.
    std::string zone_interface(size_t zone, const InterfaceDefaults& defaults) const;
    // Groups the rules use (never "any"), by index into Policy::groups, with the families used.
    std::map<size_t, std::set<Family>> group_families() const;
    // The same groups, each with its prefixes of the families used (what a target's address
    // group or address set lists as members).
    struct GroupMembers {
        const AddressGroup* group = nullptr;
        std::vector<Prefix> members;
    };
    std::vector<GroupMembers> group_members() const;
    // The services of the rules that `wanted` picks, once each, by service_key().
    std::map<std::string, Service> services(const std::function<bool(const Service&)>& wanted) const;
    // Every address rules use (group prefixes and pinhole hosts), unique and sorted.
    std::vector<Prefix> prefixes() const;
    std::vector<size_t> zones_of(const Side& side, const std::vector<Family>& families) const;

    // The device's interface for `key` (a segment's name, "outside" or "trunk") from the
    // options, or `fallback`, which is then remembered as defaulted.
    std::string interface(const std::string& key, const std::string& fallback) const;
    // "icu: GigabitEthernet0/1.110" for each defaulted interface, in the order first asked.
    const std::vector<std::string>& defaulted_interfaces() const { return defaulted_; }

private:
    mutable std::vector<std::string> defaulted_;
};

// ---- services ----

// One ICMP message in one family as a vendor object names it; no type: every message of the
// family, no code: every code of the type.
struct IcmpMatch {
    Family family = Family::v4;
    std::optional<uint8_t> type;
    std::optional<uint8_t> code;
    // "icmp-8", "icmp6-3-4", "icmp6": unique, for object names.
    std::string key() const;
};
// The messages of an ICMP service that a rule carries in `families`: each family's named
// messages, or every message of each family when the service names none. A family the
// service names messages of only in the other family gets nothing.
std::vector<IcmpMatch> icmp_matches(const Service& s, const std::vector<Family>& families);

// What one access-list line matches in one family: a protocol with at most one port range or
// one ICMP message. No range and no message: every port or message.
struct LineAtom {
    Protocol protocol = Protocol::tcp;
    std::optional<PortRange> ports;
    std::optional<IcmpMatch> icmp;  // protocol icmp only
};
std::vector<LineAtom> line_atoms(const std::vector<Service>& services, Family f);
// TCP, UDP and SCTP with their port ranges: what the targets' service objects hold. Every other
// protocol (UDP-Lite without ports included) is matched as a whole protocol.
bool is_port_service(const Service& s);
// A platform's word for a protocol: its name when the platform has that keyword (`named`),
// else the number, which every platform takes.
std::string protocol_word(Protocol p, std::initializer_list<Protocol> named);
// Cisco access-list fields: "eq 443", "range 8443 8444"; "8", "3 4", "" for every message.
std::string cisco_ports(const PortRange& r);
std::string cisco_icmp(const IcmpMatch& m);
// "tcp-443", "tcp-104_11112", "tcp-8443-8444", "udp-any", "icmp": a readable, unique key.
std::string service_key(const Service& s);
std::string ports_text(const std::vector<PortRange>& ports, std::string_view list_sep, std::string_view range_sep);

// ---- text ----

// One line, without double quotes, backslashes or '?', cut to `max` characters with "...".
std::string one_line(std::string_view text, size_t max);
std::string v4_mask(uint8_t length);      // 24 -> "255.255.255.0"
std::string v4_wildcard(uint8_t length);  // 24 -> "0.0.0.255"
std::string file_safe(std::string_view site);
std::string family_name(Family f);        // "IPv4", "IPv6"
// "a" for one item, "[ a b ]" for several (PAN-OS and Junos set syntax).
std::string member_list(const std::vector<std::string>& items);
// "h-10.1.2.3" for a host, "n-10.1.0.0/16" for a network: the name an address object asks for.
std::string prefix_object_name(const Prefix& p);
bool has_family(const ExportRule& r, Family f);

// ---- Cisco access lists (ASA, IOS) ----

// Remark lines, each cut to the platform's remark length.
View cisco_remarks(const std::vector<std::string>& texts, size_t max);
// One access-list line: action, protocol, source, destination, ports (may be empty), log.
View cisco_line(const std::string& action, const std::string& protocol, const std::string& src, const std::string& dst,
                const std::string& ports, bool log);
// A rule's entry: remarks naming it and each reason, then its lines.
View cisco_entry(const ExportRule& r, const View& lines, size_t remark_max);
// IOS's word for a protocol in each family's lists: "ahp" for AH, "gre" in IPv4 only, tcp,
// udp, icmp (ICMPv6 in an IPv6 list) and esp; the number for the others.
std::string cisco_protocol(Protocol p, Family f);
// An address in an IOS list: "any" (a /0), "host A", "A WILDCARD" (IPv4), "P/LEN" (IPv6).
std::string cisco_address(const Prefix& p);
// The reply to an ICMP request of `type` as IOS names it ("echo-reply"); empty when none.
std::string cisco_icmp_reply(Family f, uint8_t type);

// One line of an IOS extended access list with its fields apart, for lists that match
// source ports and `established` (stateless lists letting replies back).
struct CiscoAclLine {
    bool permit = true;
    std::string protocol;               // "ip", "ipv6", "tcp", "udp", "icmp", "esp", "132"
    std::string src = "any";            // "any", "host A", "A WILDCARD", "P/LEN"
    std::string src_ports;              // "eq 443" on replies, "eq bootpc" for DHCP
    std::string dst;                    // like src
    std::string dst_ports;              // "eq 443", "range 1 2", an ICMP message ("8", "echo-reply", "nd-ns")
    bool established = false;
    bool log = false;

    // "permit tcp host 10.110.0.21 eq 443 host 10.50.0.30 established"; with any_source the
    // source is `any` whatever src says.
    std::string text(bool any_source = false) const;
};

// The stateless entry letting back, from `src` to `dst`, the replies of connections that
// `dst` opens to `src` with this protocol, ports or ICMP message: TCP by source port and only
// `established`, UDP by source port, ICMP by the reply message (every message when none is
// named), other protocols as a whole. None for an ICMP message without a reply (an error).
std::optional<CiscoAclLine> cisco_reply(Protocol p, const std::optional<PortRange>& ports,
                                        const std::optional<IcmpMatch>& icmp, Family f, const std::string& src,
                                        const std::string& dst);

// The interface address of a segment's gateway in a family, with the prefix length of the
// subnet holding it ("10.110.0.1", 24).
struct InterfaceAddress {
    IpAddress address;
    uint8_t length = 0;
    std::string cidr() const;  // "10.110.0.1/24"
};
std::optional<InterfaceAddress> gateway_address(const SegmentIR& s, Family f);

// What every target's interface entry says of its zone: outside, description ("wardgate:
// segment icu (devices)"), has_vlan/vlan, and the gateway's own addresses (has_ipv4,
// ipv4_address, ipv4_mask, ipv4_cidr, has_ipv6, ipv6_cidr).
void set_zone_interface(View& item, const Zone& z);

// One address object per prefix the policy uses (of one family when `only` is set): name,
// cidr ("10.110.0.0/24") and, for IPv4, subnet ("10.110.0.0 255.255.255.0").
View address_objects(const Model& m, const std::function<std::string(const Prefix&)>& name,
                     std::optional<Family> only = std::nullopt);
// One object per address group (Model::group_members order): name, description (the group's,
// cut to description_max), members [`address`] named by `member`, and the same as one
// bracketed text members_text ("[ a b ]").
View address_group_objects(const Model& m, const std::function<std::string(const AddressGroup&)>& name,
                           const std::function<std::string(const Prefix&)>& member, size_t description_max);

// The names a rule's services go by on a platform, in the rule's order: `named` for every
// service but ICMP, `icmp_named` for one ICMP(v6) message, the platform's own names for every
// ICMP or ICMPv6 message, and `every` alone when the rule allows every protocol. `wanted`
// picks the non-ICMP services named (a platform may carry some apart).
struct ServiceNames {
    std::function<std::string(const Service&)> named;
    std::function<std::string(const IcmpMatch&)> icmp_named;
    std::string all_icmp4, all_icmp6, every;
};
// One object per address group and family (the families its rules use; only `only` when set),
// for targets whose groups hold one family: name(group, family), description (cut to
// description_max), members [`address`] by `member`, and members_quoted ("\"a\" \"b\"").
View family_group_objects(const Model& m, std::optional<Family> only,
                          const std::function<std::string(const AddressGroup&, Family)>& name,
                          const std::function<std::string(const Prefix&)>& member, size_t description_max);

std::vector<std::string> rule_service_names(const ExportRule& r, const ServiceNames& names);

// The target's main file "<site>-<target>.<extension>" from config.mustache, with the
// defaulted interfaces listed; finish() adds the warnings gathered and the addresses' own.
ExportResult render_config(const Model& m, const std::filesystem::path& dir, View& v, std::string_view target,
                           std::string_view extension);
void finish(ExportResult& r, const Model& m, std::string_view target, std::vector<std::string>&& warnings);

// Warnings about a segment's interface that every target shares: no VLAN, no gateway, and
// subnets beyond the one an interface address covers.
void warn_interface(const SegmentIR& s, std::string_view target, const std::string& interface,
                    std::vector<std::string>& warnings);

// Says when a name derived from a segment (zone, interface, nameif) differs from the segment's.
void warn_renamed(std::string_view target, std::string_view what, const Zone& z, const std::string& name,
                  std::vector<std::string>& warnings);

// "default deny (logged as 'wardgate drop icu')" and the monitor and unlogged variants.
std::string default_deny_text(const Model& m, const Zone& z);

// Fields every template gets: site, target, version, mode, monitor, log_drops, log_group,
// notes [{text}], has_notes.
View header_view(const Model& m, std::string_view target);
// Sets `defaulted_interfaces` [`key`, `name`] and `has_defaulted_interfaces`: call after the
// interfaces are named, just before rendering.
void set_defaulted_interfaces(View& v, const Model& m);

// Renders templates/<dir>/<file>; every other *.mustache file of the directory is a partial
// named after its stem. Values are inserted verbatim ({{x}} does not HTML-escape).
std::string render_template(const std::filesystem::path& dir, const std::string& file, const View& view);

// Adds a warning for each family whose addresses are in the policy but not in the output
// (a template without IPv6, say).
void check_addresses(const std::string& text, const Model& m, std::string_view target,
                     std::vector<std::string>& warnings);

// ---- the targets ----

ExportResult export_asa(const Model& m, const std::filesystem::path& templates);
ExportResult export_ios(const Model& m, const std::filesystem::path& templates);
ExportResult export_ios_switch(const Model& m, const std::filesystem::path& templates);
ExportResult export_panos(const Model& m, const std::filesystem::path& templates);
ExportResult export_fortios(const Model& m, const std::filesystem::path& templates);
ExportResult export_srx(const Model& m, const std::filesystem::path& templates);
ExportResult export_iptables(const Model& m, const std::filesystem::path& templates);

}  // namespace wardgate::export_detail
