#include "export_readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "text_lines.hpp"

namespace wardgate::testing {

namespace {

[[noreturn]] void fail(std::string_view reader, const std::string& line) {
    throw std::runtime_error(fmt::format("{} reader: cannot read \"{}\"", reader, line));
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// Whitespace-separated words; a double-quoted word keeps its spaces and loses its quotes.
// "[", "]", "{", "}" and "," stand alone when `punctuation` is set.
std::vector<std::string> words(const std::string& line, bool punctuation = false) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, in_word = false;
    auto flush = [&] {
        if (in_word) out.push_back(cur);
        cur.clear();
        in_word = false;
    };
    for (char c : line) {
        if (quoted) {
            if (c == '"') {
                quoted = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            flush();
        } else if (punctuation && (c == '[' || c == ']' || c == '{' || c == '}' || c == ',')) {
            flush();
            out.push_back(std::string(1, c));
        } else {
            cur += c;
            in_word = true;
        }
    }
    flush();
    return out;
}

Prefix prefix_of(std::string_view reader, const std::string& text) {
    auto p = Prefix::parse(text);
    if (!p) fail(reader, "address " + text);
    return *p;
}

Prefix zero(Family f) { return *Prefix::parse(f == Family::v4 ? "0.0.0.0/0" : "::/0"); }

uint8_t mask_length(std::string_view reader, const std::string& mask, bool wildcard) {
    auto a = IpAddress::parse(mask);
    if (!a || a->family != Family::v4) fail(reader, "mask " + mask);
    uint32_t v = wildcard ? ~a->v4_value() : a->v4_value();
    uint8_t len = 0;
    while (len < 32 && (v & (0x80000000u >> len))) ++len;
    return len;
}

PortRange range_of(std::string_view reader, const std::string& text, char sep = '-') {
    auto pos = text.find(sep);
    try {
        if (pos == std::string::npos) {
            auto n = static_cast<uint16_t>(std::stoul(text));
            return {n, n};
        }
        return {static_cast<uint16_t>(std::stoul(text.substr(0, pos))), static_cast<uint16_t>(std::stoul(text.substr(pos + 1)))};
    } catch (const std::exception&) {
        fail(reader, "port " + text);
    }
}

// Every platform's name for a protocol, or its number; ICMP and ICMPv6 are both 1.
int protocol_number(std::string_view reader, const std::string& p) {
    if (p == "ip" || p == "ipv6" || p == "any") return 0;
    if (p == "icmp" || p == "icmp6" || p == "icmpv6" || p == "ipv6-icmp" || p == "58") return 1;
    static const std::map<std::string, int> names{{"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
                                                  {"ah", 51}, {"ahp", 51}, {"sctp", 132}, {"udplite", 136}};
    if (auto it = names.find(p); it != names.end()) return it->second;
    if (!p.empty() && p.size() <= 3 && std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        int n = std::stoi(p);
        if (n >= 1 && n <= 254) return n;
    }
    fail(reader, "protocol " + p);
}

// An ICMP message as a tuple's port range: every code of a type, or one code ("8", "3/4").
PortRange icmp_range(std::string_view reader, const std::string& type, const std::string& code = "") {
    auto number = [&](const std::string& t) {
        if (t.empty() || t.size() > 3 || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
            std::stoi(t) > 255)
            fail(reader, "ICMP type or code " + t);
        return static_cast<uint8_t>(std::stoi(t));
    };
    uint8_t t = number(type);
    if (code.empty()) return {icmp_port(t, 0), icmp_port(t, 255)};
    uint8_t c = number(code);
    return {icmp_port(t, c), icmp_port(t, c)};
}

struct Addresses {
    bool any = false;
    std::optional<Family> any_family;  // "any4": only IPv4
    std::vector<Prefix> prefixes;

    static Addresses everything(std::optional<Family> f = std::nullopt) { return {true, f, {}}; }
    void add(const std::vector<Prefix>& more) { prefixes.insert(prefixes.end(), more.begin(), more.end()); }
    std::vector<Prefix> in(Family f) const {
        if (any) return !any_family || *any_family == f ? std::vector<Prefix>{zero(f)} : std::vector<Prefix>{};
        std::vector<Prefix> out;
        for (const auto& p : prefixes)
            if (p.family() == f) out.push_back(p);
        return out;
    }
};

struct Svc {
    int protocol = 0;
    PortRange ports{0, 65535};
    std::optional<Family> family;  // only this family (FortiOS ALL_ICMP6, Junos junos-icmp6-all)
};

std::vector<FlowTuple> expand(const Addresses& src, const Addresses& dst, const std::vector<Svc>& services, bool allow) {
    std::vector<FlowTuple> out;
    for (Family f : {Family::v4, Family::v6})
        for (const auto& s : src.in(f))
            for (const auto& d : dst.in(f))
                for (const auto& svc : services)
                    if (!svc.family || *svc.family == f) out.push_back({s, d, svc.protocol, svc.ports, allow});
    return out;
}

bool is_number(const std::string& t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Cisco's ICMP fields after the addresses: "TYPE [CODE]"; moves i past them. Every message
// when there are none.
PortRange cisco_icmp_at(std::string_view reader, const std::vector<std::string>& w, size_t& i) {
    if (i >= w.size() || !is_number(w[i])) return {0, 65535};
    bool code = i + 1 < w.size() && is_number(w[i + 1]);
    PortRange r = icmp_range(reader, w[i], code ? w[i + 1] : "");
    i += code ? 2 : 1;
    return r;
}

bool catch_all(const Addresses& src, const Addresses& dst, const std::vector<Svc>& services) {
    return src.any && !src.any_family && dst.any && !dst.any_family && services.size() == 1 &&
           services.front().protocol == 0;
}

// A bracketed list "[ a b ]" or a single word, starting at words[i]; moves i past it.
std::vector<std::string> list_at(const std::vector<std::string>& w, size_t& i) {
    std::vector<std::string> out;
    if (i < w.size() && w[i] == "[") {
        for (++i; i < w.size() && w[i] != "]"; ++i) out.push_back(w[i]);
        ++i;
    } else if (i < w.size()) {
        out.push_back(w[i++]);
    }
    return out;
}

// ---- Cisco ASA ----

ParsedConfig read_asa(const std::string& text) {
    constexpr std::string_view kName = "asa";
    std::map<std::string, std::vector<Prefix>> groups;
    std::map<std::string, std::pair<int, std::vector<PortRange>>> services;
    std::map<std::string, std::string> zone_of_nameif, zone_of_acl;
    std::set<std::string> inspected;  // protocols of the global policy's inspection_default class
    ParsedConfig out;
    enum class Block { none, network, service, interface, policy } block = Block::none;
    std::string current, vlan, nameif;
    auto end_block = [&] {
        if (block == Block::interface && !nameif.empty())
            zone_of_nameif[nameif] = !vlan.empty() ? "vlan" + vlan : nameif == "outside" ? "outside" : "if:" + nameif;
        block = Block::none;
    };
    for (const auto& line : text_lines(text)) {
        if (line.empty() || line[0] == '!') {
            end_block();
            continue;
        }
        auto w = words(line);
        if (line[0] == ' ') {
            if (w[0] == "description") continue;
            if (block == Block::network && w[0] == "network-object") {
                if (w[1] == "host") {
                    groups[current].push_back(Prefix::host(prefix_of(kName, w[2]).address));
                } else if (w.size() == 3) {
                    auto a = prefix_of(kName, w[1]);
                    groups[current].push_back(*Prefix::parse(a.address.to_string() + "/" +
                                                             std::to_string(mask_length(kName, w[2], false))));
                } else {
                    groups[current].push_back(prefix_of(kName, w[1]));
                }
            } else if (block == Block::service && w[0] == "port-object") {
                services[current].second.push_back(w[1] == "eq" ? range_of(kName, w[2])
                                                                 : PortRange{range_of(kName, w[2]).first, range_of(kName, w[3]).first});
            } else if (block == Block::interface) {
                if (w[0] == "vlan") vlan = w[1];
                if (w[0] == "nameif") nameif = w[1];
            } else if (block == Block::policy) {
                if (w[0] == "inspect") inspected.insert(w.at(1));
            } else {
                fail(kName, line);
            }
            continue;
        }
        end_block();
        if (w[0] == "same-security-traffic") continue;
        if (w[0] == "clear" && w.size() == 4 && w[1] == "configure" && w[2] == "access-list") {
            // Removes the list and its access-group: a second load replaces the first.
            std::erase_if(out.rules, [&](const ParsedRule& r) { return r.context == w[3]; });
            zone_of_acl.erase(w[3]);
        } else if (w[0] == "no" && w.size() == 4 && w[1] == "object-group") {
            if (w[2] == "network") groups.erase(w[3]);
            if (w[2] == "service") services.erase(w[3]);
        } else if (w[0] == "policy-map" && w.size() == 2 && w[1] == "global_policy") {
            block = Block::policy;
        } else if (w[0] == "interface") {
            block = Block::interface;
            vlan.clear();
            nameif.clear();
        } else if (w[0] == "object-group" && w[1] == "network") {
            block = Block::network;
            current = w[2];
            if (groups.count(current)) fail(kName, "duplicate object-group " + current);  // the ASA would merge them
            groups[current];
        } else if (w[0] == "object-group" && w[1] == "service") {
            block = Block::service;
            current = w[2];
            services[current] = {protocol_number(kName, w[3]), {}};
        } else if (w[0] == "access-group" && w.size() == 5 && w[2] == "in" && w[3] == "interface") {
            zone_of_acl[w[1]] = zone_of_nameif.at(w[4]);
        } else if (w[0] == "access-list" && w[2] == "remark") {
            continue;
        } else if (w[0] == "access-list" && w[2] == "extended") {
            size_t i = 5;
            auto address = [&] {
                Addresses a;
                const std::string& t = w.at(i++);
                if (t == "any") return Addresses::everything();
                if (t == "any4") return Addresses::everything(Family::v4);
                if (t == "any6") return Addresses::everything(Family::v6);
                if (t == "host") {
                    a.prefixes.push_back(Prefix::host(prefix_of(kName, w.at(i++)).address));
                } else if (t == "object-group") {
                    a.add(groups.at(w.at(i++)));
                } else if (t.find('/') != std::string::npos) {
                    a.prefixes.push_back(prefix_of(kName, t));
                } else {
                    auto p = prefix_of(kName, t);
                    a.prefixes.push_back(*Prefix::parse(p.address.to_string() + "/" +
                                                        std::to_string(mask_length(kName, w.at(i++), false))));
                }
                return a;
            };
            int proto = protocol_number(kName, w.at(4));
            Addresses src = address(), dst = address();
            std::vector<Svc> svcs;
            if (proto == 1) {  // icmp is ICMPv4 only, icmp6 ICMPv6 only
                svcs.push_back({proto, cisco_icmp_at(kName, w, i), w[4] == "icmp" ? Family::v4 : Family::v6});
            } else if (i < w.size() && w[i] == "eq") {
                svcs.push_back({proto, range_of(kName, w[i + 1])});
                i += 2;
            } else if (i < w.size() && w[i] == "range") {
                svcs.push_back({proto, {range_of(kName, w[i + 1]).first, range_of(kName, w[i + 2]).first}});
                i += 3;
            } else if (i < w.size() && w[i] == "object-group") {
                for (const auto& r : services.at(w[i + 1]).second) svcs.push_back({proto, r});
                i += 2;
            } else {
                svcs.push_back({proto, {0, 65535}});
            }
            bool logged = i < w.size() && w[i] == "log";
            if (logged) ++i;
            if (i != w.size()) fail(kName, line);
            ParsedRule r;
            r.context = w[1];
            r.allow = w[3] == "permit";
            r.logged = logged;
            r.default_deny = !r.allow && catch_all(src, dst, svcs);
            r.tuples = expand(src, dst, svcs, r.allow);
            out.rules.push_back(r);
        } else {
            fail(kName, line);
        }
    }
    for (auto& r : out.rules) r.from = {zone_of_acl.at(r.context)};
    // Without ICMP inspection the ASA drops the replies of permitted ICMP.
    bool icmp = std::any_of(out.rules.begin(), out.rules.end(), [](const ParsedRule& r) {
        return r.allow && std::any_of(r.tuples.begin(), r.tuples.end(), [](const FlowTuple& t) { return t.protocol <= 1; });
    });
    if (icmp && !inspected.count("icmp")) fail(kName, "ICMP permitted without inspect icmp");
    return out;
}

// ---- Cisco IOS (router) and Catalyst (layer-3 switch) ----

// The ICMP replies a Catalyst list names by keyword, as tuple ports.
std::optional<PortRange> icmp_reply_keyword(Family f, const std::string& word) {
    static const std::map<std::string, uint8_t> v4{{"echo-reply", 0}, {"timestamp-reply", 14}, {"information-reply", 16},
                                                   {"mask-reply", 18}};
    if (f == Family::v6) {
        if (word != "echo-reply") return std::nullopt;
        return PortRange{icmp_port(129, 0), icmp_port(129, 255)};
    }
    auto it = v4.find(word);
    if (it == v4.end()) return std::nullopt;
    return PortRange{icmp_port(it->second, 0), icmp_port(it->second, 255)};
}

ParsedConfig read_ios(const std::string& text, bool layer3_switch) {
    const std::string_view kName = layer3_switch ? "ios-switch" : "ios";
    std::map<std::string, std::string> zone_of_acl;
    ParsedConfig out;
    std::string block, current, zone;
    bool subinterface = false, encapsulated = false, in_replies = false, replies_ended = false;
    Family family = Family::v4;
    for (const auto& line : text_lines(text)) {
        if (line.empty() || line[0] == '!') {
            block.clear();
            continue;
        }
        auto w = words(line);
        if (line[0] != ' ') {
            if (w[0] == "end" || line == "ipv6 unicast-routing" || (layer3_switch && line == "ip routing")) continue;
            if (w[0] == "no" && ((w.size() == 5 && w[1] == "ip" && w[2] == "access-list" && w[3] == "extended") ||
                                 (w.size() == 4 && w[1] == "ipv6" && w[2] == "access-list"))) {
                // Removes the list: a second load replaces the first instead of appending to it.
                std::erase_if(out.rules, [&](const ParsedRule& r) { return r.context == w.back(); });
                continue;
            }
            if (w[0] == "vlan" && w.size() == 2) {
                // A router holds no VLAN database without a switch module.
                if (!layer3_switch) fail(kName, "a VLAN database on a router: " + line);
                block = "vlan";
            } else if (w[0] == "interface") {
                // A router: VLANs arrive as dot1Q subinterfaces; a Vlan interface (SVI) needs a switch.
                bool svi = starts_with(w[1], "Vlan");
                if (svi && !layer3_switch) fail(kName, "a VLAN interface (SVI) on a router: " + line);
                block = "interface";
                subinterface = w[1].find('.') != std::string::npos;
                if (subinterface && layer3_switch) fail(kName, "a subinterface on a Catalyst switch: " + line);
                encapsulated = false;
                zone = svi ? "vlan" + w[1].substr(4) : "outside";
            } else if (w[0] == "ip" && w[1] == "access-list" && w[2] == "extended") {
                block = "acl";
                current = w[3];
                family = Family::v4;
                in_replies = replies_ended = false;
            } else if (w[0] == "ipv6" && w[1] == "access-list") {
                block = "acl";
                current = w[2];
                family = Family::v6;
                in_replies = replies_ended = false;
            } else {
                fail(kName, line);
            }
            continue;
        }
        if (block == "vlan") {
            if (w[0] != "name" || w.size() != 2 || w[1].size() > 32) fail(kName, line);
            continue;
        }
        if (block == "interface") {
            if (w[0] == "encapsulation" && w.size() == 3 && w[1] == "dot1Q") {
                if (layer3_switch) fail(kName, "encapsulation on a Catalyst interface: " + line);
                zone = "vlan" + w[2];
                encapsulated = true;
            }
            if (w[0] == "no" && w.size() == 2 && w[1] == "switchport" && !layer3_switch) fail(kName, line);
            // IOS refuses an address on a LAN subinterface before its encapsulation.
            if (subinterface && !encapsulated && (w[0] == "ip" || w[0] == "ipv6") && w[1] == "address")
                fail(kName, "an address before encapsulation dot1Q: " + line);
            if ((w[0] == "ip" && w[1] == "access-group") || (w[0] == "ipv6" && w[1] == "traffic-filter")) zone_of_acl[w[2]] = zone;
            continue;
        }
        if (block != "acl") continue;
        if (layer3_switch && line == " remark replies of connections the policy allows towards this segment") {
            if (in_replies || replies_ended) fail(kName, line);
            in_replies = true;
            continue;
        }
        if (layer3_switch && line == " remark end of replies") {
            if (!in_replies) fail(kName, line);
            in_replies = false;
            replies_ended = true;
            continue;
        }
        if (w[0] == "remark") continue;
        if (w[0] == "evaluate") {
            if (layer3_switch) fail(kName, "a reflexive list on a Catalyst switch: " + line);
            continue;
        }
        if (family == Family::v6 && w.size() == 5 && w[1] == "icmp" &&
            (w.back() == "nd-na" || w.back() == "nd-ns" || w.back() == "router-solicitation" ||
             w.back() == "router-advertisement" || w.back() == "packet-too-big"))
            continue;  // neighbour discovery and path MTU discovery (RFC 4890), not policy
        if (w[0] != "permit" && w[0] != "deny") fail(kName, line);
        size_t i = 2;
        auto address = [&] {
            Addresses a;
            const std::string& t = w.at(i++);
            if (t == "any") return Addresses::everything(family);
            if (t == "host") {
                a.prefixes.push_back(Prefix::host(prefix_of(kName, w.at(i++)).address));
            } else if (family == Family::v6) {
                a.prefixes.push_back(prefix_of(kName, t));
            } else {
                auto p = prefix_of(kName, t);
                a.prefixes.push_back(
                    *Prefix::parse(p.address.to_string() + "/" + std::to_string(mask_length(kName, w.at(i++), true))));
            }
            return a;
        };
        auto ports_at = [&]() -> std::optional<PortRange> {
            if (i < w.size() && w[i] == "eq") {
                i += 2;
                return range_of(kName, w[i - 1]);
            }
            if (i < w.size() && w[i] == "range") {
                i += 3;
                return PortRange{range_of(kName, w[i - 2]).first, range_of(kName, w[i - 1]).first};
            }
            return std::nullopt;
        };
        int proto = protocol_number(kName, w[1]);
        bool with_ports = proto == 6 || proto == 17;
        Addresses src = address();
        auto src_ports = with_ports ? ports_at() : std::nullopt;
        Addresses dst = address();
        Svc svc{proto, {0, 65535}, {}};
        bool established = false;
        if (proto == 1) {
            auto named = i < w.size() ? icmp_reply_keyword(family, w[i]) : std::nullopt;
            if (named) {
                if (!in_replies) fail(kName, "a reply message outside the replies: " + line);
                svc.ports = *named;
                ++i;
            } else {
                svc.ports = cisco_icmp_at(kName, w, i);
            }
        } else if (with_ports) {
            if (auto p = ports_at()) svc.ports = *p;
        }
        if (proto == 6 && i < w.size() && w[i] == "established") {
            established = true;
            ++i;
        }
        if (!layer3_switch && i + 1 < w.size() && w[i] == "reflect") i += 2;
        bool logged = i < w.size() && w[i] == "log";
        if (logged) ++i;
        if (i != w.size()) fail(kName, line);
        ParsedRule r;
        r.context = current;
        r.allow = w[0] == "permit";
        r.logged = logged;
        if (in_replies) {
            // A reply: from the allowed connection's far end, by its source port, to any port.
            if (!r.allow || (with_ports && !(svc.ports == PortRange{0, 65535})) || (proto == 6 && !established) || proto == 0)
                fail(kName, "not the shape of a reply: " + line);
            r.reply = true;
            r.established = established;
            if (src_ports) svc.ports = *src_ports;
        } else if (src_ports || established) {
            fail(kName, "source ports or established outside the replies: " + line);
        }
        r.default_deny = !r.allow && src.any && dst.any && proto == 0;
        r.tuples = expand(src, dst, {svc}, r.allow);
        out.rules.push_back(r);
    }
    for (auto& r : out.rules) r.from = {zone_of_acl.at(r.context)};
    return out;
}

// ---- PAN-OS ----

ParsedConfig read_panos(const std::string& text) {
    constexpr std::string_view kName = "panos";
    std::map<std::string, std::vector<Prefix>> objects;  // addresses and address groups
    std::map<std::string, std::pair<int, std::vector<PortRange>>> services;
    // Predefined ICMP applications (ping is part of what the exports mean by every ICMP
    // message) and the custom applications the file defines.
    std::map<std::string, std::vector<Svc>> apps{{"icmp", {{1, {0, 65535}, Family::v4}}},
                                                 {"ipv6-icmp", {{1, {0, 65535}, Family::v6}}},
                                                 {"ping", {}}};
    std::map<std::string, std::string> vlan_of_interface, zone_key;
    std::set<std::string> rule_names;
    std::set<std::string> zoned, imported;  // interfaces in a zone; interfaces imported into the vsys
    std::vector<std::string> rule_order;  // the name of each rule of out.rules
    ParsedConfig out;
    for (const auto& line : text_lines(text)) {
        if (line.empty()) continue;
        if (line[0] == '#') fail(kName, "the CLI takes no comment lines: " + line);
        auto w = words(line, true);
        if (w[0] == "delete" && w.size() == 5 && w[1] == "rulebase" && w[2] == "security" && w[3] == "rules") {
            auto at = std::find(rule_order.begin(), rule_order.end(), w[4]);
            if (at == rule_order.end()) fail(kName, "deletes no rule: " + line);
            out.rules.erase(out.rules.begin() + (at - rule_order.begin()));
            rule_order.erase(at);
            rule_names.erase(w[4]);
            continue;
        }
        if (w[0] == "delete" && w.size() == 3 && (w[1] == "address" || w[1] == "address-group")) {
            if (!objects.erase(w[2])) fail(kName, "deletes nothing: " + line);
            continue;
        }
        if (w[0] == "delete" && w.size() == 3 && w[1] == "service") {
            if (!services.erase(w[2])) fail(kName, "deletes nothing: " + line);
            continue;
        }
        if (w[0] == "delete" && w.size() == 3 && w[1] == "application") {
            if (!apps.erase(w[2])) fail(kName, "deletes nothing: " + line);
            continue;
        }
        if (w[0] != "set") fail(kName, line);
        if (w[1] == "address" && w[3] == "ip-netmask") {
            objects[w[2]] = {prefix_of(kName, w[4])};
        } else if (w[1] == "address-group" && w[3] == "static") {
            size_t i = 4;
            for (const auto& m : list_at(w, i)) {
                const auto& ps = objects.at(m);
                objects[w[2]].insert(objects[w[2]].end(), ps.begin(), ps.end());
            }
        } else if (w[1] == "address-group" && w[3] == "description") {
            continue;
        } else if (w[1] == "service" && w[3] == "protocol" && w[5] == "port") {
            std::vector<PortRange> ranges;
            for (size_t i = 6; i < w.size(); ++i)
                if (w[i] != ",") ranges.push_back(range_of(kName, w[i]));
            services[w[2]] = {protocol_number(kName, w[4]), ranges};
        } else if (w[1] == "application" && w.size() > 4 && w[3] == "default") {
            auto& app = apps[w[2]];
            if (w[4] == "ident-by-ip-protocol" && w.size() == 6) {
                app = {{protocol_number(kName, w[5]), {0, 65535}, {}}};
            } else if ((w[4] == "ident-by-icmp-type" || w[4] == "ident-by-icmp6-type") && w.size() >= 7 && w[5] == "type") {
                bool code = w.size() == 9 && w[7] == "code";
                if (w.size() != 7 && !code) fail(kName, line);
                app = {{1, icmp_range(kName, w[6], code ? w[8] : ""), w[4] == "ident-by-icmp-type" ? Family::v4 : Family::v6}};
            } else {
                fail(kName, line);
            }
        } else if (w[1] == "application" && w.size() > 3 && (w[3] == "category" || w[3] == "description")) {
            continue;
        } else if (w[1] == "network" && w[2] == "interface") {
            auto units = std::find(w.begin(), w.end(), "units");
            if (units != w.end() && units + 3 < w.end() && *(units + 2) == "tag") vlan_of_interface[*(units + 1)] = *(units + 3);
        } else if (w[1] == "network" && w[2] == "virtual-router") {
            continue;
        } else if (w[1] == "import" && w.size() > 4 && w[2] == "network" && w[3] == "interface") {
            size_t i = 4;
            for (const auto& name : list_at(w, i)) imported.insert(name);
        } else if (w[1] == "zone" && w[3] == "network" && w[4] == "layer3") {
            zoned.insert(w[5]);
            auto it = vlan_of_interface.find(w[5]);
            zone_key[w[2]] = it != vlan_of_interface.end() ? "vlan" + it->second : "outside";
        } else if (w[1] == "rulebase" && w[2] == "security" && w[3] == "rules") {
            if (w[5] == "description") continue;
            if (!rule_names.insert(w[4]).second) fail(kName, "duplicate rule " + w[4]);  // PAN-OS would merge them
            std::map<std::string, std::vector<std::string>> kv;
            for (size_t i = 5; i < w.size();) {
                std::string key = w[i++];
                kv[key] = list_at(w, i);
            }
            auto addresses = [&](const std::string& key) {
                Addresses a;
                for (const auto& n : kv.at(key)) {
                    if (n == "any") return Addresses::everything();
                    a.add(objects.at(n));
                }
                return a;
            };
            auto zones = [&](const std::string& key) {
                std::set<std::string> z;
                for (const auto& n : kv.at(key))
                    if (n != "any") z.insert(zone_key.at(n));
                return z;
            };
            std::vector<Svc> svcs;
            const auto& rule_apps = kv.at("application");
            for (const auto& s : kv.at("service")) {
                if (s == "any" && rule_apps == std::vector<std::string>{"any"}) {
                    svcs.push_back({0, {0, 65535}, {}});
                } else if (s == "application-default") {
                    for (const auto& a : rule_apps) {
                        auto it = apps.find(a);
                        if (it == apps.end()) fail(kName, "no application " + a + ": " + line);
                        svcs.insert(svcs.end(), it->second.begin(), it->second.end());
                    }
                } else {
                    if (rule_apps != std::vector<std::string>{"any"}) fail(kName, line);
                    const auto& [proto, ranges] = services.at(s);
                    for (const auto& r : ranges) svcs.push_back({proto, r, {}});
                }
            }
            Addresses src = addresses("source"), dst = addresses("destination");
            ParsedRule r;
            r.context = "rulebase";
            r.from = zones("from");
            r.to = zones("to");
            r.allow = kv.at("action").at(0) == "allow";
            r.logged = kv.count("log-end") && kv["log-end"].at(0) == "yes";
            r.default_deny = !r.allow && catch_all(src, dst, svcs);
            r.tuples = expand(src, dst, svcs, r.allow);
            out.rules.push_back(r);
            rule_order.push_back(w[4]);
        } else {
            fail(kName, line);
        }
    }
    // A CLI-made interface belongs to no virtual system until imported, and commit refuses a zone holding it.
    for (const auto& name : zoned)
        if (!imported.count(name)) fail(kName, "interface " + name + " is in a zone but not imported into the vsys");
    return out;
}

// ---- FortiOS ----

using Entry = std::map<std::string, std::vector<std::string>>;

ParsedConfig read_fortios(const std::string& text) {
    constexpr std::string_view kName = "fortios";
    std::map<std::string, std::vector<std::pair<std::string, Entry>>> tables;  // "firewall policy" -> entries in order
    std::vector<std::string> sections;
    std::optional<std::pair<std::string, Entry>> entry;
    for (const auto& raw : text_lines(text)) {
        auto w = words(raw);
        if (w.empty() || w[0][0] == '#') continue;
        if (w[0] == "config") {
            std::string name;
            for (size_t i = 1; i < w.size(); ++i) name += (i > 1 ? " " : "") + w[i];
            sections.push_back(name);
        } else if (w[0] == "end") {
            if (sections.empty()) fail(kName, raw);
            sections.pop_back();
        } else if (w[0] == "edit" && sections.size() == 1) {
            entry = std::pair<std::string, Entry>{w[1], {}};
        } else if (w[0] == "delete" && sections.size() == 1 && w.size() == 2) {
            auto& table = tables[sections.back()];
            auto at = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == w[1]; });
            if (at == table.end()) fail(kName, "deletes nothing: " + raw);
            table.erase(at);
        } else if (w[0] == "next" && sections.size() == 1) {
            // Editing an entry that exists changes it in place: it keeps its place in the
            // list and every field the edit does not set.
            auto& table = tables[sections.back()];
            auto at = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == entry->first; });
            if (at == table.end()) {
                table.push_back(*entry);
            } else {
                for (const auto& [k, v] : entry->second) at->second[k] = v;
            }
            entry.reset();
        } else if (w[0] == "set" && entry && sections.size() == 1) {
            entry->second[w[1]] = std::vector<std::string>(w.begin() + 2, w.end());
        } else if (w[0] != "set") {
            fail(kName, raw);
        }
    }
    std::map<std::string, std::string> zone_key;
    for (const auto& [name, e] : tables["system interface"])
        zone_key[name] = e.count("vlanid") ? "vlan" + e.at("vlanid").at(0) : "outside";
    std::map<std::string, std::vector<Prefix>> v4, v6;
    for (const auto& [name, e] : tables["firewall address"]) {
        auto p = prefix_of(kName, e.at("subnet").at(0));
        v4[name] = {*Prefix::parse(p.address.to_string() + "/" + std::to_string(mask_length(kName, e.at("subnet").at(1), false)))};
    }
    for (const auto& [name, e] : tables["firewall address6"]) v6[name] = {prefix_of(kName, e.at("ip6").at(0))};
    for (const auto& [name, e] : tables["firewall addrgrp"])
        for (const auto& m : e.at("member")) v4[name].push_back(v4.at(m).at(0));
    for (const auto& [name, e] : tables["firewall addrgrp6"])
        for (const auto& m : e.at("member")) v6[name].push_back(v6.at(m).at(0));
    std::map<std::string, std::vector<Svc>> services{{"ALL", {{0, {0, 65535}, {}}}},
                                                     {"ALL_ICMP", {{1, {0, 65535}, Family::v4}}},
                                                     {"ALL_ICMP6", {{1, {0, 65535}, Family::v6}}}};
    for (const auto& [name, e] : tables["firewall service custom"]) {
        std::string protocol = e.count("protocol") ? e.at("protocol").at(0) : "TCP/UDP/SCTP";
        if (protocol == "IP") {
            services[name].push_back({protocol_number(kName, e.at("protocol-number").at(0)), {0, 65535}, {}});
            continue;
        }
        if (protocol == "ICMP" || protocol == "ICMP6") {
            services[name].push_back({1, icmp_range(kName, e.at("icmptype").at(0), e.count("icmpcode") ? e.at("icmpcode").at(0) : ""),
                                      protocol == "ICMP" ? Family::v4 : Family::v6});
            continue;
        }
        if (protocol != "TCP/UDP/SCTP") fail(kName, "service protocol " + protocol);
        for (const auto& [key, proto] :
             {std::pair<std::string, int>{"tcp-portrange", 6}, {"udp-portrange", 17}, {"sctp-portrange", 132}}) {
            if (!e.count(key)) continue;
            for (const auto& r : e.at(key)) {
                services[name].push_back({proto, range_of(kName, r), {}});
            }
        }
    }
    ParsedConfig out;
    std::set<std::string> names;
    for (const auto& entry : tables["firewall policy"]) {
        // A plain reference, not a structured binding: lambdas capture it (clang 14 cannot
        // capture structured bindings).
        const auto& e = entry.second;
        if (e.count("name") && !names.insert(e.at("name").at(0)).second) fail(kName, "duplicate policy name " + e.at("name").at(0));
        auto addresses = [&](const char* key, std::map<std::string, std::vector<Prefix>>& table, Family f) {
            Addresses a;
            if (!e.count(key)) return a;
            for (const auto& n : e.at(key)) {
                if (n == "all") return Addresses::everything(f);
                a.add(table.at(n));
            }
            return a;
        };
        auto zones = [&](const char* key) {
            std::set<std::string> z;
            for (const auto& n : e.at(key))
                if (n != "any") z.insert(zone_key.at(n));
            return z;
        };
        std::vector<Svc> svcs;
        for (const auto& s : e.at("service")) {
            const auto& more = services.at(s);
            svcs.insert(svcs.end(), more.begin(), more.end());
        }
        ParsedRule r;
        r.context = "policy";
        r.from = zones("srcintf");
        r.to = zones("dstintf");
        r.allow = e.at("action").at(0) == "accept";
        r.logged = e.count("logtraffic") && e.at("logtraffic").at(0) != "disable";
        Addresses s4 = addresses("srcaddr", v4, Family::v4), d4 = addresses("dstaddr", v4, Family::v4);
        Addresses s6 = addresses("srcaddr6", v6, Family::v6), d6 = addresses("dstaddr6", v6, Family::v6);
        r.tuples = expand(s4, d4, svcs, r.allow);
        auto six = expand(s6, d6, svcs, r.allow);
        r.tuples.insert(r.tuples.end(), six.begin(), six.end());
        r.default_deny = !r.allow && s4.any && d4.any && s6.any && d6.any && svcs.size() == 1 && svcs[0].protocol == 0;
        out.rules.push_back(r);
    }
    return out;
}

// ---- Junos SRX ----

ParsedConfig read_srx(const std::string& text) {
    constexpr std::string_view kName = "srx";
    std::map<std::string, std::string> vlan_of_interface, zone_key;
    std::map<std::string, std::vector<Prefix>> objects;
    std::map<std::string, std::vector<Svc>> apps{{"any", {{0, {0, 65535}, {}}}},
                                                 {"junos-icmp-all", {{1, {0, 65535}, Family::v4}}},
                                                 {"junos-icmp6-all", {{1, {0, 65535}, Family::v6}}}};
    struct Pending {
        std::string context, from, to;
        Entry match;
        std::string action;
        bool logged = false;
    };
    std::vector<std::string> order;
    std::map<std::string, Pending> policies;
    const auto builtin_apps = apps;
    for (const auto& line : text_lines(text)) {
        if (line.empty() || line[0] == '#') continue;
        auto w = words(line, true);
        if (w.size() == 3 && w[0] == "delete" && w[1] == "groups" && w[2] == "wardgate") {
            // Everything wardgate loaded before goes: a second load replaces the first.
            vlan_of_interface.clear();
            zone_key.clear();
            objects.clear();
            apps = builtin_apps;
            order.clear();
            policies.clear();
            continue;
        }
        if (w[0] != "set") fail(kName, line);
        if (line == "set apply-groups wardgate" || line == "set security forwarding-options family inet6 mode flow-based")
            continue;
        // The group's contents, inherited where apply-groups names it.
        if (w.size() > 3 && w[1] == "groups" && w[2] == "wardgate") w.erase(w.begin() + 1, w.begin() + 3);
        if (w[1] == "interfaces") {
            if (w.size() > 6 && w[3] == "unit" && w[5] == "vlan-id") vlan_of_interface[w[2] + "." + w[4]] = w[6];
        } else if (w[1] == "security" && w[2] == "zones") {
            auto it = vlan_of_interface.find(w[6]);
            zone_key[w[4]] = it != vlan_of_interface.end() ? "vlan" + it->second : "outside";
        } else if (w[1] == "security" && w[2] == "address-book" && w[4] == "address") {
            objects[w[5]] = {prefix_of(kName, w[6])};
        } else if (w[1] == "security" && w[2] == "address-book" && w[4] == "address-set") {
            if (w[6] == "address") objects[w[5]].push_back(objects.at(w[7]).at(0));
        } else if (w[1] == "applications" && w[2] == "application") {
            size_t i = w[4] == "term" ? 6 : 4;
            if (w.at(i) != "protocol") fail(kName, line);
            int proto = protocol_number(kName, w.at(i + 1));
            if (i + 2 == w.size()) {
                apps[w[3]].push_back({proto, {0, 65535}, {}});
            } else if (w.at(i + 2) == "destination-port" && i + 4 == w.size()) {
                apps[w[3]].push_back({proto, range_of(kName, w[i + 3]), {}});
            } else if (proto == 1 && (w[i + 2] == "icmp-type" || w[i + 2] == "icmp6-type")) {
                std::string p = w[i + 2].substr(0, w[i + 2].size() - 5);  // "icmp" or "icmp6"
                if (w[i + 1] != p) fail(kName, line);
                bool code = i + 6 == w.size() && w[i + 4] == p + "-code";
                if (i + 4 != w.size() && !code) fail(kName, line);
                apps[w[3]].push_back({1, icmp_range(kName, w[i + 3], code ? w[i + 5] : ""), p == "icmp" ? Family::v4 : Family::v6});
            } else {
                fail(kName, line);
            }
        } else if (w[1] == "security" && w[2] == "policies" && w[3] == "default-policy") {
            continue;
        } else if (w[1] == "security" && w[2] == "policies") {
            bool global = w[3] == "global";
            size_t i = global ? 6 : 9;
            std::string context = global ? "global" : w[4] + ">" + w[6];
            std::string key = context + "|" + w[i - 1];
            if (!policies.count(key)) {
                order.push_back(key);
                policies[key] = {context, global ? "" : w[4], global ? "" : w[6], {}, "", false};
            }
            Pending& p = policies[key];
            if (w[i] == "description") continue;
            if (w[i] == "match") {
                if (!p.match.empty()) fail(kName, "duplicate policy " + key);  // Junos would merge them
                for (size_t j = i + 1; j < w.size();) {
                    std::string k = w[j++];
                    p.match[k] = list_at(w, j);
                }
            } else if (w[i] == "then" && w[i + 1] == "log") {
                p.logged = true;
            } else if (w[i] == "then") {
                p.action = w[i + 1];
            } else {
                fail(kName, line);
            }
        } else {
            fail(kName, line);
        }
    }
    ParsedConfig out;
    for (const auto& key : order) {
        const Pending& p = policies.at(key);
        auto addresses = [&](const char* k) {
            Addresses a;
            for (const auto& n : p.match.at(k)) {
                if (n == "any") return Addresses::everything();
                a.add(objects.at(n));
            }
            return a;
        };
        std::vector<Svc> svcs;
        for (const auto& a : p.match.at("application")) {
            const auto& more = apps.at(a);
            svcs.insert(svcs.end(), more.begin(), more.end());
        }
        ParsedRule r;
        r.context = p.context;
        std::string from = p.from.empty() && p.match.count("from-zone") ? p.match.at("from-zone").at(0) : p.from;
        std::string to = p.to.empty() && p.match.count("to-zone") ? p.match.at("to-zone").at(0) : p.to;
        if (!from.empty()) r.from = {zone_key.at(from)};
        if (!to.empty()) r.to = {zone_key.at(to)};
        r.allow = p.action == "permit";
        r.logged = p.logged;
        Addresses src = addresses("source-address"), dst = addresses("destination-address");
        // A deny of everything: a zone pair's last policy, or a global one.
        r.default_deny = !r.allow && catch_all(src, dst, svcs);
        r.tuples = expand(src, dst, svcs, r.allow);
        out.rules.push_back(r);
    }
    return out;
}

// ---- iptables-restore ----

void read_iptables_family(const std::string& text, Family family, const std::map<std::string, std::vector<Prefix>>& sets,
                          ParsedConfig& out) {
    constexpr std::string_view kName = "iptables";
    constexpr std::string_view kForward = "wg-forward";  // the chain FORWARD jumps to
    struct Chain {
        bool logged = false;
        std::string verdict;
    };
    std::map<std::string, Chain> chains;
    std::vector<std::vector<std::string>> forward;
    for (const auto& line : text_lines(text)) {
        if (line.empty() || line[0] == '#' || line == "*filter" || line == "COMMIT") continue;
        if (line[0] == ':') {
            // Declaring a chain under --noflush flushes it: what a previous load put there goes.
            std::string name = words(line).at(0).substr(1);
            if (name == kForward) forward.clear();
            chains.erase(name);
            continue;
        }
        auto w = words(line);
        if (w[0] != "-A") fail(kName, line);
        if (w[1] == kForward) {
            forward.push_back(w);
            continue;
        }
        if (w[1] == "FORWARD" || w[1] == "INPUT" || w[1] == "OUTPUT") fail(kName, "a rule in a built-in chain: " + line);
        Chain& c = chains[w[1]];
        if (w[2] != "-j") fail(kName, line);
        if (w[3] == "NFLOG" || w[3] == "LOG") c.logged = true;
        if (w[3] == "DROP" || w[3] == "ACCEPT") c.verdict = w[3];
    }
    std::string context = family == Family::v4 ? "FORWARD4" : "FORWARD6";
    bool log_pending = false;
    for (const auto& w : forward) {
        Addresses src = Addresses::everything(family), dst = Addresses::everything(family);
        int proto = 0;
        std::vector<PortRange> ports;
        std::optional<PortRange> icmp;
        std::string target;
        bool state = false;
        for (size_t i = 2; i < w.size(); ++i) {
            const std::string& t = w[i];
            auto list = [&](Addresses& a) {
                a = {};
                std::stringstream ss(w.at(++i));
                for (std::string item; std::getline(ss, item, ',');) a.prefixes.push_back(prefix_of(kName, item));
            };
            if (t == "-s") {
                list(src);
            } else if (t == "-d") {
                list(dst);
            } else if (t == "-p") {
                proto = protocol_number(kName, w.at(++i));
            } else if (t == "--icmp-type" || t == "--icmpv6-type") {
                if ((t == "--icmp-type") != (family == Family::v4)) fail(kName, "option " + t);
                std::string m = w.at(++i);
                auto slash = m.find('/');
                icmp = slash == std::string::npos ? icmp_range(kName, m) : icmp_range(kName, m.substr(0, slash), m.substr(slash + 1));
            } else if (t == "--dport") {
                ports.push_back(range_of(kName, w.at(++i), ':'));
            } else if (t == "--dports") {
                std::stringstream ss(w.at(++i));
                for (std::string item; std::getline(ss, item, ',');) ports.push_back(range_of(kName, item, ':'));
            } else if (t == "--match-set") {
                Addresses a;
                a.prefixes = sets.at(w.at(i + 1));
                (w.at(i + 2) == "src" ? src : dst) = a;
                i += 2;
            } else if (t == "--ctstate") {
                state = true;
                ++i;
            } else if (t == "--comment" || t == "--nflog-group" || t == "--nflog-prefix" || t == "--log-prefix") {
                ++i;
            } else if (t == "-m") {
                ++i;
            } else if (t == "-j") {
                target = w.at(++i);
            } else {
                fail(kName, "option " + t);
            }
        }
        if (state) continue;  // replies and invalid packets, not policy
        if (target == "NFLOG" || target == "LOG") {
            log_pending = true;  // logs what the next rule, with the same match, decides
            continue;
        }
        std::vector<Svc> svcs;
        if (icmp) svcs.push_back({proto, *icmp, {}});
        if (ports.empty() && !icmp) svcs.push_back({proto, {0, 65535}, {}});
        for (const auto& p : ports) svcs.push_back({proto, p, {}});
        ParsedRule r;
        r.context = context;
        if (target == "ACCEPT" || target == "DROP") {
            r.allow = target == "ACCEPT";
            r.logged = log_pending;
        } else {
            const Chain& c = chains.at(target);
            r.allow = c.verdict == "ACCEPT";
            r.logged = c.logged;
            r.default_deny = starts_with(target, "wg-drop-");
        }
        log_pending = false;
        r.tuples = expand(src, dst, svcs, r.allow);
        out.rules.push_back(r);
    }
}

// ipset restore: lists are filled under a temporary name, swapped in, and the temporary destroyed.
void read_ipsets(const std::string& text, std::map<std::string, std::vector<Prefix>>& sets) {
    for (const auto& line : text_lines(text)) {
        auto w = words(line);
        if (w.empty() || w[0][0] == '#') continue;
        if (w[0] == "create") {
            sets[w.at(1)];
        } else if (w[0] == "flush") {
            sets[w.at(1)].clear();
        } else if (w[0] == "add") {
            sets[w.at(1)].push_back(prefix_of("ipset", w.at(2)));
        } else if (w[0] == "swap") {
            std::swap(sets.at(w.at(1)), sets.at(w.at(2)));
        } else if (w[0] == "destroy") {
            sets.erase(w.at(1));
        } else {
            fail("ipset", line);
        }
    }
}

ParsedConfig read_iptables(const ExportResult& e) {
    std::map<std::string, std::vector<Prefix>> sets;
    const std::string* v6 = nullptr;
    for (const auto& c : e.companions) {
        if (ends_with(c.filename, ".v6.rules")) v6 = &c.text;
        if (ends_with(c.filename, ".ipset")) read_ipsets(c.text, sets);
    }
    if (!v6) throw std::runtime_error("iptables reader: no IPv6 companion file");
    ParsedConfig out;
    read_iptables_family(e.text, Family::v4, sets, out);
    read_iptables_family(*v6, Family::v6, sets, out);
    return out;
}

// ---- nftables ----

ParsedConfig read_nft(const std::string& text) {
    constexpr std::string_view kName = "nft";
    auto lines = text_lines(text);
    std::map<std::string, std::vector<std::string>> sets;  // elements as written
    struct Chain {
        bool logged = false;
        bool accept = false;
        std::string tail_jump;  // "jump X" as the chain's last word: its verdict is X's
    };
    std::map<std::string, Chain> chains;
    ParsedConfig out;
    auto trim = [](const std::string& s) {
        size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t,");
        return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    std::vector<std::string> forward;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string l = trim(lines[i]);
        if (starts_with(l, "set ") && ends_with(l, "{")) {
            std::string name = words(l)[1];
            auto& elems = sets[name];
            for (++i; i < lines.size() && trim(lines[i]) != "}"; ++i) {
                std::string t = trim(lines[i]);
                if (t != "elements = {") continue;
                for (++i; i < lines.size() && trim(lines[i]) != "}"; ++i) {
                    std::stringstream ss(trim(lines[i]));
                    for (std::string item; std::getline(ss, item, ',');)
                        if (!trim(item).empty()) elems.push_back(trim(item));
                }
            }
        } else if (starts_with(l, "chain ") && ends_with(l, "{")) {
            std::string name = words(l)[1];
            for (++i; i < lines.size() && trim(lines[i]) != "}"; ++i) {
                std::string t = trim(lines[i]);
                if (name == "forward") {
                    forward.push_back(t);
                    continue;
                }
                if (starts_with(t, "log ")) chains[name].logged = true;
                if (t == "counter accept") chains[name].accept = true;
                if (starts_with(t, "jump ")) chains[name].tail_jump = words(t)[1];
            }
        }
    }
    for (auto& [name, c] : chains)
        if (!c.tail_jump.empty()) c.accept = chains.at(c.tail_jump).accept;
    auto set_prefixes = [&](const std::string& ref) {
        std::vector<Prefix> out;
        for (const auto& e : sets.at(ref.substr(1))) out.push_back(prefix_of(kName, e));
        return out;
    };
    for (const auto& l : forward) {
        auto w = words(l, true);
        if (w.empty() || w[0] == "type" || (w[0] == "ct" && w[1] == "state")) continue;
        ParsedRule r;
        r.context = "forward";
        if (w[0] == "jump") {
            r.allow = chains.at(w[1]).accept;
            r.logged = chains.at(w[1]).logged;
            r.default_deny = true;
            r.tuples = expand(Addresses::everything(), Addresses::everything(), {{0, {0, 65535}, {}}}, r.allow);
            out.rules.push_back(r);
            continue;
        }
        if (w.size() > 2 && w[2] == "vmap") {  // "ip saddr vmap { P : jump drop_x, ... }"
            Family f = w[0] == "ip" ? Family::v4 : Family::v6;
            for (size_t i = 4; i + 3 < w.size(); i += 5) {  // P : jump chain ,
                ParsedRule d;
                d.context = "forward";
                d.allow = chains.at(w[i + 3]).accept;
                d.logged = chains.at(w[i + 3]).logged;
                d.default_deny = true;
                Addresses a;
                a.prefixes = {prefix_of(kName, w[i])};
                d.tuples = w[1] == "saddr" ? expand(a, Addresses::everything(f), {{0, {0, 65535}, {}}}, d.allow)
                                           : expand(Addresses::everything(f), a, {{0, {0, 65535}, {}}}, d.allow);
                out.rules.push_back(d);
            }
            continue;
        }
        if (std::find(w.begin(), w.end(), ".") != w.end()) {  // baseline: concatenated sets
            std::string ref = *std::find_if(w.begin(), w.end(), [](const std::string& t) { return t[0] == '@'; });
            Family f = l.find("ip6 ") != std::string::npos ? Family::v6 : Family::v4;
            for (const auto& e : sets.at(ref.substr(1))) {
                auto parts = words(e);  // "a . b . proto . port", "a . b . proto" or "a . b" (ICMP)
                Addresses s, d;
                s.prefixes = {prefix_of(kName, parts.at(0))};
                d.prefixes = {prefix_of(kName, parts.at(2))};
                bool icmp_typed = l.find("icmp type") != std::string::npos || l.find("icmpv6 type") != std::string::npos;
                Svc svc = parts.size() == 3 ? Svc{1, {0, 65535}, {}}
                          : icmp_typed      ? Svc{1, icmp_range(kName, parts.at(4)), {}}
                          : parts.size() == 5 ? Svc{protocol_number(kName, parts[4]), {0, 65535}, {}}
                                              : Svc{protocol_number(kName, parts.at(4)), range_of(kName, parts.at(6)), {}};
                if (s.prefixes[0].family() != f) fail(kName, e);
                auto t = expand(s, d, {svc}, true);
                r.tuples.insert(r.tuples.end(), t.begin(), t.end());
            }
            r.allow = true;
            out.rules.push_back(r);
            continue;
        }
        std::optional<Family> family;
        Addresses src = Addresses::everything(), dst = Addresses::everything();
        std::vector<Svc> svcs;
        bool verdict = false;
        for (size_t i = 0; i < w.size(); ++i) {
            const std::string& t = w[i];
            if (t == "meta" && w.at(i + 1) == "nfproto") {
                family = w.at(i + 2) == "ipv4" ? Family::v4 : Family::v6;
                i += 2;
            } else if (t == "meta" && w.at(i + 1) == "l4proto") {
                svcs.push_back({protocol_number(kName, w.at(i + 2)), {0, 65535}, {}});
                i += 2;
            } else if ((t == "ip" || t == "ip6") && (w.at(i + 1) == "saddr" || w.at(i + 1) == "daddr")) {
                family = t == "ip" ? Family::v4 : Family::v6;
                Addresses a;
                a.prefixes = set_prefixes(w.at(i + 2));
                (w[i + 1] == "saddr" ? src : dst) = a;
                i += 2;
            } else if ((t == "icmp" || t == "icmpv6") && w.at(i + 1) == "type") {
                std::string why;
                auto types = parse_icmp_type(w.at(i + 2), t == "icmpv6", &why);
                if (!types || types->empty()) fail(kName, l);
                Family f = t == "icmp" ? Family::v4 : Family::v6;
                auto type = std::find_if(types->begin(), types->end(), [&](const IcmpType& x) { return x.family == f; });
                if (type == types->end()) fail(kName, l);
                i += 2;
                std::string code;
                if (i + 2 < w.size() && w[i + 1] == t && w[i + 2] == "code") {
                    code = w.at(i + 3);
                    i += 3;
                }
                svcs.push_back({1, icmp_range(kName, std::to_string(type->type), code), f});
            } else if ((t == "tcp" || t == "udp" || t == "sctp" || t == "udplite") && w.at(i + 1) == "dport") {
                int proto = protocol_number(kName, t);
                i += 2;
                if (w.at(i) == "{") {
                    for (++i; w.at(i) != "}"; ++i)
                        if (w[i] != ",") svcs.push_back({proto, range_of(kName, w[i]), {}});
                } else {
                    svcs.push_back({proto, range_of(kName, w[i]), {}});
                }
            } else if (t == "log") {
                r.logged = true;
                for (i += 3; i + 1 < w.size() && w[i] == "group"; i += 2) {
                }
                --i;
            } else if (t == "counter") {
                continue;
            } else if (t == "accept" || t == "drop") {
                r.allow = t == "accept";
                verdict = true;
            } else if (t == "jump") {
                r.allow = chains.at(w.at(++i)).accept;
                verdict = true;
            } else if (t == "comment") {
                ++i;
            } else {
                fail(kName, l);
            }
        }
        if (!verdict) fail(kName, l);
        if (svcs.empty()) svcs.push_back({0, {0, 65535}, {}});
        if (family) {
            if (src.any) src.any_family = family;
            if (dst.any) dst.any_family = family;
        }
        r.tuples = expand(src, dst, svcs, r.allow);
        out.rules.push_back(r);
    }
    return out;
}

}  // namespace

