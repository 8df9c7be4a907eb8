#include "wardgate/plan/discover_report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wardgate/core/csv.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/site/profile_toml.hpp"

namespace wardgate {

namespace {

std::string plural(size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

// "DHCP hostname "pump-07", MAC 00:1b:21:aa:bb:cc (Intel Corporate), ..." (empty when it said nothing).
std::string identity_text(const HostIdentity& id) {
    std::vector<std::string> parts;
    if (!id.hostname.empty()) parts.push_back("DHCP hostname \"" + id.hostname + "\"");
    if (!id.mac.empty())
        parts.push_back("MAC " + id.mac + (id.mac_vendor.empty() ? "" : " (" + id.mac_vendor + ")") +
                        (id.mac_from_frames ? " from its frames" : ""));
    if (!id.vendor_class.empty()) parts.push_back("vendor class \"" + id.vendor_class + "\"");
    if (!id.mud_url.empty()) parts.push_back("MUD URL " + id.mud_url);
    if (!id.dhcp_parameters.empty()) parts.push_back("DHCP parameters " + id.dhcp_parameters);
    for (const auto& t : id.ae_titles) parts.push_back("DICOM AE title \"" + t + "\"");
    for (const auto& a : id.hl7_applications) parts.push_back("HL7 sender " + a);
    return fmt::format("{}", fmt::join(parts, ", "));
}

// Flows [first, last) share direction, service and outcome: one line, peers listed up to four.
std::string flows_text(std::vector<HostFlow>::const_iterator first, std::vector<HostFlow>::const_iterator last) {
    std::vector<std::string> peers;
    uint64_t connections = 0;
    for (auto f = first; f != last; ++f) {
        if (peers.size() < 4) peers.push_back(f->peer);
        connections += f->connections;
    }
    const auto n = static_cast<size_t>(last - first);
    std::string who = n == 1 ? peers.front() : fmt::format("{} peers: {}", n, fmt::join(peers, ", "));
    if (n > peers.size()) who += fmt::format(" and {} more", n - peers.size());
    std::string out = fmt::format("{} {} {} ({}", first->service, first->initiated ? "to" : "from", who,
                                  plural(connections, "connection", "connections"));
    if (first->applications) out += ", " + to_string(first->applications);
    if (!first->answered && first->protocol == Protocol::tcp) out += ", never answered";
    return out + ")";
}

bool same_line(const HostFlow& a, const HostFlow& b) {
    return a.initiated == b.initiated && a.service == b.service && a.answered == b.answered &&
           a.applications == b.applications;
}

std::string proposal_summary(const DeviceProposal& p) {
    std::string out = p.name + ":";
    out += p.role.empty() ? " role to fill," : " role " + p.role + ",";
    out += p.profile ? " " + p.profile->label() + "," : " vendor and model to fill,";
    out += p.segment.empty() ? " segment to fill" : " segment " + p.segment;
    return out + "; lifecycle to fill";
}

}  // namespace

std::string discovery_text(const Discovery& d, const Site& site) {
    std::string out = fmt::format("{} the inventory does not have; {} never seen\n",
                                  plural(d.hosts.size(), "address", "addresses"),
                                  plural(d.unseen.size(), "inventory device", "inventory devices"));
    for (const auto& h : d.hosts) {
        out += fmt::format("\n{} {}, seen {} to {}\n", h.address.to_string(),
                           h.segment >= 0 ? "in segment " + site.segments[h.segment].name : "outside every segment",
                           iso_time(h.first_seen), iso_time(h.last_seen));
        auto row = [&](std::string_view label, const std::string& text, bool first) {
            out += fmt::format("  {:<9}{}\n", first ? label : "", text);
        };
        if (!h.identity.empty()) row("says", identity_text(h.identity), true);
        bool first_served = true, first_opened = true;
        for (auto f = h.flows.begin(); f != h.flows.end();) {
            auto end = std::find_if(f, h.flows.end(), [&](const HostFlow& g) { return !same_line(*f, g); });
            bool& first = f->initiated ? first_opened : first_served;
            row(f->initiated ? "opens" : "serves", flows_text(f, end), first);
            first = false;
            f = end;
        }
        bool first_match = true;
        for (const auto& m : h.matches) {
            std::string text = fmt::format("{}: {} of {} declared flows", m.profile->label(), m.seen, m.declared);
            if (m.required && m.required != m.declared) text += fmt::format(" ({} of {} required)", m.required_seen, m.required);
            if (m.undeclared) text += fmt::format(", {} it does not declare", plural(m.undeclared, "flow", "flows"));
            if (m.announced) text += ", its MUD URL announced";
            row("profiles", text, first_match);
            first_match = false;
        }
        if (h.matches.empty()) row("profiles", "none declares anything it did", true);
        row("propose", proposal_summary(h.proposal), true);
        row("", "why: " + h.proposal.why, false);
        if (!h.proposal.same_mac_as.empty())
            row("", "the inventory's " + h.proposal.same_mac_as + " has this MAC: it may have moved, or its address is wrong",
                false);
    }
    if (!d.silent.empty()) {
        std::vector<std::string> addresses;
        for (const auto& a : d.silent) addresses.push_back(a.to_string());
        out += fmt::format("\nNever heard from ({}): only sent to, never answered, so nothing shows a host there\n  {}\n",
                           d.silent.size(), fmt::join(addresses, " "));
    }
    if (!d.unaddressed.empty()) {
        out += "\nDHCP clients seen without an address\n";
        for (const auto& c : d.unaddressed) out += "  " + identity_text(c.identity) + ", first " + iso_time(c.first_seen) + "\n";
    }
    if (!d.unseen.empty()) {
        out += "\nInventory devices these flows never show\n";
        for (const Device* dev : d.unseen) {
            std::vector<std::string> addresses;
            for (const auto& a : dev->addresses) addresses.push_back(a.to_string());
            out += fmt::format("  {:<16} {:<28} {} ({} {})\n", dev->name, fmt::join(addresses, " "), dev->segment, dev->vendor,
                               dev->model);
        }
    }
    return out;
}

std::string discovery_toml(const Discovery& d, const Site& site) {
    std::string out = fmt::format(
        "# Devices wardgate discover proposes for {}: review every entry before adding it to the\n"
        "# inventory. Empty fields and the commented lifecycle are for a person to fill; the site\n"
        "# will not load an entry until they are.\n",
        site.name);
    for (const Device* dev : d.unseen) out += "# never seen in these flows: " + dev->name + "\n";
    for (const auto& h : d.hosts) {
        const DeviceProposal& p = h.proposal;
        out += "\n# " + h.address.to_string() + ": " + p.why + "\n";
        if (!h.identity.empty()) out += "# says: " + identity_text(h.identity) + "\n";
        if (!p.same_mac_as.empty()) out += "# the inventory's " + p.same_mac_as + " has this MAC\n";
        out += "[[device]]\n";
        out += "name = " + toml_quote(p.name) + "\n";
        out += "addresses = [" + toml_quote(h.address.to_string()) + "]\n";
        if (!h.identity.mac.empty()) out += "mac = " + toml_quote(h.identity.mac) + "\n";
        out += "role = " + toml_quote(p.role) + "\n";
        out += "vendor = " + toml_quote(p.vendor) + "\n";
        out += "model = " + toml_quote(p.model) + "\n";
        out += "segment = " + toml_quote(p.segment) + "\n";
        out += "# lifecycle = \"\"   # to fill: support | limited-support | end-of-support\n";
    }
    return out;
}

std::string discovery_csv(const Discovery& d) {
    std::string out = "name,addresses,mac,role,vendor,model,segment,lifecycle,evidence\n";
    for (const auto& h : d.hosts) {
        const DeviceProposal& p = h.proposal;
        std::string evidence = p.why;
        if (!h.identity.empty()) evidence += "; says: " + identity_text(h.identity);
        for (const std::string& field : {p.name, h.address.to_string(), h.identity.mac, p.role, p.vendor, p.model, p.segment,
                                         std::string(), evidence})
            out += csv_field(field) + ",";
        out.back() = '\n';
    }
    return out;
}

namespace {

nlohmann::json identity_json(const HostIdentity& id) {
    nlohmann::json j = nlohmann::json::object();
    auto text = [&](const char* key, const std::string& value) {
        if (!value.empty()) j[key] = value;
    };
    text("mac", id.mac);
    if (!id.mac.empty()) j["mac_source"] = id.mac_from_frames ? "frames" : "dhcp";
    text("mac_vendor", id.mac_vendor);
    text("hostname", id.hostname);
    text("vendor_class", id.vendor_class);
    text("mud_url", id.mud_url);
    text("dhcp_parameters", id.dhcp_parameters);
    if (!id.ae_titles.empty()) j["ae_titles"] = id.ae_titles;
    if (!id.hl7_applications.empty()) j["hl7_applications"] = id.hl7_applications;
    return j;
}

}  // namespace

std::string discovery_json(const Discovery& d, const Site& site) {
    using nlohmann::json;
    json hosts = json::array();
    for (const auto& h : d.hosts) {
        json flows = json::array();
        for (const auto& f : h.flows)
            flows.push_back({{"direction", f.initiated ? "opens" : "serves"}, {"peer", f.peer},
                             {"peer_address", f.peer_address.to_string()}, {"service", f.service},
                             {"connections", f.connections}, {"answered", f.answered},
                             {"applications", application_names(f.applications)}});
        json matches = json::array();
        for (const auto& m : h.matches)
            matches.push_back({{"profile", m.profile->label()}, {"declared", m.declared}, {"seen", m.seen},
                               {"required", m.required}, {"required_seen", m.required_seen},
                               {"undeclared", m.undeclared}, {"announced", m.announced}});
        const DeviceProposal& p = h.proposal;
        json proposal = {{"name", p.name}, {"role", p.role}, {"vendor", p.vendor}, {"model", p.model},
                         {"segment", p.segment}, {"why", p.why}, {"lifecycle", nullptr}};
        if (!p.same_mac_as.empty()) proposal["same_mac_as"] = p.same_mac_as;
        hosts.push_back({{"address", h.address.to_string()},
                         {"segment", h.segment >= 0 ? json(site.segments[h.segment].name) : json(nullptr)},
                         {"first_seen", iso_time(h.first_seen)}, {"last_seen", iso_time(h.last_seen)},
                         {"identity", identity_json(h.identity)}, {"flows", flows}, {"profiles", matches},
                         {"undeclared_by_any", h.undeclared_by_any}, {"proposal", proposal}});
    }
    json silent = json::array();
    for (const auto& a : d.silent) silent.push_back(a.to_string());
    json unaddressed = json::array();
    for (const auto& c : d.unaddressed)
        unaddressed.push_back({{"identity", identity_json(c.identity)}, {"first_seen", iso_time(c.first_seen)}});
    json unseen = json::array();
    for (const Device* dev : d.unseen) {
        json addresses = json::array();
        for (const auto& a : dev->addresses) addresses.push_back(a.to_string());
        unseen.push_back({{"name", dev->name}, {"addresses", addresses}, {"segment", dev->segment},
                          {"vendor", dev->vendor}, {"model", dev->model}});
    }
    json j = {{"format", 1}, {"site", site.name}, {"hosts", hosts}, {"silent", silent},
              {"unaddressed", unaddressed}, {"unseen", unseen}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace wardgate
