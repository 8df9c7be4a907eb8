// Reads an RFC 8520 MUD file (RFC 8519 ACLs with the ietf-mud and ietf-acldns augments) into MudFile.
// Earlier drafts' names (access-lists, access-list-entries, rule-name, acl-name) are accepted too.

#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mud_lines.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/site/mud.hpp"

namespace wardgate {

using nlohmann::json;

std::string_view to_string(MudSide s) { return s == MudSide::from_device ? "from-device" : "to-device"; }

namespace {

std::string at(const std::string& base, std::string_view key) { return mud_detail::pointer_child(base, key); }

std::string at(const std::string& base, size_t index) { return base + "/" + std::to_string(index); }

std::optional<MudSide> parse_side(std::string_view text) {
    if (text == "from-device") return MudSide::from_device;
    if (text == "to-device") return MudSide::to_device;
    return std::nullopt;
}

class MudParser {
public:
    MudParser(const std::string& file, const std::map<std::string, int>& lines, Diagnostics& diags)
        : file_(file), lines_(lines), diags_(diags) {}

    std::optional<MudFile> run(const json& root) {
        size_t errors_before = diags_.items().size();
        if (!root.is_object()) {
            error("", "expected a JSON object holding \"ietf-mud:mud\"");
            return std::nullopt;
        }
        MudFile mud;
        std::map<std::string, std::pair<MudSide, std::string>> policies;  // ACL name -> side, pointer
        if (auto [node, ptr] = member(root, "", {"ietf-mud:mud"}); !node) {
            error("/ietf-mud:mud", "missing: not a MUD file (RFC 8520)");
        } else if (!node->is_object()) {
            error(ptr, "expected an object");
        } else {
            mud.url = text(*node, ptr, {"mud-url"}, true);
            mud.last_update = text(*node, ptr, {"last-update"}, false);
            mud.systeminfo = text(*node, ptr, {"systeminfo"}, false);
            mud.mfg_name = text(*node, ptr, {"mfg-name"}, false);
            mud.model_name = text(*node, ptr, {"model-name"}, false);
            read_policy(*node, ptr, "from-device-policy", MudSide::from_device, policies);
            read_policy(*node, ptr, "to-device-policy", MudSide::to_device, policies);
        }
        auto [acls, acls_ptr] =
            member(root, "", {"ietf-access-control-list:acls", "ietf-access-control-list:access-lists"});
        std::set<std::string> defined;
        if (acls) {
            auto [list, list_ptr] = array_member(*acls, acls_ptr, {"acl", "access-list"});
            for (size_t i = 0; list && i < list->size(); ++i)
                read_acl((*list)[i], at(list_ptr, i), policies, defined, mud.aces);
        }
        for (const auto& [name, use] : policies)
            if (!defined.contains(name))
                error(use.second, "the " + std::string(to_string(use.first)) + " policy names ACL \"" + name +
                                      "\", which the file does not define");
        if (diags_.items().size() > errors_before) return std::nullopt;
        return mud;
    }

private:
    int line(const std::string& pointer) const { return mud_detail::line_of(lines_, pointer); }
    void error(const std::string& pointer, std::string message) {
        diags_.add(file_, line(pointer), 0, pointer, std::move(message));
    }

    // The first of `names` present in obj (older drafts spell some keys differently).
    std::pair<const json*, std::string> member(const json& obj, const std::string& base,
                                               std::initializer_list<std::string_view> names) {
        if (obj.is_object())
            for (auto name : names)
                if (auto it = obj.find(name); it != obj.end()) return {&*it, at(base, name)};
        return {nullptr, at(base, *names.begin())};
    }

    std::pair<const json*, std::string> array_member(const json& obj, const std::string& base,
                                                     std::initializer_list<std::string_view> names) {
        if (!obj.is_object()) {
            error(base, "expected an object");
            return {nullptr, base};
        }
        auto [node, ptr] = member(obj, base, names);
        if (!node) {
            error(ptr, "missing");
            return {nullptr, ptr};
        }
        if (!node->is_array()) {
            error(ptr, "expected an array");
            return {nullptr, ptr};
        }
        return {node, ptr};
    }

