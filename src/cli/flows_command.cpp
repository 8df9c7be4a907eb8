#include <iostream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "wardgate/graph/classify.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::cli {

namespace {

struct FlowsOptions {
    std::string db;
    std::string site;
    std::string today;
    std::string device;
    std::string segment;
    int port = -1;
    std::string protocol;
    std::string since;
    std::string until;
    std::string source;
    bool unexplained = false;
    std::string application;
    std::string format = "text";
};

double time_option(const std::string& option, const std::string& text) {
    auto t = parse_time_argument(text);
    if (!t) bad_option(option, "expected an ISO 8601 time (2026-03-01, 2026-03-01T08:00:00Z) or epoch seconds, got \"" + text + "\"");
    return *t;
}

std::string status_of(const ClassifiedEdge& c) {
    if (!c.declared.empty()) return "declared";
    if (!c.approvals.empty()) return "approved";
    return "unexplained";
}

void run(const FlowsOptions& o) {
    if (o.site.empty() && (!o.device.empty() || !o.segment.empty() || o.unexplained))
        bad_option("--site", "--device, --segment and --unexplained need --site");
    if (!is_database_url(o.db) && !std::filesystem::exists(o.db)) bad_option("--db", "no such baseline database: " + o.db);

    EdgeQuery q;
    if (!o.since.empty()) q.since = time_option("--since", o.since);
    if (!o.until.empty()) q.until = time_option("--until", o.until);
    if (!o.source.empty()) q.source = o.source;
    if (o.port >= 0) q.port = static_cast<uint16_t>(o.port);
    if (!o.protocol.empty()) {
        q.protocol = parse_protocol(o.protocol);
        if (!q.protocol) bad_option("--protocol", "expected tcp, udp or icmp, got \"" + o.protocol + "\"");
    }

    std::optional<Site> site;
    std::optional<AddressBook> book;
    int segment = -1;
    if (!o.site.empty()) {
        site.emplace(load_site(o.site));
        book.emplace(*site);
        if (!o.device.empty()) {
            const Device* d = site->find_device(o.device);
            if (!d) bad_option("--device", "no device named \"" + o.device + "\" in the site");
            q.addresses = d->addresses;
        }
        if (!o.segment.empty()) {
            const Segment* s = site->find_segment(o.segment);
            if (!s) bad_option("--segment", "no segment named \"" + o.segment + "\" in the site");
            segment = static_cast<int>(s - site->segments.data());
        }
    }

    std::optional<Application> application;
    if (!o.application.empty()) {
        application = parse_application(o.application);
        if (!application)
            bad_option("--application", "expected dicom, hl7, dhcp, telnet, ftp, tftp, http, vnc, rdp, smb1 or snmp, got \"" +
                                            o.application + "\"");
    }

    BaselineStore store(o.db);
    std::vector<ObservedEdge> edges = store.edges(q);
    // What showed each application, by edge: also those seen only in flows nobody answered,
    // which label no edge (see pcap.hpp) but belong in what an engineer reads.
    std::map<EdgeKey, std::vector<ApplicationSighting>> evidence;
    for (auto& s : store.sightings(q.addresses)) evidence[s.key].push_back(std::move(s));
    auto seen_on = [&](const ObservedEdge& e) {
        ApplicationSet set = e.stats.applications;
        if (auto it = evidence.find(e.key); it != evidence.end())
            for (const auto& s : it->second) set |= application_bit(s.application);
        return set;
    };
    if (application)
        std::erase_if(edges, [&](const ObservedEdge& e) { return !contains(seen_on(e), *application); });

    nlohmann::json json = nlohmann::json::array();
    auto emit_edge = [&](const ObservedEdge& e, const std::string& from, const std::string& to, const std::string& status) {
        const EdgeKey& k = e.key;
        std::string service = flow_service_text(k.protocol, k.responder_port, k.initiator.family);
        const auto found = evidence.find(k);
        const std::vector<ApplicationSighting> none;
        const auto& sightings = found == evidence.end() ? none : found->second;
        const ApplicationSet carried = seen_on(e);
        const std::string applications = to_string(carried);
        if (o.format == "json") {
            nlohmann::json j = {{"initiator", {{"address", k.initiator.to_string()}, {"name", from}}},
                                {"responder", {{"address", k.responder.to_string()}, {"name", to}}},
                                {"protocol", to_string(k.protocol)},
                                {"port", k.responder_port},
                                {"first_seen", iso_time(e.stats.first_seen)},
                                {"last_seen", iso_time(e.stats.last_seen)},
                                {"connections", e.stats.connections},
                                {"bytes", e.stats.bytes},
                                {"established", e.stats.established},
                                {"days_seen", e.stats.days_seen}};
            if (!status.empty()) j["status"] = status;
            if (!applications.empty()) {
                j["applications"] = application_names(carried);
                for (const auto& s : sightings)
                    j["application_evidence"].push_back({{"application", to_string(s.application)},
                                                         {"first_seen", iso_time(s.first_seen)},
                                                         {"detail", s.detail}});
            }
            json.push_back(std::move(j));
        } else {
            std::cout << fmt::format("{} -> {} {} {}..{} {} conn {} bytes{}{}{}\n", from, to, service,
                                     iso_time(e.stats.first_seen), iso_time(e.stats.last_seen), e.stats.connections,
                                     e.stats.bytes, e.stats.established ? "" : " unanswered",
                                     applications.empty() ? "" : " app " + applications,
                                     status.empty() ? "" : " [" + status + "]");
            // A broadcast DHCP edge carries every client's messages: the first few, then a count.
            constexpr size_t kShownSightings = 5;
            for (size_t i = 0; i < sightings.size() && i < kShownSightings; ++i)
                std::cout << fmt::format("    {} {}: {}\n", to_string(sightings[i].application),
                                         iso_time(sightings[i].first_seen), sightings[i].detail);
            if (sightings.size() > kShownSightings)
                std::cout << fmt::format("    ... {} more (--format json lists them all)\n", sightings.size() - kShownSightings);
        }
    };

    size_t shown = 0;
    if (book) {
        Date today = o.today.empty() ? today_utc() : [&] {
            auto d = parse_date(o.today);
            if (!d) bad_option("--today", "expected a date YYYY-MM-DD, got \"" + o.today + "\"");
            return *d;
        }();
        for (const auto& c : classify_edges(edges, *book, today)) {
            if (segment >= 0 && c.initiator.segment != segment && c.responder.segment != segment) continue;
            if (o.unexplained && c.explained()) continue;
            emit_edge(c.observed, book->name(c.initiator), book->name(c.responder), status_of(c));
            ++shown;
        }
    } else {
        for (const auto& e : edges) {
            emit_edge(e, e.key.initiator.to_string(), e.key.responder.to_string(), "");
            ++shown;
        }
    }
    if (o.format == "json")
        std::cout << json.dump(2) << "\n";
    else
        std::cout << shown << " edge" << (shown == 1 ? "" : "s") << "\n";
}

}  // namespace