std::string FlowTuple::to_string() const {
    return fmt::format("{} {} -> {} proto {} ports {}", allow ? "allow" : "deny", src.to_string(), dst.to_string(),
                       protocol, ports.to_string());
}

ParsedConfig read_export(std::string_view target, const ExportResult& exported) {
    if (target == "asa") return read_asa(exported.text);
    if (target == "ios") return read_ios(exported.text, false);
    if (target == "ios-switch") return read_ios(exported.text, true);
    if (target == "panos") return read_panos(exported.text);
    if (target == "fortios") return read_fortios(exported.text);
    if (target == "srx") return read_srx(exported.text);
    if (target == "iptables") return read_iptables(exported);
    if (target == "nft") return read_nft(exported.text);
    throw std::invalid_argument("no reader for " + std::string(target));
}

PortRange every_port_as_one(int protocol, PortRange ports) {
    const bool with_ports = protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136;
    return with_ports && ports.first == 1 && ports.last == 65535 ? PortRange{0, 65535} : ports;
}

std::set<FlowTuple> expected_tuples(const Policy& policy) {
    std::set<FlowTuple> out;
    auto side = [](const AddressGroup& g, Family f) {
        if (g.any) return std::vector<Prefix>{zero(f)};
        std::vector<Prefix> v;
        for (const auto& p : g.prefixes)
            if (p.family() == f) v.push_back(p);
        return v;
    };
    for (const auto& r : policy.rules) {
        const auto& src = policy.groups[r.src];
        const auto& dst = policy.groups[r.dst];
        for (Family f : {Family::v4, Family::v6}) {
            if (!src.has(f) || !dst.has(f)) continue;
            std::vector<std::pair<int, PortRange>> svcs;
            if (r.services.empty()) svcs.push_back({0, {0, 65535}});
            for (const auto& s : r.services) {
                int proto = static_cast<int>(s.protocol);
                if (s.protocol == Protocol::icmp && !s.icmp_types.empty()) {
                    for (const auto& t : s.icmp_types)
                        if (t.family == f)
                            svcs.push_back({proto, t.code < 0 ? PortRange{icmp_port(t.type, 0), icmp_port(t.type, 255)}
                                                              : PortRange{icmp_port(t.type, static_cast<uint8_t>(t.code)),
                                                                          icmp_port(t.type, static_cast<uint8_t>(t.code))}});
                    continue;
                }
                if (s.ports.empty()) svcs.push_back({proto, {0, 65535}});
                for (const auto& pr : s.ports) svcs.push_back({proto, every_port_as_one(proto, pr)});
            }
            for (const auto& s : side(src, f))
                for (const auto& d : side(dst, f))
                    for (const auto& [proto, ports] : svcs)
                        out.insert({s, d, proto, ports, r.action == Rule::Action::allow});
        }
    }
    for (const auto& h : policy.pinholes) {
        auto m = h.protocol == Protocol::icmp ? icmp_message(h.port) : std::nullopt;
        PortRange ports = has_ports(h.protocol) ? PortRange{h.port, h.port}
                          : m                   ? PortRange{icmp_port(m->type, 0), icmp_port(m->type, 255)}
                                                : PortRange{0, 65535};
        out.insert({Prefix::host(h.src), Prefix::host(h.dst), static_cast<int>(h.protocol), ports, true});
    }
    return out;
}