    std::string text(const json& obj, const std::string& base, std::initializer_list<std::string_view> names,
                     bool required) {
        auto [node, ptr] = member(obj, base, names);
        if (!node) {
            if (required) error(ptr, "missing (required)");
            return "";
        }
        if (!node->is_string()) {
            error(ptr, "expected a string");
            return "";
        }
        auto value = node->get<std::string>();
        if (required && value.empty()) error(ptr, "must not be empty");
        return value;
    }

    // "from-device-policy": {"access-lists": {"access-list": [{"name": ...}]}}
    void read_policy(const json& mud, const std::string& base, std::string_view key, MudSide side,
                     std::map<std::string, std::pair<MudSide, std::string>>& policies) {
        auto [node, ptr] = member(mud, base, {key});
        if (!node) return;
        auto [lists, lists_ptr] = member(*node, ptr, {"access-lists", "acls"});
        if (!lists) {
            error(lists_ptr, "missing");
            return;
        }
        auto [list, list_ptr] = array_member(*lists, lists_ptr, {"access-list", "acl"});
        for (size_t i = 0; list && i < list->size(); ++i) {
            auto item_ptr = at(list_ptr, i);
            auto name = text((*list)[i], item_ptr, {"name", "acl-name"}, true);
            if (name.empty()) continue;
            auto [it, fresh] = policies.emplace(name, std::make_pair(side, item_ptr));
            if (!fresh && it->second.first != side) both_sides_.insert(name);  // valid: its ACEs apply both ways
        }
    }

    void read_acl(const json& acl, const std::string& ptr,
                  const std::map<std::string, std::pair<MudSide, std::string>>& policies,
                  std::set<std::string>& defined, std::vector<MudAce>& out) {
        if (!acl.is_object()) {
            error(ptr, "expected an object");
            return;
        }
        auto name = text(acl, ptr, {"name", "acl-name"}, true);
        if (!defined.insert(name).second) error(at(ptr, "name"), "duplicate ACL name \"" + name + "\"");
        std::optional<MudSide> side;
        if (auto it = policies.find(name); it != policies.end()) side = it->second.first;
        auto [aces, aces_ptr] = member(acl, ptr, {"aces", "access-list-entries"});
        if (!aces) return;  // an empty ACL
        auto [list, list_ptr] = array_member(*aces, aces_ptr, {"ace"});
        for (size_t i = 0; list && i < list->size(); ++i) {
            MudAce ace;
            ace.acl = name;
            ace.policy = side;
            ace.pointer = at(list_ptr, i);
            ace.line = line(ace.pointer);
            if (!read_ace((*list)[i], ace)) continue;
            if (both_sides_.contains(name)) {
                MudAce other = ace;
                other.policy = *side == MudSide::from_device ? MudSide::to_device : MudSide::from_device;
                out.push_back(std::move(ace));
                out.push_back(std::move(other));
            } else {
                out.push_back(std::move(ace));
            }
        }
    }

    bool read_ace(const json& node, MudAce& ace) {
        if (!node.is_object()) {
            error(ace.pointer, "expected an object");
            return false;
        }
        ace.name = text(node, ace.pointer, {"name", "rule-name"}, true);
        auto [actions, actions_ptr] = member(node, ace.pointer, {"actions"});
        if (!actions) {
            error(actions_ptr, "missing (required: forwarding accept, drop or reject)");
        } else {
            auto forwarding = text(*actions, actions_ptr, {"forwarding"}, true);
            if (auto colon = forwarding.find(':'); colon != std::string::npos) forwarding.erase(0, colon + 1);
            if (forwarding == "accept") {
                ace.forwarding = MudForwarding::accept;
            } else if (forwarding == "drop") {
                ace.forwarding = MudForwarding::drop;
            } else if (forwarding == "reject") {
                ace.forwarding = MudForwarding::reject;
            } else if (!forwarding.empty()) {
                error(at(actions_ptr, "forwarding"), "expected accept, drop or reject, got \"" + forwarding + "\"");
            }
        }
        auto [matches, matches_ptr] = member(node, ace.pointer, {"matches"});
        if (matches) read_matches(*matches, matches_ptr, ace);  // no matches: every packet
        return true;
    }

