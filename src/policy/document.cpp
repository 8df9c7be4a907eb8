#include "wardgate/policy/document.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace wardgate {

using nlohmann::json;

namespace policy_document_fields {

[[noreturn]] void bad(std::string_view field, const std::string& message) {
    throw std::invalid_argument(fmt::format("{}: {}", field, message));
}

std::string at(std::string_view field, std::string_view key) { return fmt::format("{}.{}", field, key); }
std::string at(std::string_view field, size_t i) { return fmt::format("{}[{}]", field, i); }

const json& member(const json& j, std::string_view field, const char* key) {
    if (!j.is_object()) bad(field, "expected an object");
    auto it = j.find(key);
    if (it == j.end()) bad(at(field, key), "missing");
    return *it;
}
const json* optional_member(const json& j, std::string_view field, const char* key) {
    if (!j.is_object()) bad(field, "expected an object");
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
}
const json& array(const json& j, std::string_view field) {
    if (!j.is_array()) bad(field, "expected an array");
    return j;
}
std::string text(const json& j, std::string_view field, const char* key, bool required = true) {
    const json* v = required ? &member(j, field, key) : optional_member(j, field, key);
    if (!v) return {};
    if (!v->is_string()) bad(at(field, key), "expected a string");
    return v->get<std::string>();
}
int64_t integer(const json& j, std::string_view field, const char* key, int64_t min, int64_t max, std::optional<int64_t> fallback = {}) {
    const json* v = fallback ? optional_member(j, field, key) : &member(j, field, key);
    if (!v) return *fallback;
    if (!v->is_number_integer()) bad(at(field, key), "expected an integer");
    int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : v->get<int64_t>();
    if (n < min || n > max) bad(at(field, key), fmt::format("{} is outside {}-{}", n, min, max));
    return n;
}
bool boolean(const json& j, std::string_view field, const char* key, bool fallback) {
    const json* v = optional_member(j, field, key);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(at(field, key), "expected true or false");
    return v->get<bool>();
}
std::vector<std::string> strings(const json& j, std::string_view field, const char* key) {
    std::vector<std::string> out;
    const json* v = optional_member(j, field, key);
    if (!v) return out;
    const std::string f = at(field, key);
    for (size_t i = 0; i < array(*v, f).size(); ++i) {
        if (!(*v)[i].is_string()) bad(at(f, i), "expected a string");
        out.push_back((*v)[i].get<std::string>());
    }
    return out;
}
IpAddress address(const json& j, std::string_view field) {
    if (!j.is_string()) bad(field, "expected an address");
    auto a = IpAddress::parse(j.get<std::string>());
    if (!a) bad(field, "\"" + j.get<std::string>() + "\" is not an IP address");
    return *a;
}
std::vector<IpAddress> addresses(const json& j, std::string_view field, const char* key) {
    std::vector<IpAddress> out;
    const json* v = optional_member(j, field, key);
    if (!v) return out;
    const std::string f = at(field, key);
    for (size_t i = 0; i < array(*v, f).size(); ++i) out.push_back(address((*v)[i], at(f, i)));
    return out;
}
std::vector<Prefix> prefixes(const json& j, std::string_view field, const char* key) {
    std::vector<Prefix> out;
    const json* v = optional_member(j, field, key);
    if (!v) return out;
    const std::string f = at(field, key);
    for (size_t i = 0; i < array(*v, f).size(); ++i) {
        const json& p = (*v)[i];
        auto parsed = p.is_string() ? Prefix::parse(p.get<std::string>()) : std::nullopt;
        if (!parsed) bad(at(f, i), "expected a prefix");
        out.push_back(*parsed);
    }
    return out;
}
json texts(const std::vector<Prefix>& prefixes) {
    json out = json::array();
    for (const auto& p : prefixes) out.push_back(p.to_string());
    return out;
}
json texts(const std::vector<IpAddress>& addresses) {
    json out = json::array();
    for (const auto& a : addresses) out.push_back(a.to_string());
    return out;
}

template <typename E, size_t N>
E choice(const json& j, std::string_view field, const char* key, const std::array<std::pair<std::string_view, E>, N>& names,
         std::type_identity_t<std::optional<E>> fallback = {}) {
    if (fallback && !optional_member(j, field, key)) return *fallback;
    std::string t = text(j, field, key);
    for (const auto& [name, value] : names)
        if (name == t) return value;
    bad(at(field, key), "unknown value \"" + t + "\"");
}
template <typename E, size_t N>
std::string_view name_of(E value, const std::array<std::pair<std::string_view, E>, N>& names) {
    for (const auto& [name, v] : names)
        if (v == value) return name;
    return "?";
}

constexpr std::array<std::pair<std::string_view, SegmentKind>, 5> kSegmentKinds{
    {{"devices", SegmentKind::devices}, {"servers", SegmentKind::servers}, {"workstations", SegmentKind::workstations},
     {"management", SegmentKind::management}, {"external", SegmentKind::external}}};
constexpr std::array<std::pair<std::string_view, AddressGroup::Kind>, 8> kGroupKinds{
    {{"devices", AddressGroup::Kind::devices}, {"role", AddressGroup::Kind::role}, {"segment", AddressGroup::Kind::segment},
     {"endpoint", AddressGroup::Kind::endpoint}, {"device", AddressGroup::Kind::device}, {"network", AddressGroup::Kind::network},
     {"site", AddressGroup::Kind::site}, {"tag", AddressGroup::Kind::tag}}};
constexpr std::array<std::pair<std::string_view, Provenance::Kind>, 4> kProvenanceKinds{
    {{"declared", Provenance::Kind::declared}, {"approved", Provenance::Kind::approved},
     {"baseline", Provenance::Kind::baseline}, {"denied", Provenance::Kind::denied}}};
constexpr std::array<std::pair<std::string_view, BaselineRefusal::Reason>, 6> kRefusals{
    {{"unknown-peer", BaselineRefusal::Reason::unknown_peer}, {"outside-peer", BaselineRefusal::Reason::outside_peer},
     {"not-answered", BaselineRefusal::Reason::not_answered}, {"not-mature", BaselineRefusal::Reason::immature},
     {"insecure-protocol", BaselineRefusal::Reason::insecure}, {"approval-expired", BaselineRefusal::Reason::approval_expired}}};
constexpr std::array<std::pair<std::string_view, PolicyNote::Level>, 2> kLevels{
    {{"info", PolicyNote::Level::info}, {"warning", PolicyNote::Level::warning}}};
constexpr std::array<std::pair<std::string_view, EnforcementMode>, 2> kModes{
    {{"enforce", EnforcementMode::enforce}, {"monitor", EnforcementMode::monitor}}};

Protocol protocol(const json& j, std::string_view field) {
    auto p = protocol_from_number(static_cast<unsigned>(integer(j, field, "protocol", 1, 254)));
    if (!p) bad(at(field, "protocol"), "not a protocol a rule can name");
    return *p;
}

Service service(const json& j, std::string_view field) {
    Service s;
    s.protocol = protocol(j, field);
    if (const json* ports = optional_member(j, field, "ports")) {
        const std::string f = at(field, "ports");
        for (size_t i = 0; i < array(*ports, f).size(); ++i) {
            const json& r = (*ports)[i];
            const std::string fr = at(f, i);
            if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() || !r[1].is_number_unsigned() ||
                r[0].get<uint64_t>() > r[1].get<uint64_t>() || r[1].get<uint64_t>() > 65535)
                bad(fr, "expected [first, last] ports 0-65535");
            s.ports.push_back({r[0].get<uint16_t>(), r[1].get<uint16_t>()});
        }
        if (!s.ports.empty() && !has_ports(s.protocol)) bad(f, to_string(s.protocol) + " has no ports");
        if (normalize_ports(s.ports) != s.ports) bad(f, "not sorted and merged as wardgate writes them");
    }
    if (const json* types = optional_member(j, field, "icmp_types")) {
        const std::string f = at(field, "icmp_types");
        for (size_t i = 0; i < array(*types, f).size(); ++i) {
            const std::string ft = at(f, i);
            IcmpType t;
            t.family = integer((*types)[i], ft, "family", 4, 6) == 6 ? Family::v6 : Family::v4;
            t.type = static_cast<uint8_t>(integer((*types)[i], ft, "type", 0, 255));
            t.code = static_cast<int16_t>(integer((*types)[i], ft, "code", -1, 255, -1));
            s.icmp_types.push_back(t);
        }
        if (!s.icmp_types.empty() && s.protocol != Protocol::icmp) bad(f, "only ICMP has message types");
        if (!std::is_sorted(s.icmp_types.begin(), s.icmp_types.end()) ||
            std::adjacent_find(s.icmp_types.begin(), s.icmp_types.end()) != s.icmp_types.end())
            bad(f, "not sorted as wardgate writes them");
    }
    return s;
}

