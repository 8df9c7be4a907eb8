#include <fmt/format.h>

#include <iostream>

#include "common.hpp"
#include "wardgate/plan/readiness.hpp"

namespace wardgate::cli {

namespace {

std::string readiness_text(const Readiness& r, const std::string& site) {
    std::string out = fmt::format("Readiness to enforce, {} (a device needs {} days observed, nothing enforcement would "
                                  "block, every required declared flow seen)\n\n",
                                  site, r.min_days);
    out += fmt::format("{:<20} {:<20} {:<14} {}\n", "DEVICE", "ROLE", "SEGMENT", "VERDICT");
    for (const auto& d : r.devices) out += fmt::format("{:<20} {:<20} {:<14} {}\n", d.device, d.role, d.segment, d.verdict);
    for (const auto& [title, groups] : {std::pair{"segment", &r.segments}, std::pair{"role", &r.roles}}) {
        out += fmt::format("\nBy {}:\n", title);
        for (const auto& g : *groups)
            out += fmt::format("  {:<22} {} of {} ready{}\n", g.name, g.ready, g.devices,
                               g.ready == g.devices ? ": ready to enforce" : "");
    }
    return out;
}

nlohmann::json readiness_json(const Readiness& r, const std::string& site) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& d : r.devices)
        devices.push_back({{"device", d.device},
                           {"role", d.role},
                           {"segment", d.segment},
                           {"days_observed", d.days_observed},
                           {"last_seen", d.last_seen.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.last_seen)},
                           {"would_block", d.would_block},
                           {"immature", d.immature},
                           {"declared_unseen", d.declared_unseen},
                           {"ready", d.ready},
                           {"verdict", d.verdict}});
    auto groups = [](const std::vector<GroupReadiness>& gs) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& g : gs) out.push_back({{"name", g.name}, {"devices", g.devices}, {"ready", g.ready}});
        return out;
    };
    return {{"format", 1}, {"site", site}, {"min_days", r.min_days}, {"devices", devices},
            {"segments", groups(r.segments)}, {"roles", groups(r.roles)}};
}

}  // namespace

void add_readiness_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        uint32_t days = 7;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "readiness",
        "Which devices, segments and roles are ready to enforce: days observed, flows enforcement would block (and "
        "which only want maturity), required declared flows never seen.\nExit status: 0 all ready, 2 some not, 1 error.");
    add_site_options(*cmd, o->site);
    cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--days", o->days, "Days of observation a device needs")->check(CLI::Range(1, 3650));
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files")
        ->check(existing_store());
    cmd->callback([o, &exit_code] {
        auto p = load_pipeline(o->site);
        auto r = assess_readiness(p, o->days);
        if (o->format == "json")
            std::cout << readiness_json(r, p.site->name).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        else
            std::cout << readiness_text(r, p.site->name);
        bool all = std::all_of(r.devices.begin(), r.devices.end(), [](const DeviceReadiness& d) { return d.ready; });
        exit_code = all ? 0 : 2;
    });
}

}  // namespace wardgate::cli