void add_flows_command(CLI::App& app, int&) {
    auto o = std::make_shared<FlowsOptions>();
    auto* cmd = app.add_subcommand("flows", "List edges from the baseline database, optionally per device, segment, port or time");
    cmd->add_option("--db", o->db, "Baseline database (wardgate ingest)")->required();
    cmd->add_option("--site", o->site, "Site directory: names devices and classifies edges")->check(CLI::ExistingDirectory);
    cmd->add_option("--today", o->today, "Day approvals expire against, YYYY-MM-DD (default: today, UTC)");
    cmd->add_option("--device", o->device, "Only edges to or from this device");
    cmd->add_option("--segment", o->segment, "Only edges with an end in this segment");
    cmd->add_option("--port", o->port, "Only edges to this responder port")->check(CLI::Range(0, 65535));
    cmd->add_option("--protocol", o->protocol, "Only tcp, udp or icmp edges");
    cmd->add_option("--since", o->since, "Only edges last seen at or after this time (ISO 8601)");
    cmd->add_option("--until", o->until, "Only edges first seen at or before this time (ISO 8601)");
    cmd->add_option("--source", o->source,
                    "Only edges recorded under this source: pcap, zeek-tsv, zeek-json, csv, netflow, conntrack, "
                    "nflog (denied attempts), or a label given to ingest or collect with --source");
    cmd->add_flag("--unexplained", o->unexplained, "Only edges no profile or approval explains");
    cmd->add_option("--application", o->application,
                    "Only edges that carried this application, recognised in captures or named by Zeek: dicom, hl7, "
                    "dhcp, telnet, ftp, tftp, http, vnc, rdp, smb1, snmp");
    cmd->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o] { run(*o); });
}

}  // namespace wardgate::cli
