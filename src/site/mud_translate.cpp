// MUD ACEs -> declared flows.
//
// A MUD ACL sees packets in one direction: from-device-policy ACLs the device's packets, to-device-policy
// ACLs the packets sent to it. wardgate's rules are stateful and name the initiator, the responder and the
// responder's port, so each ACE is read as "who starts the conversation, and to which port":
//  - tcp with ietf-mud:direction-initiated says who starts; an ACE whose side differs from its ACL's
//    describes the replies, and the initiator's destination port is then the packets' source port;
//  - otherwise the side whose port is pinned is the responder (udp/5684 from the controller in a
//    to-device ACL is the reply half of the device's CoAP requests, not controller-initiated traffic to
//    every device port), and with both or neither side pinned the ACL's direction decides.
// The from-device ACE and its to-device reply twin thus give the same flow; they are merged into one.
#include <algorithm>

#include "wardgate/site/mud.hpp"

namespace wardgate {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

std::string ports_text(const std::vector<PortRange>& ports) {
    std::vector<std::string> parts;
    for (const auto& p : ports) parts.push_back(p.to_string());
    return join(parts, ",");
}

struct FlowDraft {
    DeclaredFlow flow;
    std::vector<std::string> aces;
    std::string peer_text;  // what the MUD file called the peer
};

class Translator {
public:
    Translator(const MudFile& mud, const MudTranslateOptions& options, Diagnostics& diags)
        : mud_(mud), options_(options), diags_(diags) {}

    MudTranslation run() {
        Profile& p = result_.profile;
        p.vendor = options_.vendor.empty() ? mud_.mfg_name : options_.vendor;
        p.model = options_.model.empty() ? mud_.model_name : options_.model;
        if (p.vendor.empty())
            error(0, "/ietf-mud:mud/mfg-name",
                  "the MUD file names no manufacturer: give the vendor the site's devices use "
                  "(site.toml [[mud]] vendor = \"...\", or import-mud --vendor)");
        if (p.model.empty())
            error(0, "/ietf-mud:mud/model-name",
                  "the MUD file names no model: give the model the site's devices use "
                  "(site.toml [[mud]] model = \"...\", or import-mud --model)");
        p.source = "MUD " + mud_.url + (mud_.last_update.empty() ? "" : " (last-update " + mud_.last_update + ")");
        p.mud_url = mud_.url;
        p.origin = {options_.file, 1};
        for (const auto& ace : mud_.aces) translate(ace);
        for (auto& d : drafts_) {
            d.flow.purpose = join(d.aces, ", ") + " (" + d.peer_text + ") per MUD " + mud_.url;
            p.flows.push_back(std::move(d.flow));
        }
        return std::move(result_);
    }

private:
    void error(int line, const std::string& pointer, std::string message) {
        diags_.add(options_.file, line, 0, pointer, std::move(message));
    }

    void refuse(MudAceResult& r, const MudAce& ace, const std::string& reason) {
        r.refusal = reason;
        result_.profile.notes.push_back("MUD ACE " + ace.name + " (ACL " + ace.acl + ") not translated: " + reason);
    }

