#include "export_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "wardgate/render/nft.hpp"

namespace wardgate::export_detail {

namespace {

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

std::string reason_text(const Provenance& w, bool with_service) {
    std::string out(to_string(w.kind));
    if (w.expires) out += " until " + to_string(*w.expires);
    out += ": " + w.source;
    // The ticket before the prose: platforms that cut long remarks keep it.
    if (!w.ticket.empty()) out += " (ticket " + w.ticket + ")";
    if (!w.owner.empty()) out += " (owner " + w.owner + ")";
    if (!w.detail.empty()) out += " - " + w.detail;
    if (!w.origin.empty()) out += " [" + w.origin + "]";
    if (with_service) out = w.service.to_string() + " " + out;
    return out;
}

std::string deny_id(const Rule& r) {
    if (r.why.empty()) return "";
    const std::string& s = r.why.front().source;
    return s.rfind("deny ", 0) == 0 ? s.substr(5) : s;
}

// The log prefix nftables gives an explicit deny, so logs read the same on every target.
std::string deny_log_prefix(const Rule& r) {
    std::string id = r.why.empty() ? "deny" : r.why.front().source;
    std::string prefix = "wardgate " + id.substr(0, 40) + ": ";
    if (prefix.size() > 60) {
        prefix.resize(58);
        prefix += ": ";
    }
    return one_line(prefix, 64);
}

std::string service_name_part(const Service& s) {
    std::string out(to_string(s.protocol));
    if (!s.ports.empty()) out += "-" + ports_text(s.ports, "_", "-");
    for (const auto& t : s.icmp_types)
        out += "-" + std::string(t.family == Family::v4 ? "" : "v6-") + std::to_string(t.type) +
               (t.code < 0 ? "" : "_" + std::to_string(t.code));
    return out;
}

// kainjow::mustache keeps the line break after a standalone closing tag when the section is
// skipped, which leaves a blank line. Standalone section tags lose their indentation here, and
// closing tags their line break, so sections leave no trace either way (as the spec says).
std::string strip_standalone_tags(const std::string& text) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        bool has_newline = end != std::string::npos;
        std::string line = text.substr(pos, has_newline ? end - pos : std::string::npos);
        pos = has_newline ? end + 1 : text.size();
        size_t first = line.find_first_not_of(" \t\r");
        size_t last = line.find_last_not_of(" \t\r");
        std::string tag = first == std::string::npos ? "" : line.substr(first, last - first + 1);
        bool standalone = tag.size() > 5 && tag.rfind("{{", 0) == 0 && tag.find("}}") == tag.size() - 2 &&
                          (tag[2] == '#' || tag[2] == '^' || tag[2] == '/');
        if (!standalone) {
            out += line + (has_newline ? "\n" : "");
        } else {
            out += tag + (tag[2] == '/' || !has_newline ? "" : "\n");
        }
    }
    return out;
}

}  // namespace

View make_list() { return View(View::type::list); }
View make_object() { return View(View::type::object); }

// ---- names ----

std::string short_hash(std::string_view text) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : text) {
        h ^= c;
        h *= 16777619u;
    }
    return fmt::format("{:06x}", h & 0xffffffu);
}

char Namer::separator() const {
    if (rules_.extra.find('-') != std::string::npos) return '-';
    if (rules_.extra.find('_') != std::string::npos) return '_';
    return 0;
}

std::string Namer::sanitize(std::string_view wanted) const {
    char replacement = rules_.extra.find('_') != std::string::npos ? '_' : separator();
    std::string out;
    for (char c : wanted) {
        if (ascii_alnum(c) || (c != 0 && rules_.extra.find(c) != std::string::npos)) {
            out += c;
        } else if (replacement) {
            out += replacement;
        }
    }
    if (rules_.lower) out = lower(out);
    if (out.empty() || !ascii_alnum(out.front())) out = "x" + out;
    for (const auto& p : rules_.reserved_prefixes)
        if (lower(out).rfind(lower(p), 0) == 0) out = "wg" + std::string(1, separator() ? separator() : 'x') + out;
    return out;
}

bool Namer::taken(const std::string& name) const {
    std::string l = lower(name);
    if (used_.count(l)) return true;
    return std::any_of(rules_.reserved.begin(), rules_.reserved.end(), [&](const std::string& r) { return lower(r) == l; });
}

