#include "toml_fields.hpp"

#include <algorithm>

namespace wardgate::site_detail {

std::optional<toml::table> parse_toml(const std::filesystem::path& path, const std::string& display_name,
                                      Diagnostics& diags) {
    if (!std::filesystem::exists(path)) {
        diags.add(display_name, 0, 0, "", "file not found");
        return std::nullopt;
    }
    try {
        return toml::parse_file(path.string());
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
    auto v = node->value<int64_t>();
    if (!v || !node->is_integer()) {
        error(key, "expected an integer");
        return std::nullopt;
    }
    if (*v < min || *v > max) {
        error(key, "expected " + std::to_string(min) + "-" + std::to_string(max) + ", got " + std::to_string(*v));
        return std::nullopt;
    }
    return v;
}

bool TableFields::boolean(std::string_view key, bool fallback) {
    auto* node = table_.get(key);
    if (!node) return fallback;
    if (auto b = node->value<bool>(); b && node->is_boolean()) return *b;
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
    auto proto = choice<Protocol>("protocol", required, parse_protocol, "tcp, udp or icmp");
    if (!proto) return std::nullopt;
    Service svc{*proto, {}};
    auto* node = table_.get("ports");
    if (*proto == Protocol::icmp) {
        if (node) error("ports", "icmp has no ports");
        return svc;
    }
    if (!node) {
        error("ports", "missing (required for " + std::string(to_string(*proto)) + ")");
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
        std::string shown;
        if (auto n = item.value<int64_t>(); n && item.is_integer()) {
            shown = std::to_string(*n);
            if (*n >= 0 && *n <= 65535) range = PortRange{uint16_t(*n), uint16_t(*n)};
        } else if (auto s = item.value<std::string>(); s && item.is_string()) {
            shown = *s;
            range = PortRange::parse(*s);
        }
        if (!range) {
            error("ports", "expected a port 0-65535 or a range \"first-last\", got " + (shown.empty() ? "a non-port value" : shown));
            ok = false;
        } else {
            svc.ports.push_back(*range);
        }
    }
    if (!ok) return std::nullopt;
    svc.ports = normalize_ports(std::move(svc.ports));
    return svc;
}

void TableFields::reject_unknown(const std::vector<std::string_view>& known) const {
    for (const auto& [key, node] : table_) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end())
            diags_.add(file_, static_cast<int>(key.source().begin.line), static_cast<int>(key.source().begin.column),
                       field(key.str()), "unknown field");
    }
}

}  // namespace wardgate::site_detail
