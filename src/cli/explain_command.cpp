#include <fmt/format.h>

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

Service parse_service_arg(const std::string& text) {
    auto slash = text.find('/');
    auto proto = parse_protocol(text.substr(0, slash));
    if (proto && *proto == Protocol::icmp && slash == std::string::npos) return {Protocol::icmp, {}};
    if (proto && slash != std::string::npos) {
        auto port = PortRange::parse(text.substr(slash + 1));
        if (port && port->first == port->last) return {*proto, {*port}};
    }
    throw InputError(Diagnostic{"command line", 0, 0, "PROTO/PORT",
                                "expected tcp/PORT, udp/PORT or icmp with PORT 0-65535, got \"" + text + "\""});
}

// Why the declarations and approvals that mention this flow do not let it through.
void explain_unused_reasons(const Site& site, const AddressBook& book, const IpAddress& src, const IpAddress& dst,
                            Protocol proto, uint16_t port, const Date& today,
                            const std::vector<BaselineRefusal>& refused) {
    Entity from = book.resolve(src), to = book.resolve(dst);
    bool any = false;
    auto stage_of = [&](const Entity& e) -> const Stance* {
        return e.kind == Entity::Kind::device ? &site.stance(site.devices[e.index].lifecycle) : nullptr;
    };
    for (const auto& a : site.approvals) {
        if (!a.service.matches(proto, port) || !peer_matches(a.from, from, book) || !peer_matches(a.to, to, book)) continue;
        any = true;
        if (a.expired(today)) {
            std::cout << fmt::format("  approval {} covers it but expired on {}\n", a.id, to_string(*a.expires));
            continue;
        }
        for (const Entity* e : {&from, &to}) {
            const Stance* st = stage_of(*e);
            if (st && !st->approvals)
                std::cout << fmt::format("  approval {} covers it but {} is {}: its stance takes no approvals\n", a.id,
                                         site.devices[e->index].name, to_string(site.devices[e->index].lifecycle));
        }
    }
    for (const Entity* e : {&from, &to}) {
        if (e->kind != Entity::Kind::device) continue;
        const Device& d = site.devices[e->index];
        const Profile* profile = site.find_profile(d.vendor, d.model);
        if (!profile) continue;
        const Entity* other = e == &from ? &to : &from;
        for (const auto& f : profile->flows) {
            if (!declaration_covers(f, *e, from, to, proto, port, book)) continue;
            any = true;
            const Stance* other_stance = stage_of(*other);
            if (other_stance && !other_stance->approvals)
                std::cout << fmt::format("  {} declares it ({}:{}) with the broad peer {}, but {} is {}: it is reached "
                                         "only by what its own profile declares\n",
                                         profile->label(), f.origin.file, f.origin.line, f.peer.to_string(),
                                         site.devices[other->index].name,
                                         to_string(site.devices[other->index].lifecycle));
            else
                std::cout << fmt::format("  {} declares it ({}:{}) but the {} stance allows no internet access\n",
                                         profile->label(), f.origin.file, f.origin.line, to_string(d.lifecycle));
        }
    }
    for (const auto& r : refused) {
        if (r.src != src || r.dst != dst || r.protocol != proto || r.port != port) continue;
        any = true;
        std::cout << fmt::format("  the observed baseline does not keep it: {} ({})\n", heading(r.reason), r.detail);
    }
    if (!any) std::cout << "  nothing declares, approves or baselines this flow\n";
}

}  // namespace

void add_explain_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string src, dst, service;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("explain", "Say whether a new connection SRC -> DST PROTO/PORT is allowed, and by "
                                              "which rule and provenance, or what denies it.\n"
                                              "Exit status: 0 allowed, 2 denied, 1 error.");
    add_site_options(*cmd, o->site);
    cmd->add_option("src", o->src, "Initiator: device name, endpoint name or address")->required();
    cmd->add_option("dst", o->dst, "Responder: device name, endpoint name or address")->required();
    cmd->add_option("service", o->service, "tcp/PORT, udp/PORT or icmp")->required();
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto svc = parse_service_arg(o->service);
        auto src = resolve_address(*p.site, o->src, std::nullopt, "SRC");
        auto dst = resolve_address(*p.site, o->dst, src.family, "DST");
        if (src.family != dst.family)
            throw InputError(Diagnostic{"command line", 0, 0, "DST",
                                        fmt::format("{} is an IPv{} address and {} an IPv{} address: a connection has "
                                                    "one address family",
                                                    src.to_string(), static_cast<int>(src.family), dst.to_string(),
                                                    static_cast<int>(dst.family))});
        // `icmp/8` names no port the ruleset could match: ICMP flows and pinholes carry port 0.
        uint16_t port = svc.protocol == Protocol::icmp || svc.ports.empty() ? 0 : svc.ports[0].first;
        Evaluator eval(p.policy);
        auto v = eval.evaluate(src, dst, svc.protocol, port);
        const auto& book = *p.book;
        std::cout << fmt::format("{} ({}) -> {} ({}) {}: {}\n", book.name(book.resolve(src)), src.to_string(),
                                 book.name(book.resolve(dst)), dst.to_string(), svc.to_string(),
                                 v.allowed ? "ALLOWED" : (v.monitored ? "WOULD BE DENIED (monitor mode lets it through)" : "DENIED"));
        const Policy& pol = p.policy;
        switch (v.by) {
            case Verdict::By::allow_rule:
            case Verdict::By::deny_rule: {
                const Rule& r = pol.rules[v.rule];
                std::cout << fmt::format("  by rule {} ({}): {} {} -> {}\n", v.rule + 1, rule_id(pol, r),
                                         r.action == Rule::Action::allow ? "allow" : "deny", pol.groups[r.src].label,
                                         pol.groups[r.dst].label);
                for (const auto& w : r.why) {
                    if (r.action == Rule::Action::allow && !w.service.matches(svc.protocol, port)) continue;
                    std::cout << fmt::format("  why: {}: {}{}{}{}{} [{}]\n", to_string(w.kind), w.source_and_document(),
                                             w.detail.empty() ? "" : " - " + w.detail,
                                             w.expires ? " (expires " + to_string(*w.expires) + ")" : "",
                                             w.ticket.empty() ? "" : " (ticket " + w.ticket + ")",
                                             w.owner.empty() ? "" : " (owner " + w.owner + ")", w.origin);
                }
                break;
            }
            case Verdict::By::pinhole: {
                const auto& h = pol.pinholes[v.pinhole];
                std::cout << "  by the observed baseline: " << h.why.source << " - " << h.why.detail << "\n";
                break;
            }
            case Verdict::By::default_deny: {
                std::string seg = v.segment.empty() ? "outside" : v.segment;
                std::cout << fmt::format("  by the default deny of {} (logged with prefix \"{}\"{})\n",
                                         v.segment.empty() ? "traffic outside the site's segments" : "segment " + seg,
                                         nft_log_prefix(seg, v.monitored),
                                         pol.log_group ? fmt::format(", NFLOG group {}", pol.log_group) : "");
                explain_unused_reasons(*p.site, book, src, dst, svc.protocol, port, p.today, pol.refused);
                break;
            }
        }
        for (const auto& c : p.edges) {
            const auto& k = c.observed.key;
            if (k.initiator == src && k.responder == dst && k.protocol == svc.protocol && k.responder_port == port)
                std::cout << fmt::format("  observed: {} connections, last seen {}\n", c.observed.stats.connections,
                                         iso_time(c.observed.stats.last_seen));
        }
        exit_code = v.allowed ? 0 : 2;
    });
}

}  // namespace wardgate::cli