std::string Namer::operator()(const std::string& key, std::string_view wanted) {
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
    const std::string& prefix = rules_.owned_prefix;
    std::string base = sanitize(wanted.substr(0, prefix.size()) == prefix ? std::string(wanted) : prefix + std::string(wanted));
    std::string sep = separator() ? std::string(1, separator()) : "";
    if (base.size() > rules_.max_length) {
        std::string tail = sep + short_hash(wanted);
        base.resize(rules_.max_length - tail.size());
        base += tail;
    }
    std::string name = base;
    for (int n = 2; taken(name); ++n) {
        std::string suffix = sep + std::to_string(n);
        name = base.substr(0, std::min(base.size(), rules_.max_length - suffix.size())) + suffix;
    }
    used_.insert(lower(name));
    by_key_.emplace(key, name);
    return name;
}

// ---- the flattened policy ----

bool Side::has(Family f) const { return group ? group->has(f) : host.family == f; }

std::vector<Prefix> Side::prefixes(Family f) const {
    if (!group) return host.family == f ? std::vector<Prefix>{Prefix::host(host)} : std::vector<Prefix>{};
    std::vector<Prefix> out;
    for (const auto& p : group->prefixes)
        if (p.family() == f) out.push_back(p);
    return out;
}

std::string Side::label() const { return group ? group->label : host_name; }

std::string group_comment(const AddressGroup& g) {
    std::string out = g.label;
    for (size_t i = 0; i < g.dns.size(); ++i) out += (i ? "; " : " (") + g.dns[i].text();
    return g.dns.empty() ? out : out + ")";
}

std::string ExportRule::comment() const {
    std::string out;
    for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r.text;
    return out;
}

std::string ExportRule::comment(Protocol p) const {
    std::string out;
    for (const auto& r : reasons)
        if (!r.protocol || *r.protocol == p) out += (out.empty() ? "" : "; ") + r.text;
    return out.empty() ? comment() : out;
}

std::vector<std::string> ExportRule::reason_texts() const {
    std::vector<std::string> out;
    for (const auto& r : reasons) out.push_back(r.text);
    return out;
}

std::string Model::interface(const std::string& key, const std::string& fallback) const {
    auto it = options.interfaces.find(key);
    if (it != options.interfaces.end()) return it->second;
    // The first default asked for names the key ("outside: ge-0/0/0", not its unit too).
    bool listed = std::any_of(defaulted_.begin(), defaulted_.end(),
                              [&](const std::string& d) { return d.compare(0, key.size() + 2, key + ": ") == 0; });
    if (!listed) defaulted_.push_back(key + ": " + fallback);
    return fallback;
}

std::string Model::zone_interface(size_t zone, const InterfaceDefaults& d) const {
    const Zone& z = zones[zone];
    if (!z.segment) return interface("outside", d.outside);
    if (!z.segment->vlan) return interface(z.name, fmt::format("{}{}{}", d.port_prefix, zone + d.port_base, d.port_suffix));
    if (!d.vlan_prefix.empty()) return interface(z.name, fmt::format("{}{}", d.vlan_prefix, *z.segment->vlan));
    return interface(z.name, fmt::format("{}.{}", interface("trunk", d.trunk), *z.segment->vlan));
}

void set_defaulted_interfaces(View& v, const Model& m) {
    View list = make_list();
    for (const auto& d : m.defaulted_interfaces()) {
        View item = make_object();
        auto colon = d.find(": ");
        item.set("key", d.substr(0, colon));
        item.set("name", d.substr(colon + 2));
        list.push_back(item);
    }
    v.set("defaulted_interfaces", list);
    v.set("has_defaulted_interfaces", !m.defaulted_interfaces().empty());
}

