#include "toml_fields.hpp"

#include <algorithm>

#include "wardgate/core/file_io.hpp"

namespace wardgate::site_detail {

namespace {

std::string_view kind_of(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::string: return "a string";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::array: return "an array";
        case toml::node_type::table: return "a table";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "an integer";
    }
}

}  // namespace

std::optional<std::string> read_site_file(const std::filesystem::path& path, const std::string& display_name,
                                          Diagnostics& diags) {
    std::optional<std::string> text;
    try {
        text = read_input_file_if_present(path, display_name);
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) diags.add(d);
        return std::nullopt;
    }
    if (!text) diags.add(display_name, 0, 0, "", "file not found");
    return text;
}

std::optional<toml::table> parse_toml(const std::filesystem::path& path, const std::string& display_name,
                                      Diagnostics& diags) {
    auto text = read_site_file(path, display_name, diags);
    if (!text) return std::nullopt;
    return parse_toml_text(*text, path, display_name, diags);
}

std::optional<toml::table> parse_toml_text(std::string_view text, const std::filesystem::path& path,
                                           const std::string& display_name, Diagnostics& diags) {
    try {
        return toml::parse(text, path.string());
    } catch (const toml::parse_error& e) {
        diags.add(display_name, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                  "", "TOML syntax error: " + std::string(e.description()));
        return std::nullopt;
    }
}

void for_each_table(const toml::table& root, std::string_view key, const std::string& file, Diagnostics& diags,
                    const std::function<void(const toml::table&)>& fn) {
    auto* node = root.get(key);
    if (!node) return;
    auto* arr = node->as_array();
    if (!arr) {
        diags.add(file, static_cast<int>(node->source().begin.line), 0, std::string(key),
                  "expected an array of tables ([[" + std::string(key) + "]])");
        return;
    }
    for (const auto& item : *arr) {
        if (auto* t = item.as_table()) {
            fn(*t);
        } else {
            diags.add(file, static_cast<int>(item.source().begin.line), 0, std::string(key), "expected a table");
        }
    }
}

TableFields::TableFields(const toml::table& table, std::string file, std::string what, Diagnostics& diags)
    : table_(table), file_(std::move(file)), what_(std::move(what)), diags_(diags) {}

int TableFields::line() const { return static_cast<int>(table_.source().begin.line); }

int TableFields::line_of(std::string_view key) const {
    if (auto* n = table_.get(key)) return static_cast<int>(n->source().begin.line);
    return line();
}

int TableFields::column_of(std::string_view key) const {
    if (auto* n = table_.get(key)) return static_cast<int>(n->source().begin.column);
    return 0;
}

void TableFields::error(std::string_view key, std::string message) const {
    diags_.add(file_, line_of(key), column_of(key), field(key), std::move(message));
}

void TableFields::error_at(const toml::node& node, std::string_view key, std::string message) const {
    diags_.add(file_, static_cast<int>(node.source().begin.line), static_cast<int>(node.source().begin.column),
               field(key), std::move(message));
}

std::optional<std::string> TableFields::string(std::string_view key, bool required) {
    auto* node = table_.get(key);
    if (!node) {
        if (required) error(key, "missing (required)");
        return std::nullopt;
    }
    if (auto s = node->value<std::string>()) {
        if (required && s->empty()) error(key, "must not be empty");
        return *s;
    }
    error(key, "expected a string");
    return std::nullopt;
}

std::optional<int64_t> TableFields::integer(std::string_view key, bool required, int64_t min, int64_t max) {
    auto* node = table_.get(key);
    if (!node) {
        if (required) error(key, "missing (required)");
        return std::nullopt;
    }
    return integer_at(*node, key, min, max);
}

// Not node.value<int64_t>(): toml++ converts a float node to int64 before any range check, and
// that conversion is undefined for a float beyond int64's range (vlan = 31e302).
std::optional<int64_t> TableFields::integer_at(const toml::node& node, std::string_view key, int64_t min, int64_t max,
                                               std::string_view expected) {
    std::string valid = expected.empty() ? std::to_string(min) + "-" + std::to_string(max) : std::string(expected);
    const auto* integer = node.as_integer();
    if (!integer) {
        std::string hint = expected.empty() ? "" : " (" + valid + ")";
        error_at(node, key, "expected an integer, got " + std::string(kind_of(node)) + hint);
        return std::nullopt;
    }
    int64_t v = integer->get();
    if (v < min || v > max) {
        error_at(node, key, "expected " + valid + ", got " + std::to_string(v));
        return std::nullopt;
    }
    return v;
}

bool TableFields::boolean(std::string_view key, bool fallback) {
    auto* node = table_.get(key);
    if (!node) return fallback;
    if (const auto* b = node->as_boolean()) return b->get();
    error(key, "expected true or false");
    return fallback;
}

std::vector<std::string> TableFields::strings(std::string_view key, bool required) {
    std::vector<std::string> out;
    auto* node = table_.get(key);
    if (!node) {
        if (required) error(key, "missing (required)");
        return out;
    }
    if (auto s = node->value<std::string>(); s && node->is_string()) {
        out.push_back(*s);
    } else if (auto* arr = node->as_array()) {
        for (const auto& item : *arr) {
            if (auto s = item.value<std::string>(); s && item.is_string()) {
                out.push_back(*s);
            } else {
                error(key, "expected an array of strings");
                return {};
            }
        }
    } else {
        error(key, "expected a string or an array of strings");
    }
    if (required && out.empty()) error(key, "must not be empty");
    return out;
}