    void read_matches(const json& matches, const std::string& ptr, MudAce& ace) {
        if (!matches.is_object()) {
            error(ptr, "expected an object");
            return;
        }
        std::optional<uint8_t> l4_protocol;
        for (const auto& [key, value] : matches.items()) {
            auto key_ptr = at(ptr, key);
            // Earlier ACL drafts named the containers ipv4-acl / ipv6-acl and MUD's own ietf-mud:mud-acl.
            if (key == "ipv4" || key == "ipv6" || key == "ipv4-acl" || key == "ipv6-acl") {
                bool v4 = key.starts_with("ipv4");
                if (v4 ? ace_has_l3_v6(matches) : false) {
                    error(key_ptr, "an ACE matches either ipv4 or ipv6, not both");
                    continue;
                }
                ace.family = v4 ? Family::v4 : Family::v6;
                read_l3(value, key_ptr, v4 ? Family::v4 : Family::v6, ace);
            } else if (key == "tcp" || key == "udp" || key == "icmp") {
                if (l4_protocol) {
                    error(key_ptr, "an ACE matches one of tcp, udp or icmp, not several");
                    continue;
                }
                l4_protocol = key == "tcp" ? 6 : key == "udp" ? 17 : 1;
                if (key == "icmp") {
                    read_icmp(value, key_ptr, ace);
                } else {
                    read_l4(value, key_ptr, ace);
                }
            } else if (key == "ietf-mud:mud" || key == "ietf-mud:mud-acl") {
                read_abstraction(value, key_ptr, ace);
            } else {
                ace.unsupported.push_back(key_ptr);  // eth, interfaces, ...: narrower than wardgate can say
            }
        }
        if (!l4_protocol) return;
        if (!ace.protocol) {
            ace.protocol = l4_protocol;
        } else if (*ace.protocol != *l4_protocol && !(*l4_protocol == 1 && *ace.protocol == 58)) {
            error(ptr, "the ip protocol " + std::to_string(*ace.protocol) + " contradicts the " +
                           (*l4_protocol == 6 ? "tcp" : *l4_protocol == 17 ? "udp" : "icmp") + " match");
        }
    }

    void read_l3(const json& l3, const std::string& ptr, Family family, MudAce& ace) {
        if (!l3.is_object()) {
            error(ptr, "expected an object");
            return;
        }
        const std::string v = family == Family::v4 ? "ipv4" : "ipv6";
        for (const auto& [key, value] : l3.items()) {
            auto key_ptr = at(ptr, key);
            if (key == "protocol") {
                if (!value.is_number_unsigned() || value.get<uint64_t>() > 255) {
                    error(key_ptr, "expected an IP protocol number 0-255");
                } else {
                    ace.protocol = static_cast<uint8_t>(value.get<uint64_t>());
                }
            } else if (key == "source-" + v + "-network" || key == "destination-" + v + "-network") {
                auto prefix = value.is_string() ? Prefix::parse(value.get<std::string>()) : std::nullopt;
                if (!prefix || prefix->family() != family) {
                    error(key_ptr, "expected an " + v + " prefix (address/length, host bits zero)");
                } else {
                    (key.starts_with("source") ? ace.source_network : ace.destination_network) = *prefix;
                }
            } else if (key == "ietf-acldns:src-dnsname" || key == "ietf-acldns:dst-dnsname") {
                if (!value.is_string() || value.get<std::string>().empty()) {
                    error(key_ptr, "expected a DNS name");
                } else {
                    (key == "ietf-acldns:src-dnsname" ? ace.source_dnsname : ace.destination_dnsname) =
                        MudText{value.get<std::string>(), key_ptr, line(key_ptr)};
                }
            } else {
                ace.unsupported.push_back(key_ptr);  // dscp, ttl, flags...
            }
        }
    }