    void translate(const MudAce& ace) {
        MudAceResult& r = result_.aces.emplace_back(MudAceResult{ace.acl, ace.name, ace.pointer, {}, {}});
        if (!ace.policy)
            return refuse(r, ace, "its ACL is used by neither from-device-policy nor to-device-policy");
        if (ace.forwarding != MudForwarding::accept)
            return refuse(r, ace,
                          std::string("forwarding ") + (ace.forwarding == MudForwarding::drop ? "drop" : "reject") +
                              ": wardgate denies whatever is not allowed, so this ACE needs no rule");
        if (!ace.unsupported.empty())
            return refuse(r, ace, "matches wardgate cannot express (" + join(ace.unsupported, ", ") +
                                      "); left out, so that traffic stays denied");
        std::vector<Protocol> protocols;
        if (!ace.protocol) {
            protocols = {Protocol::tcp, Protocol::udp, Protocol::icmp};  // the ACE names no protocol: all of them
        } else if (*ace.protocol == 6) {
            protocols = {Protocol::tcp};
        } else if (*ace.protocol == 17) {
            protocols = {Protocol::udp};
        } else if (auto p = protocol_from_number(*ace.protocol)) {
            protocols = {*p};
        } else {
            return refuse(r, ace, "IP protocol " + std::to_string(*ace.protocol) + ": not a transport protocol");
        }

        // An ICMP type means different messages in ICMP and ICMPv6: the ACE's address family
        // (or protocol 58) says which; without either the ACE is left out, not widened.
        std::vector<IcmpType> icmp_types;
        if (!ace.icmp_match.empty()) {
            std::optional<Family> family = ace.family;
            if (!family && ace.protocol == 58) family = Family::v6;
            if (!ace.icmp_type)
                return refuse(r, ace, "ICMP " + ace.icmp_match + " without a type: left out, so that traffic stays denied");
            if (!family)
                return refuse(r, ace, "ICMP " + ace.icmp_match + " without an ipv4 or ipv6 match: the type means different "
                                      "messages in ICMP and ICMPv6; left out, so that traffic stays denied");
            icmp_types.push_back({*family, *ace.icmp_type, ace.icmp_code ? int16_t{*ace.icmp_code} : int16_t{-1}});
        }
        const bool from_device = *ace.policy == MudSide::from_device;
        const MudText& peer_dns = from_device ? ace.destination_dnsname : ace.source_dnsname;
        const MudText& device_dns = from_device ? ace.source_dnsname : ace.destination_dnsname;
        const auto& peer_net = from_device ? ace.destination_network : ace.source_network;
        const auto& device_net = from_device ? ace.source_network : ace.destination_network;
        const auto& peer_ports = from_device ? ace.destination_ports : ace.source_ports;
        const auto& device_ports = from_device ? ace.source_ports : ace.destination_ports;
        if (!device_dns.empty() || device_net)
            return refuse(r, ace, "it constrains the device's own address, which wardgate already knows; "
                                  "left out, so that traffic stays denied");
        int peer_matches = !peer_dns.empty() + bool(peer_net) + bool(ace.abstraction);
        if (peer_matches > 1)
            return refuse(r, ace, "it combines several peer matches (network, DNS name, MUD abstraction), "
                                  "which wardgate cannot intersect");

        bool device_initiates;
        if (ace.direction_initiated) {
            device_initiates = *ace.direction_initiated == MudSide::from_device;
        } else if (peer_ports.empty() != device_ports.empty()) {
            device_initiates = !peer_ports.empty();  // the pinned side is the responder
        } else {
            device_initiates = from_device;
        }
        const auto& responder_ports = device_initiates ? peer_ports : device_ports;
        const auto& initiator_ports = device_initiates ? device_ports : peer_ports;
        if (!initiator_ports.empty()) {
            if (responder_ports.empty())
                return refuse(r, ace, "it pins only the initiator's source port (" + ports_text(initiator_ports) +
                                          "); wardgate matches the responder's port, and allowing every port "
                                          "instead would be wider than declared");
            result_.profile.notes.push_back("MUD ACE " + ace.name + " (ACL " + ace.acl + "): the initiator's source "
                                            "port " + ports_text(initiator_ports) + " is not enforced, only the "
                                            "responder's port");
        }

        std::vector<PeerRef> peers;
        std::string peer_text;
        if (ace.abstraction) {
            peer_text = ace.abstraction->key();
            peers = lookup(options_.map.abstractions, ace.abstraction->key(), ace.abstraction->line,
                           ace.abstraction->pointer,
                           unmapped_abstraction_message(*ace.abstraction), ace.abstraction->key());
        } else if (!peer_dns.empty()) {
            peer_text = "dns " + peer_dns.text;
            peers = lookup(options_.map.dns, peer_dns.text, peer_dns.line, peer_dns.pointer,
                           "unmapped DNS name \"" + peer_dns.text + "\": map it to a peer with [mud.dns] \"" +
                               peer_dns.text + "\" = \"PEER\" in site.toml, list it in an endpoint's dns_names, "
                               "or pass --dns " + peer_dns.text + "=PEER to import-mud",
                           "dns:" + peer_dns.text);
        } else if (peer_net) {
            peer_text = peer_net->to_string();
            peers = {PeerRef{PeerRef::Kind::cidr, {}, *peer_net}};
        } else {
            peer_text = "any peer";
            peers = {PeerRef{}};
        }
        if (peers.empty()) {
            r.refusal = "unmapped peer " + peer_text;
            return;
        }

        for (const auto& peer : peers) {
            for (Protocol proto : protocols) {
                DeclaredFlow f;
                f.direction = device_initiates ? Direction::device_initiated : Direction::peer_initiated;
                f.peer = peer;
                f.service.protocol = proto;
                if (proto == Protocol::icmp) f.service.icmp_types = icmp_types;
                // Profiles spell "every port" as a range, so a written profile reads back the same.
                if (has_ports(proto))
                    f.service.ports = responder_ports.empty() ? std::vector<PortRange>{{0, 65535}}
                                                              : normalize_ports(responder_ports);
                f.origin = {options_.file, ace.line};
                f.dns_name = ace.abstraction ? "" : peer_dns.text;
                r.flows.push_back(merge(std::move(f), ace.name, peer_text));
            }
        }
    }

