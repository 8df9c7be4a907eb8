#include <fmt/format.h>

#include <iostream>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/policy_versions.hpp"

namespace wardgate::cli {

namespace fleet_cli {

struct Row {
    std::string gateway, instance, state, version, heartbeat, mode, problem;
};

}  // namespace fleet_cli

void add_fleet_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string db, site, format = "text";
        double stale = 60;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("fleet", "Every gateway following the published versions: the version it runs against "
                                            "the latest, its last heartbeat, drift, mode and errors.\n"
                                            "Exit status: 0 all current, 2 a gateway lags, errs, drifts, is silent or missing, 1 error.");
    cmd->add_option("--db", o->db, "postgresql://... database the versions are published in")->required();
    cmd->add_option("--site-name", o->site, "The published site (default: every site published there)");
    cmd->add_option("--stale", o->stale, "Seconds after which a heartbeat counts as silent")->check(CLI::PositiveNumber);
    cmd->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o, &exit_code] {
        if (!is_database_url(o->db)) bad_option("--db", "expected a postgresql:// URI");
        PolicyVersions db(o->db);
        auto sites = o->site.empty() ? db.sites() : std::vector<std::string>{o->site};
        bool trouble = false;
        nlohmann::json out = nlohmann::json::array();
        std::string text;
        for (const auto& site : sites) {
            auto latest = db.latest(site);
            if (!latest) {
                text += fmt::format("{}: nothing published\n", site);
                trouble = true;
                continue;
            }
            auto beats = db.heartbeats(site);
            text += fmt::format("{}: latest version {} ({} by {})\n", site, latest->id, latest->published_at, latest->author);
            nlohmann::json gateways = nlohmann::json::array();
            auto add = [&](const std::string& gateway, const Heartbeat* h) {
                std::string problem;
                if (!h) {
                    problem = "no heartbeat: not following";
                } else if (h->age_seconds > o->stale) {
                    problem = fmt::format("silent for {:.0f} s", h->age_seconds);
                } else if (!h->last_error.empty()) {
                    problem = h->last_error;
                } else if (h->applied_version != latest->id) {
                    problem = h->applied_version == 0 ? "nothing applied" : fmt::format("runs version {}", h->applied_version);
                } else if (h->drift) {
                    problem = "drift";
                }
                if (!problem.empty()) trouble = true;
                std::string name = gateway.empty() ? "(whole site)" : gateway;
                text += fmt::format("  {:<16} {:<16} version {:<6} {:<11} heartbeat {} ({:.0f} s ago)  {}\n", name,
                                    h ? h->instance : "-", h ? std::to_string(h->applied_version) : "-", h ? h->mode : "-",
                                    h ? h->beat_at : "never", h ? h->age_seconds : 0.0, problem.empty() ? "ok" : problem);
                gateways.push_back({{"gateway", gateway},
                                    {"instance", h ? h->instance : ""},
                                    {"applied_version", h ? h->applied_version : 0},
                                    {"mode", h ? h->mode : ""},
                                    {"drift", h ? h->drift : false},
                                    {"heartbeat", h ? h->beat_at : ""},
                                    {"heartbeat_age_seconds", h ? h->age_seconds : -1.0},
                                    {"last_error", h ? h->last_error : ""},
                                    {"ok", problem.empty()},
                                    {"problem", problem}});
            };
            // Every gateway the latest version has a slice for, and every instance that beats.
            for (const auto& s : latest->slices) {
                bool any = false;
                for (const auto& h : beats)
                    if (h.gateway == s.gateway) add(s.gateway, &h), any = true;
                if (!any && !s.gateway.empty()) add(s.gateway, nullptr);
            }
            out.push_back({{"site", site}, {"latest_version", latest->id}, {"published_at", latest->published_at},
                           {"author", latest->author}, {"gateways", gateways}});
        }
        if (o->format == "json")
            std::cout << out.dump(2) << "\n";
        else
            std::cout << (sites.empty() ? "nothing is published in " + db.name() + "\n" : text);
        exit_code = trouble || sites.empty() ? 2 : 0;
    });
}

}  // namespace wardgate::cli