Model::Model(const Policy& p, ExportOptions o) : policy(p), options(std::move(o)) {
    for (const auto& s : p.segments)
        zones.push_back({s.name, &s, p.monitor(s), nft_log_prefix(s.name, p.monitor(s))});
    bool monitor_all = p.mode == EnforcementMode::monitor;
    zones.push_back({"outside", nullptr, monitor_all, nft_log_prefix("outside", monitor_all)});

    for (const auto& n : p.notes)
        notes.push_back(std::string(n.level == PolicyNote::Level::warning ? "warning: " : "note: ") + n.message);

    // Monitor by device and denies on trial are the Linux gateway's: a platform's access list
    // has no "log and go on", so the export says what it does instead, never silently.
    std::vector<std::string> monitored;
    auto segment_monitored = [&](const std::string& name) {
        return std::any_of(p.segments.begin(), p.segments.end(), [&](const SegmentIR& s) { return s.name == name && p.monitor(s); });
    };
    for (const auto& d : p.monitored)
        if (!segment_monitored(d.segment)) monitored.push_back(d.device);
    if (!monitored.empty())
        notes.push_back(fmt::format("warning: {} device{} in monitor ({}{}) are enforced by this export: the default deny "
                                    "drops their undeclared flows here; only the Linux gateway lets them through",
                                    monitored.size(), monitored.size() == 1 ? "" : "s",
                                    fmt::join(monitored.begin(), monitored.begin() + static_cast<long>(std::min<size_t>(monitored.size(), 5)), ", "),
                                    monitored.size() > 5 ? ", ..." : ""));
    for (const auto& r : p.rules) {
        if (r.action == Rule::Action::deny && r.trial()) {
            notes.push_back(fmt::format("not rendered: {} is on trial (monitor): it drops nothing; the Linux gateway logs "
                                        "what it matches",
                                        r.why.empty() ? "a deny" : r.why.front().source));
            continue;
        }
        ExportRule e;
        bool deny = r.action == Rule::Action::deny;
        e.kind = deny ? RuleKind::deny : RuleKind::allow;
        e.accept = !deny;  // explicit denies drop in every mode
        e.log = deny && p.log_drops;
        e.src.group = &p.groups[r.src];
        e.dst.group = &p.groups[r.dst];
        for (Family f : {Family::v4, Family::v6})
            if (e.src.has(f) && e.dst.has(f)) e.families.push_back(f);
        e.services = r.services;
        if (deny) {
            std::string id = deny_id(r);
            if (id.empty()) id = e.src.group->name + "-to-" + e.dst.group->name;
            e.name = id.rfind("deny", 0) == 0 ? id : "deny-" + id;
            e.log_prefix = deny_log_prefix(r);
        } else {
            e.name = "allow-" + e.src.group->name + "-to-" + e.dst.group->name;
        }
        bool merged = r.why.size() > 1;
        for (const auto& w : r.why)
            e.reasons.push_back({reason_text(w, merged), merged && !deny ? std::optional(w.service.protocol) : std::nullopt});
        // First, so that platforms which cut long comments keep it.
        std::vector<Reason> resolved;
        for (const auto* g : {e.src.group, e.dst.group})
            for (const auto& b : g->dns) resolved.push_back({b.text(), std::nullopt});
        e.reasons.insert(e.reasons.begin(), resolved.begin(), resolved.end());
        if (e.families.empty()) {
            notes.push_back(fmt::format("not rendered: {} ({} -> {}) has no address family on both sides", e.name,
                                        e.src.label(), e.dst.label()));
            continue;
        }
        // A family only ICMP messages of the other family would be allowed in carries nothing.
        std::erase_if(e.families, [&](Family f) {
            return !e.services.empty() && std::none_of(e.services.begin(), e.services.end(),
                                                       [&](const Service& s) { return s.covers_family(f); });
        });
        if (e.families.empty()) {
            notes.push_back(fmt::format("not rendered: {} ({} -> {}) names ICMP messages only of a family its sides "
                                        "have no addresses in",
                                        e.name, e.src.label(), e.dst.label()));
            continue;
        }
        e.src_zones = zones_of(e.src, e.families);
        e.dst_zones = zones_of(e.dst, e.families);
        rules.push_back(std::move(e));
    }

    for (const auto& h : p.pinholes) {
        ExportRule e;
        e.kind = RuleKind::baseline;
        e.src.host = h.src;
        e.src.host_name = h.src_name.empty() ? h.src.to_string() : h.src_name;
        e.dst.host = h.dst;
        e.dst.host_name = h.dst_name.empty() ? h.dst.to_string() : h.dst_name;
        e.families = {h.src.family};
        Service svc = h.service();
        e.services = {svc};
        e.name = fmt::format("baseline-{}-to-{}-{}{}", e.src.host_name, e.dst.host_name, service_name_part(svc),
                             h.src.family == Family::v6 ? "-v6" : "");
        e.reasons.push_back({reason_text(h.why, false), std::nullopt});
        e.src_zones = zones_of(e.src, e.families);
        e.dst_zones = zones_of(e.dst, e.families);
        rules.push_back(std::move(e));
    }
}

std::map<size_t, std::set<Family>> Model::group_families() const {
    std::map<size_t, std::set<Family>> out;
    for (const auto& r : rules)
        for (const Side* s : {&r.src, &r.dst})
            if (s->group && !s->group->any)
                out[static_cast<size_t>(s->group - policy.groups.data())].insert(r.families.begin(), r.families.end());
    return out;
}

std::vector<Model::GroupMembers> Model::group_members() const {
    std::vector<GroupMembers> out;
    for (const auto& [index, families] : group_families()) {
        GroupMembers g{&policy.groups[index], {}};
        for (const auto& p : g.group->prefixes)
            if (families.count(p.family())) g.members.push_back(p);
        out.push_back(std::move(g));
    }
    return out;
}