    void read_l4(const json& l4, const std::string& ptr, MudAce& ace) {
        if (!l4.is_object()) {
            error(ptr, "expected an object");
            return;
        }
        for (const auto& [key, value] : l4.items()) {
            auto key_ptr = at(ptr, key);
            if (key == "source-port" || key == "destination-port") {
                auto ports = read_ports(value, key_ptr);
                (key == "source-port" ? ace.source_ports : ace.destination_ports) = std::move(ports);
            } else if (key == "ietf-mud:direction-initiated") {
                auto side = value.is_string() ? parse_side(value.get<std::string>()) : std::nullopt;
                if (!side) {
                    error(key_ptr, "expected from-device or to-device");
                } else {
                    ace.direction_initiated = side;
                }
            } else {
                ace.unsupported.push_back(key_ptr);  // tcp flags, sequence numbers, udp length...
            }
        }
    }

    static bool ace_has_l3_v6(const json& matches) { return matches.contains("ipv6") || matches.contains("ipv6-acl"); }

    void read_icmp(const json& icmp, const std::string& ptr, MudAce& ace) {
        if (!icmp.is_object()) {
            error(ptr, "expected an object");
            return;
        }
        for (const auto& [key, value] : icmp.items())
            if (key != "type" && key != "code") ace.unsupported.push_back(at(ptr, key));  // rest-of-header...
        for (const char* key : {"type", "code"}) {
            auto it = icmp.find(key);
            if (it == icmp.end()) continue;
            if (!it->is_number_unsigned() || it->get<uint64_t>() > 255) {
                error(at(ptr, key), "expected a number 0-255");
                continue;
            }
            ace.icmp_match += (ace.icmp_match.empty() ? "" : ", ") + std::string(key) + " " + std::to_string(it->get<uint64_t>());
            (std::string_view(key) == "type" ? ace.icmp_type : ace.icmp_code) = static_cast<uint8_t>(it->get<uint64_t>());
        }
    }

    std::optional<uint16_t> port_value(const json& obj, const std::string& base, std::string_view key) {
        auto [node, ptr] = member(obj, base, {key});
        if (!node) {
            error(ptr, "missing (required)");
        } else if (!node->is_number_unsigned() || node->get<uint64_t>() > 65535) {
            error(ptr, "expected a port 0-65535");
        } else {
            return static_cast<uint16_t>(node->get<uint64_t>());
        }
        return std::nullopt;
    }

    // {"operator": eq|neq|lt|gt|lte|gte, "port": N} or {"lower-port": A, "upper-port": B}
    std::vector<PortRange> read_ports(const json& node, const std::string& ptr) {
        if (!node.is_object()) {
            error(ptr, "expected {\"operator\": ..., \"port\": N} or {\"lower-port\": A, \"upper-port\": B}");
            return {};
        }
        if (node.contains("lower-port") || node.contains("upper-port")) {
            auto lower = port_value(node, ptr, "lower-port");
            auto upper = port_value(node, ptr, "upper-port");
            if (!lower || !upper) return {};
            if (*lower > *upper) {
                error(at(ptr, "upper-port"), "the range ends below its lower-port " + std::to_string(*lower));
                return {};
            }
            return {{*lower, *upper}};
        }
        auto op_text = text(node, ptr, {"operator"}, false);
        if (op_text.empty()) op_text = "eq";  // the YANG default
        auto port = port_value(node, ptr, "port");
        if (!port) return {};
        uint16_t p = *port;
        std::vector<PortRange> out;
        if (op_text == "eq") {
            out = {{p, p}};
        } else if (op_text == "lte") {
            out = {{0, p}};
        } else if (op_text == "gte") {
            out = {{p, 65535}};
        } else if (op_text == "lt" && p > 0) {
            out = {{0, uint16_t(p - 1)}};
        } else if (op_text == "gt" && p < 65535) {
            out = {{uint16_t(p + 1), 65535}};
        } else if (op_text == "neq") {
            if (p > 0) out.push_back({0, uint16_t(p - 1)});
            if (p < 65535) out.push_back({uint16_t(p + 1), 65535});
        } else if (op_text == "lt" || op_text == "gt") {
            error(at(ptr, "port"), op_text + " " + std::to_string(p) + " matches no port");
            return {};
        } else {
            error(at(ptr, "operator"), "expected eq, neq, lt, gt, lte or gte, got \"" + op_text + "\"");
            return {};
        }
        return out;
    }

