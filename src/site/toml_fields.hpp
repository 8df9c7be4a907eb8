#pragma once
// Reads typed fields out of one TOML table, turning every problem into a located Diagnostic.
#include <toml++/toml.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/net.hpp"
#include "wardgate/site/site.hpp"

namespace wardgate::site_detail {

// A site file's text; a missing or unreadable file becomes a Diagnostic and nullopt.
std::optional<std::string> read_site_file(const std::filesystem::path& path, const std::string& display_name,
                                          Diagnostics& diags);
// Parses a TOML file; a syntax error becomes a Diagnostic and nullopt.
std::optional<toml::table> parse_toml(const std::filesystem::path& path, const std::string& display_name,
                                      Diagnostics& diags);
// The same for a file's text already read.
std::optional<toml::table> parse_toml_text(std::string_view text, const std::filesystem::path& path,
                                           const std::string& display_name, Diagnostics& diags);

// Calls fn for each table of an array of tables ([[key]]); reports anything else.
void for_each_table(const toml::table& root, std::string_view key, const std::string& file, Diagnostics& diags,
                    const std::function<void(const toml::table&)>& fn);

// One [[device]] table of a devices file, added to site.devices.
void add_device_table(Site& site, const toml::table& t, const std::string& file, Diagnostics& diags);

// [[gateway]] tables of site.toml, read after the segments they name.
void load_gateways(Site& site, const toml::table& root, const std::string& file, Diagnostics& diags);

class TableFields {
public:
    // `what` prefixes field names in diagnostics, e.g. "device" gives "device.addresses".
    TableFields(const toml::table& table, std::string file, std::string what, Diagnostics& diags);

    int line() const;
    Origin origin() const { return {file_, line()}; }
    void error(std::string_view key, std::string message) const;

    std::optional<std::string> string(std::string_view key, bool required);
    std::optional<int64_t> integer(std::string_view key, bool required, int64_t min, int64_t max);
    // The one way to read an integer from TOML, reported at the node: it must be an integer (a
    // float, string, ... is "expected an integer", never converted), then within [min, max];
    // `expected` describes the valid values when "MIN-MAX" does not.
    std::optional<int64_t> integer_at(const toml::node& node, std::string_view key, int64_t min, int64_t max,
                                      std::string_view expected = {});
    bool boolean(std::string_view key, bool fallback);
    // A string or an array of strings.
    std::vector<std::string> strings(std::string_view key, bool required);
    std::optional<Date> date(std::string_view key);
    std::vector<Prefix> prefixes(std::string_view key, bool required);
    std::optional<IpAddress> address(std::string_view key);
    std::optional<PeerRef> peer(std::string_view key, bool required);
    // "protocol" + "ports" (tcp, udp, sctp, udplite need them, no other protocol may have
    // them) + "icmp_types" (icmp and icmpv6 only).
    std::optional<Service> service(bool required);

    template <typename E, typename Parse>
    std::optional<E> choice(std::string_view key, bool required, Parse parse, std::string_view expected) {
        auto text = string(key, required);
        if (!text) return std::nullopt;
        auto value = parse(*text);
        if (!value) error(key, "expected " + std::string(expected) + ", got \"" + *text + "\"");
        return value;
    }

    // Unknown keys are mistakes (a misspelt "protocol" must not silently allow everything).
    void reject_unknown(const std::vector<std::string_view>& known) const;

private:
    int line_of(std::string_view key) const;
    int column_of(std::string_view key) const;
    void error_at(const toml::node& node, std::string_view key, std::string message) const;
    bool icmp_types(const toml::node& node, Service& svc, bool v6_only);
    std::string field(std::string_view key) const { return what_.empty() ? std::string(key) : what_ + "." + std::string(key); }
    const toml::table& table_;
    std::string file_;
    std::string what_;
    Diagnostics& diags_;
};

}  // namespace wardgate::site_detail