std::map<std::string, Service> Model::services(const std::function<bool(const Service&)>& wanted) const {
    std::map<std::string, Service> out;
    for (const auto& r : rules)
        for (const auto& s : r.services)
            if (wanted(s)) out.emplace(service_key(s), s);
    return out;
}

std::vector<Prefix> Model::prefixes() const {
    std::set<Prefix> out;
    for (const auto& [g, families] : group_families())
        for (Family f : families)
            for (const auto& p : policy.groups[g].prefixes)
                if (p.family() == f) out.insert(p);
    for (const auto& r : rules)
        if (r.kind == RuleKind::baseline) {
            out.insert(Prefix::host(r.src.host));
            out.insert(Prefix::host(r.dst.host));
        }
    return {out.begin(), out.end()};
}

std::vector<size_t> Model::zones_of(const Side& side, const std::vector<Family>& families) const {
    std::set<size_t> out;
    if (side.any()) {
        for (size_t i = 0; i < zones.size(); ++i) out.insert(i);
        return {out.begin(), out.end()};
    }
    for (Family f : families) {
        for (const auto& p : side.prefixes(f)) {
            bool inside = false;
            for (size_t i = 0; i + 1 < zones.size(); ++i) {
                for (const auto& s : zones[i].segment->subnets) {
                    if (s.contains(p) || p.contains(s)) out.insert(i);
                    inside = inside || s.contains(p);
                }
            }
            if (!inside) out.insert(outside());
        }
    }
    return {out.begin(), out.end()};
}

// ---- services ----

std::string IcmpMatch::key() const {
    std::string out = family == Family::v4 ? "icmp" : "icmp6";
    if (type) out += "-" + std::to_string(*type);
    if (code) out += "-" + std::to_string(*code);
    return out;
}

std::vector<IcmpMatch> icmp_matches(const Service& s, const std::vector<Family>& families) {
    std::vector<IcmpMatch> out;
    for (Family f : families) {
        if (s.icmp_types.empty()) out.push_back({f, std::nullopt, std::nullopt});
        for (const auto& t : s.icmp_types)
            if (t.family == f)
                out.push_back({f, t.type, t.code < 0 ? std::nullopt : std::optional<uint8_t>(static_cast<uint8_t>(t.code))});
    }
    return out;
}

std::vector<LineAtom> line_atoms(const std::vector<Service>& services, Family f) {
    std::vector<LineAtom> out;
    for (const auto& s : services) {
        if (s.protocol == Protocol::icmp) {
            for (const auto& m : icmp_matches(s, {f})) out.push_back({s.protocol, std::nullopt, m});
        } else if (!has_ports(s.protocol) || s.ports.empty()) {
            out.push_back({s.protocol, std::nullopt, std::nullopt});
        } else {
            for (const auto& r : s.ports) out.push_back({s.protocol, r, std::nullopt});
        }
    }
    return out;
}

std::string protocol_word(Protocol p, std::initializer_list<Protocol> named) {
    return std::find(named.begin(), named.end(), p) != named.end() ? to_string(p) : std::to_string(static_cast<int>(p));
}

bool is_port_service(const Service& s) {
    return s.protocol == Protocol::tcp || s.protocol == Protocol::udp || s.protocol == Protocol::sctp;
}

std::string cisco_ports(const PortRange& r) {
    return r.first == r.last ? fmt::format("eq {}", r.first) : fmt::format("range {} {}", r.first, r.last);
}

std::string cisco_icmp(const IcmpMatch& m) {
    if (!m.type) return "";
    return m.code ? fmt::format("{} {}", *m.type, *m.code) : std::to_string(*m.type);
}

std::string service_key(const Service& s) {
    if (has_ports(s.protocol) && s.ports.empty()) return to_string(s.protocol) + "-any";
    return service_name_part(s);
}

std::string ports_text(const std::vector<PortRange>& ports, std::string_view list_sep, std::string_view range_sep) {
    std::string out;
    for (const auto& r : ports) {
        if (!out.empty()) out += list_sep;
        out += std::to_string(r.first);
        if (r.last != r.first) out += std::string(range_sep) + std::to_string(r.last);
    }
    return out;
}

// ---- text ----

View cisco_remarks(const std::vector<std::string>& texts, size_t max) {
    View list = make_list();
    for (const auto& t : texts) {
        View r = make_object();
        r.set("text", one_line(t, max));
        list.push_back(r);
    }
    return list;
}

View cisco_line(const std::string& action, const std::string& protocol, const std::string& src, const std::string& dst,
                const std::string& ports, bool log) {
    View l = make_object();
    l.set("action", action);
    l.set("protocol", protocol);
    l.set("src", src);
    l.set("dst", dst);
    l.set("has_ports", !ports.empty());
    l.set("ports", ports);
    l.set("log", log);
    return l;
}