std::set<FlowTuple> parsed_tuples(const ParsedConfig& config) {
    std::set<FlowTuple> out;
    for (const auto& r : config.rules)
        if (!r.default_deny && !r.reply)
            for (auto t : r.tuples) {
                t.ports = every_port_as_one(t.protocol, t.ports);
                out.insert(t);
            }
    return out;
}

const std::vector<std::string>& export_cases() {
    static const std::vector<std::string> cases{"example-hospital", "one-rule",         "ipv6-only",
                                                "port-ranges",      "expired-approval", "long-names",       "protocols",
                                                "every-port",       "monitor"};
    return cases;
}

std::filesystem::path export_case_dir(const std::string& name) {
    std::filesystem::path source = WARDGATE_SOURCE_DIR;
    if (name == "example-hospital") return source / "policies" / name;
    return source / "tests" / "data" / "export" / name;
}

std::set<std::string> zones_of(const Policy& policy, const Prefix& p) {
    std::set<std::string> out;
    bool inside = false;
    for (const auto& s : policy.segments) {
        for (const auto& subnet : s.subnets) {
            if (subnet.contains(p) || p.contains(subnet)) out.insert("vlan" + std::to_string(s.vlan.value_or(0)));
            inside = inside || subnet.contains(p);
        }
    }
    if (!inside) out.insert("outside");
    return out;
}

