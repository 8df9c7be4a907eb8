#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "common.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/render/nft.hpp"

namespace wardgate::cli {

namespace {

// A device or endpoint name, or an address. `family` prefers that family when a name has both.
IpAddress resolve_address(const Site& site, const std::string& text, std::optional<Family> family, const char* field) {
    if (auto a = IpAddress::parse(text)) return *a;
    auto pick = [&](const std::vector<IpAddress>& addrs) -> std::optional<IpAddress> {
        for (const auto& a : addrs)
            if (!family || a.family == *family) return a;
        return addrs.empty() ? std::nullopt : std::optional<IpAddress>(addrs.front());
    };
    if (const Device* d = site.find_device(text))
        if (auto a = pick(d->addresses)) return *a;
    if (const Endpoint* e = site.find_endpoint(text)) {
        std::vector<IpAddress> addrs;
        for (const auto& p : e->prefixes) addrs.push_back(p.address);
        if (auto a = pick(addrs)) return *a;
    }
    throw InputError(Diagnostic{"command line", 0, 0, field,
                                "\"" + text + "\" is neither an address nor a device or endpoint of the site"});
}

// The connection asked about: a protocol, and its responder port or (ICMP) message.
struct Probe {
    Protocol protocol = Protocol::tcp;
    uint16_t port = 0;  // as Service::matches takes it
    std::string text;   // "tcp/443", "esp", "icmp/echo-request"
};

// tcp/PORT, udp/PORT, sctp/PORT, udplite/PORT, icmp, icmp/TYPE[:CODE], icmpv6/TYPE[:CODE], or
// a protocol without ports by name or number (esp, gre, 47). ICMP names and numbers are read
// in the family of the connection's addresses.
Probe parse_probe(const std::string& text, Family family) {
    auto fail = [&](const std::string& why) {
        return InputError(Diagnostic{"command line", 0, 0, "SERVICE", why + ", got \"" + text + "\""});
    };
    auto slash = text.find('/');
    std::string word = text.substr(0, slash);
    auto proto = parse_protocol(word);
    if (!proto)
        throw fail("expected tcp/PORT, udp/PORT, sctp/PORT, icmp, icmp/TYPE, icmpv6/TYPE or an IP protocol (esp, gre, 47)");
    std::string rest = slash == std::string::npos ? "" : text.substr(slash + 1);
    if (*proto == Protocol::icmp) {
        if (rest.empty()) return {Protocol::icmp, 0, "icmp"};
        std::string why;
        auto types = parse_icmp_type(rest, word == "icmpv6" || word == "ipv6-icmp" || word == "58", &why);
        if (!types) throw fail(why);
        for (const auto& t : *types) {
            if (t.family != family) continue;
            uint8_t code = t.code < 0 ? 0 : static_cast<uint8_t>(t.code);
            IcmpType shown{t.family, t.type, t.code};
            return {Protocol::icmp, icmp_port(t.type, code),
                    std::string(family == Family::v4 ? "icmp/" : "icmpv6/") + shown.to_string()};
        }
        throw fail(family == Family::v4 ? "the addresses are IPv4 and this is an ICMPv6 message"
                                        : "the addresses are IPv6: write icmpv6/TYPE for an ICMPv6 type number, or a name");
    }
    if (!has_ports(*proto)) {
        if (!rest.empty()) throw fail(to_string(*proto) + " has no ports");
        return {*proto, 0, to_string(*proto)};
    }
    auto port = PortRange::parse(rest);
    if (!port || port->first != port->last) throw fail(to_string(*proto) + " needs one port 0-65535 (" + to_string(*proto) + "/PORT)");
    return {*proto, port->first, to_string(*proto) + "/" + std::to_string(port->first)};
}

// Why the declarations and approvals that mention this flow do not let it through, a line each.
std::vector<std::string> unused_reasons(const Site& site, const AddressBook& book, const IpAddress& src,
                                        const IpAddress& dst, Protocol proto, uint16_t port, const Date& today,
                                        const std::vector<BaselineRefusal>& refused) {
    Entity from = book.resolve(src), to = book.resolve(dst);
    std::vector<std::string> out;
    auto stage_of = [&](const Entity& e) -> const Stance* {
        return e.kind == Entity::Kind::device ? &site.stance(site.devices[e.index].lifecycle) : nullptr;
    };
    for (const auto& a : site.approvals) {
        if (!a.service.matches(proto, port, src.family) || !peer_matches(a.from, from, book) || !peer_matches(a.to, to, book)) continue;
        if (a.expired(today)) {
            out.push_back(fmt::format("approval {} covers it but expired on {}", a.id, to_string(*a.expires)));
            continue;
        }
        for (const Entity* e : {&from, &to}) {
            const Stance* st = stage_of(*e);
            if (st && !st->approvals)
                out.push_back(fmt::format("approval {} covers it but {} is {}: its stance takes no approvals", a.id,
                                         site.devices[e->index].name, to_string(site.devices[e->index].lifecycle)));
        }
    }
    for (const Entity* e : {&from, &to}) {
        if (e->kind != Entity::Kind::device) continue;
        const Device& d = site.devices[e->index];
        const Profile* profile = site.find_profile(d.vendor, d.model);
        if (!profile) continue;
        const Entity* other = e == &from ? &to : &from;
        for (const auto& f : profile->flows) {
            if (!declaration_covers(f, *e, from, to, proto, port, src.family, book)) continue;
            const Stance* other_stance = stage_of(*other);
            if (other_stance && !other_stance->approvals)
                out.push_back(fmt::format("{} declares it ({}:{}) with the broad peer {}, but {} is {}: it is reached "
                                          "only by what its own profile declares",
                                          profile->label(), f.origin.file, f.origin.line, f.peer.to_string(),
                                          site.devices[other->index].name,
                                          to_string(site.devices[other->index].lifecycle)));
            else
                out.push_back(fmt::format("{} declares it ({}:{}) but the {} stance allows no internet access",
                                          profile->label(), f.origin.file, f.origin.line, to_string(d.lifecycle)));
        }
    }
    for (const auto& r : refused) {
        // ICMP refusals hold the observed message: any message of the pair answers the question.
        if (r.src != src || r.dst != dst || r.protocol != proto || (has_ports(proto) && r.port != port)) continue;
        out.push_back(fmt::format("the observed baseline does not keep it: {} ({})", heading(r.reason), r.detail));
    }
    if (out.empty()) out.push_back("nothing declares, approves or baselines this flow");
    return out;
}

}  // namespace

void add_explain_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string src, dst, service;
        std::string format = "text";
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("explain", "Say whether a new connection SRC -> DST PROTO/PORT is allowed, and by "
                                              "which rule and provenance, or what denies it.\n"
                                              "Exit status: 0 allowed, 2 denied, 1 error.");
    add_site_options(*cmd, o->site);
    cmd->add_option("src", o->src, "Initiator: device name, endpoint name or address")->required();
    cmd->add_option("dst", o->dst, "Responder: device name, endpoint name or address")->required();
    cmd->add_option("service", o->service,
                    "tcp/PORT, udp/PORT, sctp/PORT, icmp, icmp/TYPE[:CODE], icmpv6/TYPE[:CODE], or a protocol without "
                    "ports (esp, gre, 47)")
        ->required();
    cmd->add_option("--format", o->format, "text, or json (docs/schema/explain.schema.json)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto src = resolve_address(*p.site, o->src, std::nullopt, "SRC");
        auto dst = resolve_address(*p.site, o->dst, src.family, "DST");
        if (src.family != dst.family)
            throw InputError(Diagnostic{"command line", 0, 0, "DST",
                                        fmt::format("{} is an IPv{} address and {} an IPv{} address: a connection has "
                                                    "one address family",
                                                    src.to_string(), static_cast<int>(src.family), dst.to_string(),
                                                    static_cast<int>(dst.family))});
        const Probe probe = parse_probe(o->service, src.family);
        const uint16_t port = probe.port;
        Evaluator eval(p.policy);
        auto v = eval.evaluate(src, dst, probe.protocol, port);
        const auto& book = *p.book;
        const Policy& pol = p.policy;
        const std::string verdict =
            v.allowed ? "ALLOWED"
                      : (!v.monitored ? "DENIED"
                                      : v.monitored_device.empty()
                                            ? "WOULD BE DENIED (monitor mode lets it through)"
                                            : "WOULD BE DENIED (" + v.monitored_device + " is in monitor: let through)");
        std::string monitor_why;
        if (!v.monitored_device.empty())
            if (const Device* d = p.site->find_device(v.monitored_device))
                if (auto cause = p.site->monitor_cause(*d)) monitor_why = cause->why;
        std::vector<const Provenance*> why;
        if (v.by == Verdict::By::allow_rule || v.by == Verdict::By::deny_rule) {
            const Rule& r = pol.rules[v.rule];
            for (const auto& w : r.why)
                if (r.action == Rule::Action::deny || w.service.matches(probe.protocol, port, src.family)) why.push_back(&w);
        }
        std::vector<std::string> reasons;
        if (v.by == Verdict::By::default_deny)
            reasons = unused_reasons(*p.site, book, src, dst, probe.protocol, port, p.today, pol.refused);
        const bool typed_icmp = std::any_of(pol.rules.begin(), pol.rules.end(), [](const Rule& r) {
            return std::any_of(r.services.begin(), r.services.end(),
                               [](const Service& s) { return s.protocol == Protocol::icmp && !s.icmp_types.empty(); });
        });
        if (!v.allowed && probe.protocol == Protocol::icmp && port == 0 && typed_icmp)
            reasons.push_back("rules that name ICMP messages match only a named message: ask with icmp/TYPE (icmp/echo-request)");
        std::vector<const ObservedEdge*> observed;
        for (const auto& c : p.edges) {
            const auto& k = c.observed.key;
            if (k.initiator == src && k.responder == dst && k.protocol == probe.protocol &&
                (k.responder_port == port || (probe.protocol == Protocol::icmp && (k.responder_port == 0 || port == 0))))
                observed.push_back(&c.observed);
        }
        const std::string seg = v.segment.empty() ? "outside" : v.segment;
        exit_code = v.allowed ? 0 : 2;

        if (o->format == "json") {
            using nlohmann::json;
            const Service asked = flow_service(probe.protocol, port, src.family);
            json j{{"format", 1},
                   {"src", {{"name", book.name(book.resolve(src))}, {"address", src.to_string()}}},
                   {"dst", {{"name", book.name(book.resolve(dst))}, {"address", dst.to_string()}}},
                   {"service", service_list_json({asked})[0]},
                   {"service_text", probe.text},
                   {"allowed", v.allowed},
                   {"monitored", v.monitored && v.by == Verdict::By::default_deny},
                   {"monitored_device", v.monitored_device.empty() ? json(nullptr)
                                                                   : json{{"device", v.monitored_device}, {"why", monitor_why}}},
                   {"trial_deny", v.trial_deny ? json(pol.rules[*v.trial_deny].why.empty() ? std::string("deny")
                                                                                           : pol.rules[*v.trial_deny].why.front().source)
                                               : json(nullptr)},
                   {"by", v.by == Verdict::By::allow_rule  ? "allow-rule"
                          : v.by == Verdict::By::deny_rule ? "deny-rule"
                          : v.by == Verdict::By::pinhole   ? "baseline"
                          : v.by == Verdict::By::not_new   ? "not-new"
                                                           : "default-deny"},
                   {"rule", nullptr},
                   {"baseline", nullptr},
                   {"default_deny", nullptr},
                   {"reasons", reasons},
                   {"observed", json::array()}};
            if (v.by == Verdict::By::allow_rule || v.by == Verdict::By::deny_rule) {
                const Rule& r = pol.rules[v.rule];
                json reasons_json = json::array();
                for (const auto* w : why) reasons_json.push_back(provenance_json(*w));
                j["rule"] = {{"id", rule_id(pol, r)},
                             {"position", v.rule + 1},
                             {"action", r.action == Rule::Action::allow ? "allow" : "deny"},
                             {"src", pol.groups[r.src].label},
                             {"dst", pol.groups[r.dst].label},
                             {"services", service_list_json(r.services)},
                             {"why", reasons_json}};
            } else if (v.by == Verdict::By::pinhole) {
                j["baseline"] = provenance_json(pol.pinholes[v.pinhole].why);
            } else if (v.by == Verdict::By::default_deny) {
                j["default_deny"] = {{"segment", v.segment.empty() ? json(nullptr) : json(v.segment)},
                                     {"log_prefix", nft_log_prefix(seg, v.monitored)},
                                     {"nflog_group", pol.log_group ? json(pol.log_group) : json(nullptr)}};
            }
            for (const auto* e : observed)
                j["observed"].push_back({{"service", flow_service_text(e->key.protocol, e->key.responder_port, src.family)},
                                         {"connections", e->stats.connections},
                                         {"established", e->stats.established},
                                         {"last_seen", iso_time(e->stats.last_seen)},
                                         {"applications", application_names(e->stats.applications)}});
            std::cout << j.dump(2) << "\n";
            return;
        }

        std::cout << fmt::format("{} ({}) -> {} ({}) {}: {}\n", book.name(book.resolve(src)), src.to_string(),
                                 book.name(book.resolve(dst)), dst.to_string(), probe.text, verdict);
        switch (v.by) {
            case Verdict::By::allow_rule:
            case Verdict::By::deny_rule: {
                const Rule& r = pol.rules[v.rule];
                std::cout << fmt::format("  by rule {} ({}): {} {} -> {}\n", v.rule + 1, rule_id(pol, r),
                                         r.action == Rule::Action::allow ? "allow" : "deny", pol.groups[r.src].label,
                                         pol.groups[r.dst].label);
                for (const auto* w : why)
                    std::cout << fmt::format("  why: {}: {}{}{}{}{} [{}]\n", to_string(w->kind), w->source_and_document(),
                                             w->detail.empty() ? "" : " - " + w->detail,
                                             w->expires ? " (expires " + to_string(*w->expires) + ")" : "",
                                             w->ticket.empty() ? "" : " (ticket " + w->ticket + ")",
                                             w->owner.empty() ? "" : " (owner " + w->owner + ")", w->origin);
                break;
            }
            case Verdict::By::pinhole: {
                const auto& h = pol.pinholes[v.pinhole];
                std::cout << "  by the observed baseline: " << h.why.source << " - " << h.why.detail << "\n";
                break;
            }
            case Verdict::By::not_new:
                std::cout << fmt::format("  {} cannot start a connection: the gateway passes it only as the answer to a "
                                         "request, or an error of a connection, that it allowed, and drops it otherwise "
                                         "as invalid, before any rule and in every mode\n",
                                         probe.text);
                break;
            case Verdict::By::default_deny:
                std::cout << fmt::format("  by the default deny of {} (logged with prefix \"{}\"{})\n",
                                         v.segment.empty() ? "traffic outside the site's segments" : "segment " + seg,
                                         nft_log_prefix(seg, v.monitored),
                                         pol.log_group ? fmt::format(", NFLOG group {}", pol.log_group) : "");
                if (!v.monitored_device.empty())
                    std::cout << fmt::format("  {} is in monitor ({}): the packet is logged and let through\n",
                                             v.monitored_device, monitor_why);
                break;
        }
        if (v.trial_deny) {
            const Rule& r = pol.rules[*v.trial_deny];
            std::cout << fmt::format("  {} matches it but is on trial ({}): logged with prefix \"wardgate {} (monitor): \", not dropped\n",
                                     r.why.empty() ? "a deny" : r.why.front().source, r.why.empty() ? "" : r.why.front().origin,
                                     r.why.empty() ? "deny" : r.why.front().source);
        }
        for (const auto& line : reasons) std::cout << "  " << line << "\n";
        for (const auto* e : observed)
            std::cout << fmt::format("  observed: {} connections, last seen {}{}\n", e->stats.connections,
                                     iso_time(e->stats.last_seen),
                                     e->stats.applications ? ", carried " + to_string(e->stats.applications) : "");
    });
}

}  // namespace wardgate::cli