    void read_abstraction(const json& node, const std::string& ptr, MudAce& ace) {
        if (!node.is_object() || node.size() != 1) {
            error(ptr, "expected exactly one MUD abstraction (controller, my-controller, local-networks, "
                       "same-manufacturer, manufacturer or model)");
            return;
        }
        const std::string& kind = node.begin().key();
        const json& value = node.begin().value();
        auto key_ptr = at(ptr, kind);
        MudAbstraction a{kind, "", key_ptr, line(key_ptr)};
        if (kind == "controller" || kind == "manufacturer" || kind == "model") {
            if (!value.is_string() || value.get<std::string>().empty()) {
                error(key_ptr, "expected a " + std::string(kind == "manufacturer" ? "domain name" : "URI"));
                return;
            }
            a.value = value.get<std::string>();
        } else if (kind == "my-controller" || kind == "local-networks" || kind == "same-manufacturer") {
            bool empty_type = value.is_null() || (value.is_array() && value.size() == 1 && value[0].is_null());
            if (!empty_type) {
                error(key_ptr, "expected [null]");
                return;
            }
        } else {
            error(key_ptr, "unknown MUD abstraction \"" + kind +
                               "\" (expected controller, my-controller, local-networks, same-manufacturer, "
                               "manufacturer or model)");
            return;
        }
        ace.abstraction = std::move(a);
    }

    const std::string& file_;
    const std::map<std::string, int>& lines_;
    Diagnostics& diags_;
    std::set<std::string> both_sides_;  // ACLs named by the from-device and the to-device policy
};

// nlohmann reports a byte offset; people want line and column.
std::pair<int, int> line_and_column(const std::string& text, size_t byte) {
    int line = 1, column = 1;
    for (size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

}  // namespace

std::optional<MudFile> parse_mud(const std::string& json_text, const std::string& file, Diagnostics& diags) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::parse_error& e) {
        auto [line, column] = line_and_column(json_text, e.byte);
        std::string what = e.what();
        if (auto pos = what.find("] "); what.starts_with("[json.exception") && pos != std::string::npos)
            what.erase(0, pos + 2);
        diags.add(file, line, column, "", "JSON syntax error (byte " + std::to_string(e.byte) + "): " + what);
        return std::nullopt;
    } catch (const json::out_of_range& e) {
        // A number too large for a double ("1e999"): the parser gives no position, so point at
        // the first place the number is written.
        std::string what = e.what();
        auto quote = what.find('\'');
        std::string number = quote == std::string::npos ? "" : what.substr(quote + 1, what.rfind('\'') - quote - 1);
        size_t at = number.empty() ? std::string::npos : json_text.find(number);
        auto [line, column] = at == std::string::npos ? std::pair{0, 0} : line_and_column(json_text, at + 1);
        diags.add(file, line, column, "", "number out of range: " + (number.empty() ? what : number));
        return std::nullopt;
    }
    return MudParser(file, mud_detail::json_pointer_lines(json_text), diags).run(root);
}

std::optional<MudFile> read_mud(const std::filesystem::path& path, const std::string& file, Diagnostics& diags) {
    std::string text;
    try {
        text = read_input_file(path, file);
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) diags.add(d);
        return std::nullopt;
    }
    return parse_mud(text, file, diags);
}

}  // namespace wardgate