Provenance provenance(const json& j, std::string_view field) {
    Provenance p;
    p.kind = choice(j, field, "kind", kProvenanceKinds);
    if (optional_member(j, field, "service")) p.service = service(member(j, field, "service"), at(field, "service"));
    p.source = text(j, field, "source", false);
    p.detail = text(j, field, "detail", false);
    p.origin = text(j, field, "origin", false);
    if (auto e = text(j, field, "expires", false); !e.empty()) {
        p.expires = parse_date(e);
        if (!p.expires) bad(at(field, "expires"), "expected a date YYYY-MM-DD");
    }
    p.document = text(j, field, "document", false);
    p.ticket = text(j, field, "ticket", false);
    p.owner = text(j, field, "owner", false);
    p.trial = boolean(j, field, "trial", false);
    return p;
}

json provenance_document(const Provenance& p) {
    json j{{"kind", to_string(p.kind)}, {"service", services_document({p.service})[0]}, {"source", p.source},
           {"detail", p.detail}, {"origin", p.origin}, {"document", p.document}, {"ticket", p.ticket}, {"owner", p.owner},
           {"trial", p.trial}};
    if (p.expires) j["expires"] = to_string(*p.expires);
    return j;
}

// Names become set, chain and log-prefix names: only what the site loader itself lets through.
std::string identifier(const json& j, std::string_view field, const char* key, bool dash) {
    std::string t = text(j, field, key);
    bool ok = !t.empty() && std::all_of(t.begin(), t.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dash && c == '-');
    });
    if (!ok) bad(at(field, key), "\"" + t + "\" is not a name wardgate gives");
    return t;
}