std::filesystem::path write_next_hospital(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    fs::path site = dir / "example-hospital-next";
    fs::create_directories(site);
    fs::copy(export_case_dir("example-hospital"), site, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    // Replaces the first `from` after `after` (the start of the file when empty).
    auto edit = [&](const std::string& file, const std::string& from, const std::string& to, const std::string& after = "") {
        std::ifstream in(site / file, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto start = after.empty() ? 0 : text.find(after);
        if (start == std::string::npos) throw std::runtime_error("write_next_hospital: no '" + after + "' in " + file);
        auto at = text.find(from, start);
        if (at == std::string::npos) throw std::runtime_error("write_next_hospital: no '" + from + "' in " + file);
        text.replace(at, from.size(), to);
        std::ofstream(site / file, std::ios::binary | std::ios::trunc) << text;
    };
    edit("devices.toml", "name = \"pump-icu-02\"\naddresses = [\"10.110.0.22\"]\nmac = \"00:0a:f7:41:80:02\"\nrole = \"infusion-pump\"",
         "name = \"pump-icu-02\"\naddresses = [\"10.110.0.22\"]\nmac = \"00:0a:f7:41:80:02\"\nrole = \"patient-monitor\"");
    // ws-icu-02 moves from the workstations to the biomed segment, with new addresses.
    edit("devices.toml", "addresses = [\"10.200.0.22\", \"fd00:200::22\"]", "addresses = [\"10.90.0.99\", \"fd00:90::99\"]",
         "name = \"ws-icu-02\"");
    edit("devices.toml", "segment = \"workstations\"", "segment = \"biomed\"", "name = \"ws-icu-02\"");
    // The approval's table, up to the next one.
    std::ifstream in(site / "policy.toml", std::ios::binary);
    std::string policy((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    auto from = policy.find("[[approval]]\nid = \"CHG-5230\"");
    auto to = policy.find("\n[[", from + 1);
    if (from == std::string::npos || to == std::string::npos) throw std::runtime_error("write_next_hospital: no CHG-5230");
    policy.erase(from, to + 1 - from);
    std::ofstream(site / "policy.toml", std::ios::binary | std::ios::trunc) << policy;
    return site;
}

ExportResult loaded_after(const ExportResult& first, const ExportResult& second) {
    ExportResult out = second;
    out.text = first.text;
    // Where the first export comes with an undo file, that is loaded between the two.
    for (const auto& c : first.companions)
        if (c.filename.find(".undo.") != std::string::npos) out.text += c.text;
    out.text += second.text;
    for (auto& c : out.companions)
        for (const auto& old : first.companions)
            if (old.filename == c.filename) c.text = old.text + c.text;
    return out;
}

}  // namespace wardgate::testing
