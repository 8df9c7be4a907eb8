// Devices come from TOML ([[device]] tables) or CSV asset exports; both feed one record builder.
#include <cctype>
#include <sstream>
#include <utility>
#include <functional>

#include "loaders.hpp"
#include "toml_fields.hpp"
#include "wardgate/core/csv.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/core/text.hpp"

namespace wardgate::site_detail {

namespace {

// A device record before typing: text values by field name, and how to report a bad one.
struct RawDevice {
    std::function<std::optional<std::string>(std::string_view)> text;
    std::function<std::vector<std::string>(std::string_view, bool required)> list;
    std::function<void(std::string_view, std::string)> error;
    std::function<bool(std::string_view)> flag;  // false when absent
    Origin origin;
};

// Lower-case, colon-separated; nullopt unless the text is six octets written with colons,
// hyphens, Cisco's dotted triples or no separator.
std::optional<std::string> canonical_mac(std::string_view text) {
    std::string hex;
    char separator = 0;
    for (char c : text) {
        if (std::isxdigit(static_cast<unsigned char>(c))) {
            hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else if (c == ':' || c == '-' || c == '.') {
            if (separator && separator != c) return std::nullopt;
            separator = c;
        } else {
            return std::nullopt;
        }
    }
    if (hex.size() != 12) return std::nullopt;
    // The separators must sit between octets (":"/"-") or between groups of four digits (".").
    const size_t group = separator == '.' ? 4 : 2;
    if (separator) {
        size_t digits = 0;
        for (char c : text) {
            if (c == separator) {
                if (digits != group) return std::nullopt;
                digits = 0;
            } else {
                ++digits;
            }
        }
        if (digits != group) return std::nullopt;
    }
    std::string out;
    for (size_t i = 0; i < 12; i += 2) {
        if (i) out += ':';
        out += hex.substr(i, 2);
    }
    return out;
}

template <typename E, typename Parse>
std::optional<E> typed(const RawDevice& raw, std::string_view key, Parse parse, std::string_view expected) {
    auto text = raw.text(key);
    if (!text || text->empty()) return std::nullopt;
    auto v = parse(*text);
    if (!v) raw.error(key, "expected " + std::string(expected) + ", got \"" + *text + "\"");
    return v;
}

Device build_device(const RawDevice& raw) {
    Device d;
    d.origin = raw.origin;
    auto required = [&](std::string_view key) {
        auto v = raw.text(key);
        if (!v || v->empty()) {
            raw.error(key, "missing (required)");
            return std::string();
        }
        return *v;
    };
    d.name = required("name");
    for (const auto& text : raw.list("addresses", true)) {
        if (auto a = IpAddress::parse(text)) {
            d.addresses.push_back(*a);
        } else {
            raw.error("addresses", "\"" + text + "\" is not an IP address");
        }
    }
    d.role = required("role");
    d.vendor = required("vendor");
    d.model = required("model");
    d.segment = required("segment");
    d.tags = raw.list("tags", false);
    for (const auto& t : d.tags)
        if (!valid_name(t)) raw.error("tags", "\"" + t + "\" may only hold a-z, 0-9, '-' and '_'");
    if (auto mac = raw.text("mac"); mac && !mac->empty()) {
        d.mac = canonical_mac(*mac).value_or("");
        if (d.mac.empty())
            raw.error("mac", "expected a MAC address (00:0a:f7:41:80:01, 00-0a-f7-41-80-01 or 000a.f741.8001), got \"" +
                                 *mac + "\"");
        else if (const char low = d.mac[1]; ((low >= 'a' ? low - 'a' + 10 : low - '0') & 1) != 0)
            raw.error("mac", d.mac + " is a group (multicast) address, which no device has as its own");
    }
    d.department = raw.text("department").value_or("");
    d.fda_class = typed<FdaClass>(raw, "fda_class", parse_fda_class, "I, II, III or none").value_or(FdaClass::none);
    d.phi = typed<Level>(raw, "phi", parse_level, "none, low, medium or high").value_or(Level::none);
    d.downtime_impact =
        typed<Level>(raw, "downtime_impact", parse_level, "none, low, medium or high").value_or(Level::none);
    if (auto text = raw.text("lifecycle"); !text || text->empty()) {
        raw.error("lifecycle", "missing (required: support, limited-support or end-of-support)");
    } else {
        d.lifecycle = typed<Lifecycle>(raw, "lifecycle", parse_lifecycle, "support, limited-support or end-of-support")
                          .value_or(Lifecycle::support);
    }
    d.eol = typed<Date>(raw, "eol", parse_date, "a date YYYY-MM-DD");
    d.eos = typed<Date>(raw, "eos", parse_date, "a date YYYY-MM-DD");
    d.monitor = raw.flag("monitor");
    if (d.eol && d.eos && *d.eos < *d.eol)
        raw.error("eos", "end of support " + to_string(*d.eos) + " is before end of life " + to_string(*d.eol) +
                             ": support ends after life (eol) starts, never before");
    return d;
}

const std::vector<std::string_view> kDeviceFields = {
    "name", "addresses", "mac", "role", "vendor", "model", "department", "segment", "tags",
    "fda_class", "phi", "downtime_impact", "lifecycle", "eol", "eos", "monitor"};

}  // namespace

void add_device_table(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags) {
    TableFields f(t, file, "device", diags);
    f.reject_unknown(kDeviceFields);
    RawDevice raw;
    raw.origin = f.origin();
    raw.text = [&](std::string_view key) -> std::optional<std::string> {
        auto* node = t.get(key);
        if (!node) return std::nullopt;
        if (auto* d = node->as_date()) return to_string(Date{std::chrono::year{d->get().year},
                                                             std::chrono::month{d->get().month},
                                                             std::chrono::day{d->get().day}});
        return f.string(key, false);
    };
    raw.list = [&](std::string_view key, bool required) { return f.strings(key, required); };
    raw.error = [&](std::string_view key, std::string msg) { f.error(key, std::move(msg)); };
    raw.flag = [&](std::string_view key) { return f.boolean(key, false); };
    site.devices.push_back(build_device(raw));
}

void load_devices_toml(Site& site, const std::string& file, Diagnostics& diags, SiteLoadCache* cache) {
    auto text = read_site_file(site.dir / file, file, diags);
    if (!text) return;
    if (cache && load_device_blocks(site, file, *text, diags, *cache)) return;
    const size_t first = site.devices.size(), errors = diags.items().size();
    auto root = parse_toml_text(*text, site.dir / file, file, diags);
    if (!root) return;
    TableFields top(*root, file, "", diags);
    top.reject_unknown({"device"});
    if (const auto* list = root->get_as<toml::array>("device")) site.devices.reserve(site.devices.size() + list->size());
    for_each_table(*root, "device", file, diags, [&](const toml::table& t) { add_device_table(site, t, file, diags); });
    if (cache && diags.items().size() == errors) remember_device_blocks(site, first, file, std::move(*text), *cache);
}

void load_devices_csv(Site& site, const std::string& file, Diagnostics& diags) {
    std::istringstream in;
    try {
        in.str(read_input_file(site.dir / file, file));
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) diags.add(d);
        return;
    }
    std::string line;
    if (!std::getline(in, line)) {
        diags.add(file, 1, 0, "", "empty file: expected a header row naming the columns");
        return;
    }
    if (auto utf16 = utf16_encoding(line)) {
        diags.add(file, 1, 0, "", "the file is " + *utf16 + ": save it as UTF-8 CSV (Excel: \"CSV UTF-8\")");
        return;
    }
    line = std::string(strip_utf8_bom(line));
    // Excel writes semicolons where the locale's decimal separator is a comma.
    const char separator = line.find(',') == std::string::npos && line.find(';') != std::string::npos ? ';' : ',';
    auto header_fields = split_csv_line(line, separator);
    if (!header_fields) {
        diags.add(file, 1, 0, "", "unterminated quoted field in the header row");
        return;
    }
    CsvHeader header(*header_fields);
    if (header.find("ip") && header.find("addresses")) {
        diags.add(file, 1, 0, "ip", "both \"ip\" and \"addresses\" columns: keep one, so a device's addresses come from one place");
        return;
    }
    auto column = [&](std::string_view name) -> std::optional<size_t> {
        if (auto c = header.find(name)) return c;
        if (name == "addresses") return header.find("ip");
        return std::nullopt;
    };
    bool header_ok = true;
    for (std::string_view name : {"name", "addresses", "role", "vendor", "model", "segment", "lifecycle"}) {
        if (!column(name)) {
            diags.add(file, 1, 0, std::string(name), "required column missing from the header row");
            header_ok = false;
        }
    }
    if (!header_ok) return;
    int line_no = 1;
    while (std::getline(in, line)) {
        ++line_no;
        if (trim(line).empty()) continue;
        if (auto bad = invalid_utf8_at(line)) {
            diags.add(file, line_no, static_cast<int>(*bad) + 1, "", "not valid UTF-8 (save the file as UTF-8)");
            continue;
        }
        auto fields = split_csv_line(line, separator);
        if (!fields) {
            diags.add(file, line_no, 0, "", "unterminated quoted field");
            continue;
        }
        if (fields->size() != header.size()) {
            diags.add(file, line_no, 0, "", "expected " + std::to_string(header.size()) + " fields as in the header, got " +
                                                std::to_string(fields->size()));
            continue;
        }
        RawDevice raw;
        raw.origin = {file, line_no};
        raw.text = [&](std::string_view key) -> std::optional<std::string> {
            auto c = column(key);
            if (!c) return std::nullopt;
            return trim((*fields)[*c]);
        };
        raw.list = [&](std::string_view key, bool required) {
            std::vector<std::string> out;
            std::string item;
            for (char ch : raw.text(key).value_or("") + " ") {
                if (ch == ' ' || ch == ';') {
                    if (!item.empty()) out.push_back(std::move(item));
                    item.clear();
                } else {
                    item += ch;
                }
            }
            if (out.empty() && required) diags.add(file, line_no, 0, std::string(key), "missing (required)");
            return out;
        };
        raw.error = [&](std::string_view key, std::string msg) {
            diags.add(file, line_no, 0, std::string(key), std::move(msg));
        };
        raw.flag = [&](std::string_view key) {
            std::string v = lower(raw.text(key).value_or(""));
            if (v == "true" || v == "yes" || v == "1") return true;
            if (!v.empty() && v != "false" && v != "no" && v != "0")
                raw.error(key, "expected true or false (or yes/no, 1/0), got \"" + *raw.text(key) + "\"");
            return false;
        };
        site.devices.push_back(build_device(raw));
    }
}

}  // namespace wardgate::site_detail