View cisco_entry(const ExportRule& r, const View& lines, size_t remark_max) {
    std::vector<std::string> texts{r.name};
    for (const auto& reason : r.reasons) texts.push_back(reason.text);
    View e = make_object();
    e.set("remarks", cisco_remarks(texts, remark_max));
    e.set("lines", lines);
    return e;
}

std::string cisco_protocol(Protocol p, Family f) {
    if (p == Protocol::ah) return "ahp";
    if (p == Protocol::gre && f == Family::v4) return "gre";
    return protocol_word(p, {Protocol::tcp, Protocol::udp, Protocol::icmp, Protocol::esp});
}

std::string cisco_address(const Prefix& p) {
    if (p.length == 0) return "any";
    if (p.is_host()) return "host " + p.address.to_string();
    if (p.family() == Family::v4) return p.address.to_string() + " " + v4_wildcard(p.length);
    return p.to_string();
}

std::string cisco_icmp_reply(Family f, uint8_t type) {
    if (f == Family::v4) {
        switch (type) {
            case 8: return "echo-reply";
            case 13: return "timestamp-reply";
            case 15: return "information-reply";
            case 17: return "mask-reply";
            default: return "";
        }
    }
    if (type == 128) return "echo-reply";
    if (type == 139) return "140";  // node information query -> response
    return "";
}

std::string CiscoAclLine::text(bool any_source) const {
    std::string out = permit ? "permit " : "deny ";
    out += protocol;
    out += " " + (any_source ? std::string("any") : src);
    if (!src_ports.empty()) out += " " + src_ports;
    out += " " + dst;
    if (!dst_ports.empty()) out += " " + dst_ports;
    if (established) out += " established";
    if (log) out += " log";
    return out;
}

std::optional<CiscoAclLine> cisco_reply(Protocol p, const std::optional<PortRange>& ports,
                                        const std::optional<IcmpMatch>& icmp, Family f, const std::string& src,
                                        const std::string& dst) {
    CiscoAclLine l;
    l.protocol = cisco_protocol(p, f);
    l.src = src;
    l.dst = dst;
    if (p == Protocol::tcp || p == Protocol::udp) {
        l.src_ports = ports ? cisco_ports(*ports) : "";
        l.established = p == Protocol::tcp;
    } else if (p == Protocol::icmp && icmp && icmp->type) {
        l.dst_ports = cisco_icmp_reply(f, *icmp->type);
        if (l.dst_ports.empty()) return std::nullopt;
    }
    return l;
}

std::string one_line(std::string_view text, size_t max) {
    std::string out;
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (c == '"' || c == '\\') c = '\'';
        if (c == '?') c = '.';  // Cisco CLIs answer '?' with help, even inside a remark
        out += c;
    }
    if (out.size() > max) {
        out.resize(max - 3);
        out += "...";
    }
    return out;
}

std::string member_list(const std::vector<std::string>& items) {
    if (items.size() == 1) return items.front();
    std::string out = "[";
    for (const auto& i : items) out += " " + i;
    return out + " ]";
}

std::string prefix_object_name(const Prefix& p) {
    return p.is_host() ? "h-" + p.address.to_string() : "n-" + p.to_string();
}

bool has_family(const ExportRule& r, Family f) {
    return std::find(r.families.begin(), r.families.end(), f) != r.families.end();
}

std::string v4_mask(uint8_t length) {
    uint32_t m = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    return IpAddress::v4(m).to_string();
}

std::string v4_wildcard(uint8_t length) {
    uint32_t m = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    return IpAddress::v4(~m).to_string();
}