uint16_t port(const json& j, std::string_view field) { return static_cast<uint16_t>(integer(j, field, "port", 0, 65535)); }

}  // namespace policy_document_fields

json services_document(const std::vector<Service>& services) {
    json out = json::array();
    for (const auto& s : services) {
        json ports = json::array();
        for (const auto& r : s.ports) ports.push_back({r.first, r.last});
        json j{{"protocol", static_cast<int>(s.protocol)}, {"ports", ports}};
        if (!s.icmp_types.empty()) {
            json types = json::array();
            for (const auto& t : s.icmp_types)
                types.push_back({{"family", t.family == Family::v6 ? 6 : 4}, {"type", t.type}, {"code", t.code}});
            j["icmp_types"] = types;
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::vector<Service> services_from_document(const json& j, std::string_view field) {
    using namespace policy_document_fields;
    std::vector<Service> out;
    for (size_t i = 0; i < array(j, field).size(); ++i) out.push_back(service(j[i], at(field, i)));
    return out;
}

namespace policy_document_fields {

// A group's members or prefixes, given whole or as the chunks that hold them in order.
template <typename T, typename Whole, typename Chunk>
std::vector<T> chunked(const json& g, const std::string& f, const char* key, ChunkReader* chunks, Whole whole, Chunk chunk) {
    const std::string chunks_key = std::string(key) + "_chunks";
    const json* list = optional_member(g, f, chunks_key.c_str());
    if (!list) return whole(g, f, key);
    const std::string lf = at(f, chunks_key);
    if (optional_member(g, f, key)) bad(lf, std::string("given beside ") + key);
    if (!chunks) bad(lf, "a document in chunks, read without them");
    std::vector<T> out;
    for (size_t i = 0; i < array(*list, lf).size(); ++i) {
        if (!(*list)[i].is_string()) bad(at(lf, i), "expected a chunk's hash");
        const auto& part = chunk(*chunks, (*list)[i].get<std::string>(), at(lf, i));
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

}  // namespace policy_document_fields

json policy_document(const Policy& p) { return policy_document(p, nullptr); }

json policy_document(const Policy& p, ChunkWriter* chunks) {
    using namespace policy_document_fields;
    json j{{"site", p.site}, {"mode", name_of(p.mode, kModes)}, {"log_drops", p.log_drops}, {"log_group", p.log_group},
           {"unrouted_flows", p.unrouted_flows},
           {"dns",
            {{"nameserver", p.dns.nameserver}, {"min_ttl", p.dns.min_ttl}, {"max_ttl", p.dns.max_ttl}, {"grace", p.dns.grace}}}};
    json& segments = j["segments"] = json::array();
    for (const auto& s : p.segments) {
        segments.push_back({{"name", s.name}, {"kind", to_string(s.kind)}, {"subnets", texts(s.subnets)},
                            {"gateways", texts(s.gateways)}, {"monitor", s.monitor}});
        if (s.vlan) segments.back()["vlan"] = *s.vlan;
    }
    json& groups = j["groups"] = json::array();
    for (const auto& g : p.groups) {
        json dns = json::array();
        for (const auto& d : g.dns)
            dns.push_back({{"name", d.name}, {"endpoint", d.endpoint}, {"addresses", texts(d.addresses)}, {"resolved", d.resolved}});
        groups.push_back({{"kind", to_string(g.kind)}, {"name", g.name}, {"label", g.label}, {"any", g.any}, {"dns", dns},
                          {"fixed", texts(g.fixed)}});
        if (chunks) {
            groups.back()["members_chunks"] = chunks->members(g.members);
            groups.back()["prefixes_chunks"] = chunks->prefixes(g.prefixes);
        } else {
            groups.back()["members"] = g.members;
            groups.back()["prefixes"] = texts(g.prefixes);
        }
    }
    json& rules = j["rules"] = json::array();
    for (const auto& r : p.rules) {
        json why = json::array();
        for (const auto& w : r.why) why.push_back(provenance_document(w));
        rules.push_back({{"action", r.action == Rule::Action::allow ? "allow" : "deny"}, {"src", r.src}, {"dst", r.dst},
                         {"services", services_document(r.services)}, {"why", why}});
        if (r.trial()) rules.back()["trial"] = true;  // what state files before "why" was kept read
    }
    json& pinholes = j["pinholes"] = json::array();
    for (const auto& h : p.pinholes)
        pinholes.push_back({{"src", h.src.to_string()}, {"dst", h.dst.to_string()}, {"protocol", static_cast<int>(h.protocol)},
                            {"port", h.port}, {"src_name", h.src_name}, {"dst_name", h.dst_name},
                            {"why", provenance_document(h.why)}});
    json& monitored = j["monitored"] = json::array();
    for (const auto& m : p.monitored)
        monitored.push_back({{"device", m.device}, {"segment", m.segment}, {"addresses", texts(m.addresses)},
                             {"scope", m.cause.scope}, {"why", m.cause.why}});
    json& notes = j["notes"] = json::array();
    for (const auto& n : p.notes)
        notes.push_back({{"level", name_of(n.level, kLevels)}, {"message", n.message}, {"code", n.code}, {"subject", n.subject}});
    json& refused = j["refused"] = json::array();
    for (const auto& r : p.refused)
        refused.push_back({{"reason", to_string(r.reason)}, {"src", r.src.to_string()}, {"dst", r.dst.to_string()},
                           {"protocol", static_cast<int>(r.protocol)}, {"port", r.port}, {"src_name", r.src_name},
                           {"dst_name", r.dst_name}, {"detail", r.detail}, {"connections", r.connections}});
    if (p.gateway)
        j["gateway"] = {{"name", p.gateway->name},
                        {"segments", p.gateway->segments},
                        {"local", texts(p.gateway->local)},
                        {"site_rules", p.gateway->site_rules},
                        {"site_groups", p.gateway->site_groups},
                        {"site_pinholes", p.gateway->site_pinholes},
                        {"site_elements", p.gateway->site_elements}};
    if (p.gateway && !p.gateway->trunk.empty()) j["gateway"]["trunk"] = p.gateway->trunk;
    return j;
}

Policy policy_from_document(const json& j) { return policy_from_document(j, nullptr); }

Policy policy_from_document(const json& j, ChunkReader* chunks) {
    using namespace policy_document_fields;
    constexpr int64_t kMany = int64_t(1) << 48;
    Policy p;
    p.site = text(j, "policy", "site", false);
    p.mode = choice(j, "policy", "mode", kModes);
    p.log_drops = boolean(j, "policy", "log_drops", true);
    p.log_group = static_cast<uint16_t>(integer(j, "policy", "log_group", 0, 65535, 0));
    p.unrouted_flows = static_cast<size_t>(integer(j, "policy", "unrouted_flows", 0, kMany, 0));
    if (const json* dns = optional_member(j, "policy", "dns")) {
        if (!dns->is_object()) bad("dns", "expected an object");
        constexpr int64_t kWeek = 7 * 86400;  // what site.toml allows
        p.dns.nameserver = text(*dns, "dns", "nameserver", false);
        p.dns.min_ttl = static_cast<uint32_t>(integer(*dns, "dns", "min_ttl", 1, kWeek, p.dns.min_ttl));
        p.dns.max_ttl = static_cast<uint32_t>(integer(*dns, "dns", "max_ttl", 1, kWeek, p.dns.max_ttl));
        p.dns.grace = static_cast<uint32_t>(integer(*dns, "dns", "grace", 0, kWeek, p.dns.grace));
        if (p.dns.min_ttl > p.dns.max_ttl) bad("dns.min_ttl", "is larger than dns.max_ttl");
    }
    if (const json* segments = optional_member(j, "policy", "segments"))
        for (size_t i = 0; i < array(*segments, "segments").size(); ++i) {
            const json& s = (*segments)[i];
            const std::string f = at("segments", i);
            SegmentIR seg;
            seg.name = identifier(s, f, "name", true);
            seg.kind = choice(s, f, "kind", kSegmentKinds);
            if (optional_member(s, f, "vlan")) seg.vlan = static_cast<uint16_t>(integer(s, f, "vlan", 1, 4094));
            seg.subnets = prefixes(s, f, "subnets");
            seg.gateways = addresses(s, f, "gateways");
            seg.monitor = boolean(s, f, "monitor", false);
            p.segments.push_back(std::move(seg));
        }
    const json& groups = array(member(j, "policy", "groups"), "groups");
    for (size_t i = 0; i < groups.size(); ++i) {
        const json& g = groups[i];
        const std::string f = at("groups", i);
        AddressGroup ag;
        ag.kind = choice(g, f, "kind", kGroupKinds, AddressGroup::Kind::devices);
        ag.name = identifier(g, f, "name", false);
        ag.label = text(g, f, "label", false);
        ag.members = chunked<std::string>(g, f, "members", chunks, strings,
                                          [](ChunkReader& c, const std::string& h, const std::string& at) -> const auto& {
                                              return c.members(h, at);
                                          });
        ag.prefixes = chunked<Prefix>(g, f, "prefixes", chunks, prefixes,
                                      [](ChunkReader& c, const std::string& h, const std::string& at) -> const auto& {
                                          return c.prefixes(h, at);
                                      });
        ag.any = boolean(g, f, "any", false);
        // Sets are built from collapsed prefixes; anything else is not what wardgate wrote.
        if (!is_collapsed(ag.prefixes)) bad(at(f, "prefixes"), "not sorted and collapsed");
        if (ag.any && !ag.prefixes.empty()) bad(at(f, "prefixes"), "a group of every address lists none");
        if (const json* dns = optional_member(g, f, "dns"))
            for (size_t k = 0; k < array(*dns, at(f, "dns")).size(); ++k) {
                const std::string fd = at(at(f, "dns"), k);
                ag.dns.push_back({text((*dns)[k], fd, "name"), text((*dns)[k], fd, "endpoint", false),
                                  addresses((*dns)[k], fd, "addresses"), text((*dns)[k], fd, "resolved", false)});
            }
        ag.fixed = prefixes(g, f, "fixed");
        p.groups.push_back(std::move(ag));
    }
    std::set<std::string> names;
    for (size_t i = 0; i < p.groups.size(); ++i)
        if (!names.insert(p.groups[i].name).second) bad(at(at("groups", i), "name"), "\"" + p.groups[i].name + "\" twice");
    const json& rules = array(member(j, "policy", "rules"), "rules");
    for (size_t i = 0; i < rules.size(); ++i) {
        const json& r = rules[i];
        const std::string f = at("rules", i);
        Rule rule;
        rule.action = text(r, f, "action") == "deny" ? Rule::Action::deny : Rule::Action::allow;
        if (text(r, f, "action") != "deny" && text(r, f, "action") != "allow") bad(at(f, "action"), "expected allow or deny");
        const auto last_group = static_cast<int64_t>(p.groups.size()) - 1;
        if (last_group < 0) bad(at(f, "src"), "the policy has no groups");
        rule.src = static_cast<size_t>(integer(r, f, "src", 0, last_group));
        rule.dst = static_cast<size_t>(integer(r, f, "dst", 0, last_group));
        rule.services = services_from_document(member(r, f, "services"), at(f, "services"));
        if (const json* why = optional_member(r, f, "why"))
            for (size_t k = 0; k < array(*why, at(f, "why")).size(); ++k) rule.why.push_back(provenance((*why)[k], at(at(f, "why"), k)));
        if (rule.why.empty() && boolean(r, f, "trial", false)) {  // a state file from before "why" was kept
            Provenance trial;
            trial.trial = true;
            rule.why.push_back(trial);
        }
        p.rules.push_back(std::move(rule));
    }
    const json& pinholes = array(member(j, "policy", "pinholes"), "pinholes");
    for (size_t i = 0; i < pinholes.size(); ++i) {
        const json& h = pinholes[i];
        const std::string f = at("pinholes", i);
        Pinhole pin;
        pin.src = address(member(h, f, "src"), at(f, "src"));
        pin.dst = address(member(h, f, "dst"), at(f, "dst"));
        if (pin.src.family != pin.dst.family) bad(f, "the two addresses are of different families");
        pin.protocol = protocol(h, f);
        pin.port = port(h, f);
        pin.src_name = text(h, f, "src_name", false);
        pin.dst_name = text(h, f, "dst_name", false);
        if (optional_member(h, f, "why")) pin.why = provenance(member(h, f, "why"), at(f, "why"));
        p.pinholes.push_back(std::move(pin));
    }
    if (!std::is_sorted(p.pinholes.begin(), p.pinholes.end(), [](const Pinhole& a, const Pinhole& b) { return a.key() < b.key(); }))
        bad("pinholes", "not sorted");
    if (const json* monitored = optional_member(j, "policy", "monitored"))
        for (size_t i = 0; i < array(*monitored, "monitored").size(); ++i) {
            const json& m = (*monitored)[i];
            const std::string f = at("monitored", i);
            p.monitored.push_back({text(m, f, "device"), text(m, f, "segment", false), addresses(m, f, "addresses"),
                                   MonitorCause{text(m, f, "scope", false), text(m, f, "why", false)}});
        }
    if (const json* notes = optional_member(j, "policy", "notes"))
        for (size_t i = 0; i < array(*notes, "notes").size(); ++i) {
            const json& n = (*notes)[i];
            const std::string f = at("notes", i);
            p.notes.push_back({choice(n, f, "level", kLevels), text(n, f, "message"), text(n, f, "code", false),
                               text(n, f, "subject", false)});
        }
    if (const json* refused = optional_member(j, "policy", "refused"))
        for (size_t i = 0; i < array(*refused, "refused").size(); ++i) {
            const json& r = (*refused)[i];
            const std::string f = at("refused", i);
            BaselineRefusal b;
            b.reason = choice(r, f, "reason", kRefusals);
            b.src = address(member(r, f, "src"), at(f, "src"));
            b.dst = address(member(r, f, "dst"), at(f, "dst"));
            b.protocol = protocol(r, f);
            b.port = port(r, f);
            b.src_name = text(r, f, "src_name", false);
            b.dst_name = text(r, f, "dst_name", false);
            b.detail = text(r, f, "detail", false);
            b.connections = static_cast<uint64_t>(integer(r, f, "connections", 0, INT64_MAX, 0));
            p.refused.push_back(std::move(b));
        }
    if (const json* g = optional_member(j, "policy", "gateway")) {
        GatewayScope scope;
        scope.name = text(*g, "gateway", "name");
        scope.segments = strings(*g, "gateway", "segments");
        scope.local = collapse_prefixes(prefixes(*g, "gateway", "local"));  // holds() searches it
        scope.trunk = text(*g, "gateway", "trunk", false);
        if (!scope.trunk.empty() && !is_interface_name(scope.trunk))
            bad("gateway.trunk", not_an_interface_name(scope.trunk));
        scope.site_rules = static_cast<size_t>(integer(*g, "gateway", "site_rules", 0, kMany));
        scope.site_groups = static_cast<size_t>(integer(*g, "gateway", "site_groups", 0, kMany));
        scope.site_pinholes = static_cast<size_t>(integer(*g, "gateway", "site_pinholes", 0, kMany));
        scope.site_elements = static_cast<size_t>(integer(*g, "gateway", "site_elements", 0, kMany));
        p.gateway = std::move(scope);
    }
    return p;
}

}  // namespace wardgate