    static std::string unmapped_abstraction_message(const MudAbstraction& a) {
        std::string toml_key = a.value.empty() ? a.kind : a.kind + ".\"" + a.value + "\"";
        return "unmapped MUD abstraction " + (a.value.empty() ? a.kind : a.kind + " \"" + a.value + "\"") +
               ": say which peer it stands for with [mud.map] " + toml_key +
               " = \"PEER\" in site.toml, or pass --map " + a.key() + "=PEER to import-mud (PEER: role:R, "
               "segment:S, endpoint:E, device:D, a prefix, or a list of them)";
    }

    std::vector<PeerRef> lookup(const std::map<std::string, std::vector<PeerRef>>& map, const std::string& key, int line,
                                const std::string& pointer, const std::string& message, const std::string& unmapped_key) {
        if (auto it = map.find(key); it != map.end() && !it->second.empty()) return it->second;
        error(line, pointer, message);
        if (std::find(result_.unmapped.begin(), result_.unmapped.end(), unmapped_key) == result_.unmapped.end())
            result_.unmapped.push_back(unmapped_key);
        return {};
    }

    // Index of the flow, merging with an identical one (the other half of the same conversation).
    size_t merge(DeclaredFlow f, const std::string& ace, const std::string& peer_text) {
        for (size_t i = 0; i < drafts_.size(); ++i) {
            const DeclaredFlow& g = drafts_[i].flow;
            if (g.direction == f.direction && g.peer == f.peer && g.service == f.service && g.dns_name == f.dns_name) {
                auto& names = drafts_[i].aces;
                if (std::find(names.begin(), names.end(), ace) == names.end()) names.push_back(ace);
                return i;
            }
        }
        drafts_.push_back({std::move(f), {ace}, peer_text});
        return drafts_.size() - 1;
    }

    const MudFile& mud_;
    const MudTranslateOptions& options_;
    Diagnostics& diags_;
    MudTranslation result_;
    std::vector<FlowDraft> drafts_;
};

}  // namespace

MudTranslation translate_mud(const MudFile& mud, const MudTranslateOptions& options, Diagnostics& diags) {
    return Translator(mud, options, diags).run();
}

bool valid_mud_abstraction_key(std::string_view key) {
    for (std::string_view plain : {"my-controller", "local-networks", "same-manufacturer"})
        if (key == plain) return true;
    for (std::string_view valued : {"controller:", "manufacturer:", "model:"})
        if (key.starts_with(valued) && key.size() > valued.size()) return true;
    return false;
}

std::optional<std::pair<std::string, PeerRef>> parse_mud_mapping(std::string_view text) {
    // Split at the last '=': controller URIs may hold one, peers never do.
    auto eq = text.rfind('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    auto peer = PeerRef::parse(text.substr(eq + 1));
    if (!peer) return std::nullopt;
    return std::make_pair(std::string(text.substr(0, eq)), *peer);
}

}  // namespace wardgate