std::string file_safe(std::string_view site) {
    std::string out;
    for (char c : site) {
        if (ascii_alnum(c)) {
            out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "site" : out;
}

std::string family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

std::string InterfaceAddress::cidr() const { return address.to_string() + "/" + std::to_string(length); }

std::optional<InterfaceAddress> gateway_address(const SegmentIR& s, Family f) {
    for (const auto& gw : s.gateways) {
        if (gw.family != f) continue;
        for (const auto& p : s.subnets)
            if (p.contains(gw)) return InterfaceAddress{gw, p.length};
        return InterfaceAddress{gw, static_cast<uint8_t>(gw.bit_width())};
    }
    return std::nullopt;
}

void warn_interface(const SegmentIR& s, std::string_view target, const std::string& interface,
                    std::vector<std::string>& warnings) {
    if (!s.vlan)
        warnings.push_back(fmt::format("{}: segment {} has no VLAN id: it is bound to the placeholder interface {}; "
                                       "adjust the template or set vlan in site.toml",
                                       target, s.name, interface));
    for (Family f : {Family::v4, Family::v6}) {
        std::vector<std::string> subnets;
        for (const auto& p : s.subnets)
            if (p.family() == f) subnets.push_back(p.to_string());
        if (subnets.empty()) continue;
        auto gw = gateway_address(s, f);
        if (!gw) {
            warnings.push_back(fmt::format("{}: segment {} has no {} gateway: interface {} gets no {} address", target,
                                           s.name, family_name(f), interface, family_name(f)));
            continue;
        }
        if (subnets.size() > 1)
            warnings.push_back(fmt::format("{}: segment {} has {} {} subnets but interface {} gets only {}; route the "
                                           "others to it",
                                           target, s.name, subnets.size(), family_name(f), interface, gw->cidr()));
    }
}

std::string default_deny_text(const Model& m, const Zone& z) {
    std::string prefix = z.log_prefix;
    while (!prefix.empty() && (prefix.back() == ' ' || prefix.back() == ':')) prefix.pop_back();
    std::string what = z.monitor ? "default deny of " + z.name + ", monitored: accepted" : "default deny of " + z.name;
    if (!m.policy.log_drops) return what + " (not logged)";
    return what + " (logged as '" + prefix + "')";
}

void warn_renamed(std::string_view target, std::string_view what, const Zone& z, const std::string& name,
                  std::vector<std::string>& warnings) {
    if (name == z.name) return;
    warnings.push_back(fmt::format("{}: the {} of {} {} is named {} (the platform's naming rules: length, characters, "
                                   "reserved words)",
                                   target, what, z.segment ? "segment" : "zone", z.name, name));
}

View header_view(const Model& m, std::string_view target) {
    View v = make_object();
    v.set("site", m.policy.site);
    v.set("target", std::string(target));
    v.set("version", std::string(WARDGATE_VERSION));
    bool monitor = m.policy.mode == EnforcementMode::monitor;
    v.set("mode", std::string(monitor ? "monitor" : "enforce"));
    v.set("monitor", monitor);
    v.set("log_drops", m.policy.log_drops);
    v.set("log_group", std::to_string(m.policy.log_group));
    View notes = make_list();
    for (const auto& n : m.notes) {
        View item = make_object();
        item.set("text", one_line(n, 1000));
        notes.push_back(item);
    }
    v.set("has_notes", !m.notes.empty());
    v.set("notes", notes);
    return v;
}

std::string render_template(const std::filesystem::path& dir, const std::string& file, const View& view) {
    auto read = [](const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read template " + path.string());
        std::ostringstream ss;
        ss << in.rdbuf();
        return strip_standalone_tags(ss.str());
    };
    std::string main = read(dir / file);
    View root = view;
    std::error_code ec;
    std::vector<std::filesystem::path> partials;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().extension() == ".mustache" && entry.path().filename() != file) partials.push_back(entry.path());
    std::sort(partials.begin(), partials.end());
    for (const auto& p : partials) {
        std::string name = p.stem().string();
        if (!root.get(name)) root.set(name, View(read(p)));
    }
    kainjow::mustache::mustache tmpl{main};
    if (!tmpl.is_valid()) throw std::runtime_error("template " + (dir / file).string() + ": " + tmpl.error_message());
    tmpl.set_custom_escape([](const std::string& s) { return s; });
    std::string out = tmpl.render(root);
    if (!tmpl.is_valid()) throw std::runtime_error("template " + (dir / file).string() + ": " + tmpl.error_message());
    return out;
}

void check_addresses(const std::string& text, const Model& m, std::string_view target,
                     std::vector<std::string>& warnings) {
    for (Family f : {Family::v4, Family::v6}) {
        size_t total = 0, missing = 0;
        std::string example;
        for (const auto& p : m.prefixes()) {
            if (p.family() != f) continue;
            ++total;
            if (text.find(p.address.to_string()) == std::string::npos) {
                if (!missing) example = p.to_string();
                ++missing;
            }
        }
        if (missing)
            warnings.push_back(fmt::format("{}: {} of {} {} addresses the policy uses are not in the output (e.g. {}): "
                                           "the template leaves out rules that need them",
                                           target, missing, total, family_name(f), example));
    }
}

void set_zone_interface(View& item, const Zone& z) {
    const bool outside = !z.segment;
    item.set("outside", outside);
    item.set("description", outside ? std::string("wardgate: outside (uplink)")
                                    : fmt::format("wardgate: segment {} ({})", z.name, to_string(z.segment->kind)));
    item.set("has_vlan", !outside && z.segment->vlan.has_value());
    item.set("vlan", !outside && z.segment->vlan ? std::to_string(*z.segment->vlan) : std::string());
    auto v4 = outside ? std::nullopt : gateway_address(*z.segment, Family::v4);
    auto v6 = outside ? std::nullopt : gateway_address(*z.segment, Family::v6);
    item.set("has_ipv4", v4.has_value());
    item.set("ipv4_address", v4 ? v4->address.to_string() : std::string());
    item.set("ipv4_mask", v4 ? v4_mask(v4->length) : std::string());
    item.set("ipv4_cidr", v4 ? v4->cidr() : std::string());
    item.set("has_ipv6", v6.has_value());
    item.set("ipv6_cidr", v6 ? v6->cidr() : std::string());
}

View address_objects(const Model& m, const std::function<std::string(const Prefix&)>& name, std::optional<Family> only) {
    View list = make_list();
    for (const auto& p : m.prefixes()) {
        if (only && p.family() != *only) continue;
        View item = make_object();
        item.set("name", name(p));
        item.set("cidr", p.address.to_string() + "/" + std::to_string(p.length));
        if (p.family() == Family::v4) item.set("subnet", p.address.to_string() + " " + v4_mask(p.length));
        list.push_back(item);
    }
    return list;
}

View address_group_objects(const Model& m, const std::function<std::string(const AddressGroup&)>& name,
                           const std::function<std::string(const Prefix&)>& member, size_t description_max) {
    View list = make_list();
    for (const auto& [g, prefixes] : m.group_members()) {
        View members = make_list();
        std::string text = "[";
        for (const auto& p : prefixes) {
            View item = make_object();
            item.set("address", member(p));
            members.push_back(item);
            text += " " + member(p);
        }
        View item = make_object();
        item.set("name", name(*g));
        item.set("description", one_line(group_comment(*g), description_max));
        item.set("members", members);
        item.set("members_text", text + " ]");
        list.push_back(item);
    }
    return list;
}

View family_group_objects(const Model& m, std::optional<Family> only,
                          const std::function<std::string(const AddressGroup&, Family)>& name,
                          const std::function<std::string(const Prefix&)>& member, size_t description_max) {
    View list = make_list();
    for (const auto& [index, families] : m.group_families()) {
        const auto& g = m.policy.groups[index];
        for (Family f : families) {
            if (only && f != *only) continue;
            View members = make_list();
            std::string quoted;
            for (const auto& p : g.prefixes) {
                if (p.family() != f) continue;
                View o = make_object();
                o.set("address", member(p));
                members.push_back(o);
                quoted += (quoted.empty() ? "\"" : " \"") + member(p) + "\"";
            }
            View item = make_object();
            item.set("name", name(g, f));
            item.set("description", one_line(group_comment(g), description_max));
            item.set("members", members);
            item.set("members_quoted", quoted);
            list.push_back(item);
        }
    }
    return list;
}

std::vector<std::string> rule_service_names(const ExportRule& r, const ServiceNames& names) {
    std::vector<std::string> out;
    for (const auto& s : r.services) {
        if (s.protocol != Protocol::icmp) {
            out.push_back(names.named(s));
            continue;
        }
        for (const auto& m : icmp_matches(s, r.families))
            out.push_back(m.type ? names.icmp_named(m) : m.family == Family::v4 ? names.all_icmp4 : names.all_icmp6);
    }
    if (r.services.empty()) out.push_back(names.every);
    return out;
}

ExportResult render_config(const Model& m, const std::filesystem::path& dir, View& v, std::string_view target,
                           std::string_view extension) {
    ExportResult r;
    r.filename = fmt::format("{}-{}.{}", file_safe(m.policy.site), target, extension);
    set_defaulted_interfaces(v, m);
    r.text = render_template(dir, "config.mustache", v);
    return r;
}

void finish(ExportResult& r, const Model& m, std::string_view target, std::vector<std::string>&& warnings) {
    r.warnings = std::move(warnings);
    check_addresses(r.text, m, target, r.warnings);
}

}  // namespace wardgate::export_detail