std::optional<Date> TableFields::date(std::string_view key) {
    auto* node = table_.get(key);
    if (!node) return std::nullopt;
    if (auto* d = node->as_date()) {
        auto v = d->get();
        Date date{std::chrono::year{v.year}, std::chrono::month{v.month}, std::chrono::day{v.day}};
        if (date.ok()) return date;
    } else if (auto s = node->value<std::string>(); s && node->is_string()) {
        if (auto date = parse_date(*s)) return date;
    }
    error(key, "expected a date YYYY-MM-DD");
    return std::nullopt;
}

std::vector<Prefix> TableFields::prefixes(std::string_view key, bool required) {
    std::vector<Prefix> out;
    for (const auto& text : strings(key, required)) {
        if (auto p = Prefix::parse(text)) {
            out.push_back(*p);
        } else {
            error(key, "\"" + text + "\" is not an IP address or prefix (a.b.c.d/len or v6/len, host bits zero)");
        }
    }
    return out;
}

std::optional<IpAddress> TableFields::address(std::string_view key) {
    auto text = string(key, false);
    if (!text) return std::nullopt;
    auto a = IpAddress::parse(*text);
    if (!a) error(key, "\"" + *text + "\" is not an IP address");
    return a;
}

std::optional<PeerRef> TableFields::peer(std::string_view key, bool required) {
    auto text = string(key, required);
    if (!text) return std::nullopt;
    auto ref = PeerRef::parse(*text);
    if (!ref)
        error(key, "expected any, role:NAME, segment:NAME, endpoint:NAME, device:NAME, cidr:PREFIX or a prefix, got \"" +
                       *text + "\"");
    return ref;
}

std::optional<Service> TableFields::service(bool required) {
    auto text = string("protocol", required);
    if (!text) {
        if (table_.get("ports")) error("ports", "ports without a protocol");
        if (table_.get("icmp_types")) error("icmp_types", "icmp_types without a protocol");
        return std::nullopt;
    }
    auto proto = parse_protocol(*text);
    if (!proto) {
        error("protocol", "expected tcp, udp, icmp, icmpv6, an IP protocol name (esp, ah, gre, sctp, ospf, vrrp, ...) or "
                          "number 1-254, got \"" + *text + "\"");
        return std::nullopt;
    }
    Service svc{*proto, {}, {}};
    auto* node = table_.get("ports");
    auto* types = table_.get("icmp_types");
    if (types && *proto != Protocol::icmp)
        error("icmp_types", "only icmp and icmpv6 have message types, not " + to_string(*proto));
    if (*proto == Protocol::icmp) {
        if (node) error("ports", "icmp has no ports (to allow some messages only, list them in icmp_types)");
        if (!types) {
            if (*text != "icmp" && *text != "1")
                error("protocol", *text + " without icmp_types allows ICMP and ICMPv6 alike: write icmp, or list the "
                                          "ICMPv6 messages in icmp_types");
            return svc;
        }
        return icmp_types(*types, svc, *text != "icmp" && *text != "1") ? std::optional(svc) : std::nullopt;
    }
    if (!has_ports(*proto)) {
        if (node) error("ports", to_string(*proto) + " has no ports (only tcp, udp, sctp and udplite have)");
        return svc;
    }
    if (!node) {
        error("ports", "missing (required for " + to_string(*proto) + ")");
        return std::nullopt;
    }
    auto* arr = node->as_array();
    if (!arr || arr->empty()) {
        error("ports", "expected a non-empty array of ports or \"first-last\" ranges");
        return std::nullopt;
    }
    bool ok = true;
    for (const auto& item : *arr) {
        std::optional<PortRange> range;
        if (const auto* port_text = item.as_string()) {
            range = PortRange::parse(port_text->get());
            if (!range) error_at(item, "ports", "expected a port 0-65535 or a range \"first-last\", got " + port_text->get());
        } else if (auto port = integer_at(item, "ports", 0, 65535, "a port 0-65535 or a range \"first-last\"")) {
            range = PortRange{uint16_t(*port), uint16_t(*port)};
        }
        if (range) {
            svc.ports.push_back(*range);
        } else {
            ok = false;
        }
    }
    if (!ok) return std::nullopt;
    svc.ports = normalize_ports(std::move(svc.ports));
    return svc;
}

bool TableFields::icmp_types(const toml::node& node, Service& svc, bool v6_only) {
    const auto* arr = node.as_array();
    if (!arr || arr->empty()) {
        error("icmp_types", "expected a non-empty array of ICMP message types (\"echo-request\", 8, \"3:4\")");
        return false;
    }
    bool ok = true;
    for (const auto& item : *arr) {
        std::string entry;
        if (const auto* t = item.as_string()) {
            entry = t->get();
        } else if (auto n = integer_at(item, "icmp_types", 0, 255, "an ICMP type 0-255 or a name")) {
            entry = std::to_string(*n);
        } else {
            ok = false;
            continue;
        }
        std::string why;
        auto parsed = parse_icmp_type(entry, v6_only, &why);
        if (!parsed) {
            error_at(item, "icmp_types", why);
            ok = false;
            continue;
        }
        svc.icmp_types.insert(svc.icmp_types.end(), parsed->begin(), parsed->end());
    }
    std::sort(svc.icmp_types.begin(), svc.icmp_types.end());
    svc.icmp_types.erase(std::unique(svc.icmp_types.begin(), svc.icmp_types.end()), svc.icmp_types.end());
    return ok;
}

void TableFields::reject_unknown(const std::vector<std::string_view>& known) const {
    for (const auto& [key, node] : table_) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end())
            diags_.add(file_, static_cast<int>(key.source().begin.line), static_cast<int>(key.source().begin.column),
                       field(key.str()), "unknown field");
    }
}

}  // namespace wardgate::site_detail
