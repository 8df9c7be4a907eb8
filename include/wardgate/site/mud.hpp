#pragma once
// RFC 8520 Manufacturer Usage Description (MUD) files: reading them, and turning their ACEs into
// the declared flows of a manufacturer profile.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/net.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate {

// Which way an ACL's packets travel (from-device-policy / to-device-policy), and which side
// starts a TCP connection (ietf-mud:direction-initiated).
enum class MudSide { from_device, to_device };
std::string_view to_string(MudSide s);

enum class MudForwarding { accept, drop, reject };

// A value read from the file, with the JSON pointer it came from (for diagnostics).
struct MudText {
    std::string text;
    std::string pointer;
    int line = 0;
    bool empty() const { return text.empty(); }
};

// A peer the manufacturer cannot name by address: the site says what it stands for.
struct MudAbstraction {
    std::string kind;   // controller, my-controller, local-networks, same-manufacturer, manufacturer, model
    std::string value;  // controller URI, manufacturer domain or model MUD URL; empty for the others
    std::string pointer;
    int line = 0;

    // The mapping key: "my-controller", "controller:https://...", "manufacturer:example.com"
    std::string key() const { return value.empty() ? kind : kind + ":" + value; }
};

// One access-control entry as written: source and destination are those of the packets its ACL sees.
struct MudAce {
    std::string acl;
    std::string name;
    std::string pointer;                // of the ACE
    int line = 0;
    std::optional<MudSide> policy;      // the policy that uses the ACL; unset: neither does
    MudForwarding forwarding = MudForwarding::accept;
    std::optional<uint8_t> protocol;    // IP protocol number; unset: any protocol
    std::optional<Prefix> source_network, destination_network;
    MudText source_dnsname, destination_dnsname;
    std::vector<PortRange> source_ports, destination_ports;  // empty: any port
    std::optional<MudSide> direction_initiated;
    std::optional<MudAbstraction> abstraction;
    std::vector<std::string> unsupported;  // pointers of matches wardgate cannot express
    std::string icmp_match;                // "type 8, code 0", as written
    std::optional<uint8_t> icmp_type, icmp_code;
    std::optional<Family> family;          // from the ipv4 / ipv6 match, when the ACE has one
};

struct MudFile {
    std::string url;          // mud-url
    std::string last_update;  // as written, e.g. 2018-06-29T19:50:19+02:00
    std::string systeminfo;
    std::string mfg_name;
    std::string model_name;
    std::vector<MudAce> aces;  // every ACE of every ACL, in file order
};

// Problems go to diags under `file` with the JSON pointer as the field and the line it is on;
// syntax errors carry line, column and byte offset. nullopt when the file is unusable.
std::optional<MudFile> parse_mud(const std::string& json_text, const std::string& file, Diagnostics& diags);
std::optional<MudFile> read_mud(const std::filesystem::path& path, const std::string& file, Diagnostics& diags);

struct MudTranslateOptions {
    std::string file;    // shown in diagnostics and as the flows' origin
    std::string vendor;  // empty: the file's mfg-name
    std::string model;   // empty: the file's model-name
    MudMapping map;
};

// What became of one ACE: the flows it contributed to, or why it gave none.
struct MudAceResult {
    std::string acl, ace, pointer;
    std::vector<size_t> flows;  // indices into the profile's flows
    std::string refusal;        // set exactly when flows is empty
};

struct MudTranslation {
    Profile profile;                 // source "MUD <url> (last-update <date>)"; refusals in notes
    std::vector<MudAceResult> aces;  // one per ACE, in file order
    std::vector<std::string> unmapped;  // missing mapping keys: "my-controller", "dns:www.example.com"
};

// Accepted ACEs become declared flows; the two halves of one conversation (the from-device ACE and
// its to-device reply) become one flow. Drop/reject ACEs and matches wardgate cannot express become
// named refusals. Every unmapped abstraction or DNS name is an error in diags.
MudTranslation translate_mud(const MudFile& mud, const MudTranslateOptions& options, Diagnostics& diags);

// "my-controller=role:x" or "controller:https://c.example/x=endpoint:y": mapping key and peer.
std::optional<std::pair<std::string, PeerRef>> parse_mud_mapping(std::string_view text);
// Whether `key` names an abstraction ("my-controller", "controller:URI", ...).
bool valid_mud_abstraction_key(std::string_view key);

}  // namespace wardgate