namespace wardgate {

const std::vector<std::string>& export_targets() {
    static const std::vector<std::string> targets{"asa", "ios", "ios-switch", "panos", "fortios", "srx", "iptables", "nft"};
    return targets;
}

// Found from the running binary: <prefix>/bin/wardgate uses <prefix>/share/wardgate/templates,
// and a build tree keeps a copy in the same place relative to its binaries.
std::filesystem::path default_template_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto dir = ec ? std::filesystem::current_path() : exe.parent_path();
    std::vector<std::filesystem::path> candidates{dir.parent_path() / WARDGATE_TEMPLATE_SUBDIR, dir / WARDGATE_TEMPLATE_SUBDIR};
    for (const auto& c : candidates)
        if (std::filesystem::is_directory(c, ec)) return c;
    return candidates.front();
}

std::string ExportResult::combined() const {
    std::string out = text;
    for (const auto& c : companions) {
        if (!out.empty() && out.back() != '\n') out += '\n';
        out += "# ==> " + c.filename + " <==\n" + c.text;
    }
    return out;
}

namespace {

// Every target writes any IP protocol and ICMP(v6) messages; what some cannot say is a port of
// UDP-Lite (only nft matches it) and, on IOS (router and switch) and SRX, a port of SCTP (their access lists and
// applications take TCP and UDP ports only).
void require_expressible(const Policy& policy, std::string_view target) {
    const bool sctp_ports = target != "ios" && target != "ios-switch" && target != "srx";
    auto limit = [&](const Service& s) -> std::string {
        if (s.ports.empty()) return "";
        if (s.protocol == Protocol::udplite) return "UDP-Lite ports";
        if (s.protocol == Protocol::sctp && !sctp_ports) return "SCTP ports";
        return "";
    };
    auto others = [](const std::string& what) {
        return what == "SCTP ports" ? "The nft, iptables, asa, panos and fortios exports can." : "The nft export can.";
    };
    for (const auto& r : policy.rules)
        for (const auto& s : r.services) {
            std::string what = limit(s);
            if (what.empty()) continue;
            throw ExportLimit(fmt::format("the {} export cannot express {} (rule {}: {} -> {}, {}); nothing was written. {}",
                                          target, what, rule_id(policy, r), policy.groups[r.src].label,
                                          policy.groups[r.dst].label, r.why.empty() ? "" : r.why.front().source,
                                          others(what)));
        }
    for (const auto& h : policy.pinholes) {
        std::string what = limit(h.service());
        if (what.empty()) continue;
        throw ExportLimit(fmt::format("the {} export cannot express {} (observed baseline {} -> {}); nothing was "
                                      "written. {}",
                                      target, what, h.src.to_string(), h.dst.to_string(), others(what)));
    }
}

}  // namespace

std::string export_interface_refusal(std::string_view target, std::string_view key) {
    if (target == "nft" || target == "iptables")
        return fmt::format("the {} export names no interfaces: it filters by address on the gateway, whose own "
                           "interfaces carry the segments",
                           target);
    if (target == "ios-switch" && key == "trunk")
        return "the ios-switch export has no trunk interface: a Catalyst's segment VLANs are SVIs (name one with "
               "SEGMENT=Vlan110)";
    return "";
}

ExportResult render_export(const Policy& policy, std::string_view target, const std::filesystem::path& template_dir,
                           const ExportOptions& options) {
    using namespace export_detail;
    for (const auto& entry : options.interfaces) {
        const std::string& key = entry.first;  // a named reference: clang 14 cannot capture a structured binding
        const std::string& name = entry.second;
        bool known = key == "outside" || key == "trunk" ||
                     std::any_of(policy.segments.begin(), policy.segments.end(), [&](const SegmentIR& s) { return s.name == key; });
        if (!known)
            throw std::invalid_argument("interface for \"" + key + "\": no segment of the site has that name (expected a "
                                        "segment, outside or trunk)");
        if (name.empty() || name.find_first_of(" \t\"'") != std::string::npos)
            throw std::invalid_argument("interface for \"" + key + "\": \"" + name + "\" is no interface name");
        if (auto refusal = export_interface_refusal(target, key); !refusal.empty())
            throw std::invalid_argument("interface for \"" + key + "\": " + refusal);
    }
    if (target == "nft") {
        ExportResult r;
        r.filename = file_safe(policy.site) + "-nft.nft";
        r.text = render_nft(policy);
        return r;
    }
    require_expressible(policy, target);
    Model m(policy, options);
    auto dir = template_dir / std::string(target);
    if (target == "asa") return export_asa(m, dir);
    if (target == "ios") return export_ios(m, dir);
    if (target == "ios-switch") return export_ios_switch(m, dir);
    if (target == "panos") return export_panos(m, dir);
    if (target == "fortios") return export_fortios(m, dir);
    if (target == "srx") return export_srx(m, dir);
    if (target == "iptables") return export_iptables(m, dir);
    throw std::invalid_argument("unknown export target \"" + std::string(target) + "\" (expected one of asa, ios, "
                                "ios-switch, panos, fortios, srx, iptables, nft)");
}

}  // namespace wardgate
