#include <iostream>

#include <nlohmann/json.hpp>

#include "common.hpp"

namespace wardgate::cli {

namespace {

// check --format json (docs/schema/check.schema.json): the same facts as the text, and the
// errors as data when the site does not load.
nlohmann::json check_json(const Pipeline* p, const std::vector<Diagnostic>& errors) {
    using nlohmann::json;
    json j{{"format", 1}, {"valid", errors.empty()}, {"site", nullptr}, {"counts", nullptr},
           {"flow_files", json::array()}, {"errors", json::array()}, {"warnings", 0}, {"notes", json::array()}};
    for (const auto& d : errors)
        j["errors"].push_back({{"file", d.file}, {"line", d.line}, {"column", d.column}, {"field", d.field},
                               {"message", d.message}});
    if (!p) return j;
    const Site& s = *p->site;
    j["site"] = s.name;
    j["counts"] = {{"segments", s.segments.size()}, {"devices", s.devices.size()},   {"endpoints", s.endpoints.size()},
                   {"profiles", s.profiles.size()}, {"approvals", s.approvals.size()}, {"denies", s.denies.size()},
                   {"observed_edges", p->edges.size()}};
    for (const auto& r : p->reads) {
        json skipped = json::array();
        for (const auto& [reason, n] : r.summary.skipped) skipped.push_back({{"reason", reason}, {"count", n}});
        j["flow_files"].push_back({{"file", r.file.string()},
                                   {"rows", r.summary.rows},
                                   {"accepted", r.summary.accepted},
                                   {"skipped", skipped},
                                   {"incomplete", r.summary.incomplete}});
    }
    int warnings = 0;
    for (const auto& n : p->policy.notes) {
        bool warning = n.level == PolicyNote::Level::warning;
        warnings += warning;
        j["notes"].push_back({{"level", warning ? "warning" : "info"}, {"code", n.code}, {"subject", n.subject},
                              {"message", n.message}});
    }
    j["warnings"] = warnings;
    return j;
}

}  // namespace

void add_check_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        bool strict = false;
        std::string format = "text";
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("check",
                                   "Load and validate the site and its flow files; print a summary and every warning the "
                                   "plan would print.\n"
                                   "Exit status: 0 valid, 1 errors (each with file, line and field), 2 warnings with --strict.");
    add_site_options(*cmd, o->site);
    cmd->add_flag("--strict", o->strict, "Exit 2 when there is any warning (for a CI job that guards a site repository)");
    cmd->add_option("--format", o->format, "text, or json (docs/schema/check.schema.json; errors too are JSON)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o, &exit_code] {
        if (o->format == "json") {
            std::optional<Pipeline> p;
            try {
                p.emplace(load_pipeline(o->site));
            } catch (const InputError& e) {
                std::cout << check_json(nullptr, e.diagnostics()).dump(2) << "\n";
                exit_code = 1;
                return;
            }
            auto j = check_json(&*p, {});
            std::cout << j.dump(2) << "\n";
            if (o->strict && j["warnings"].get<int>() > 0) exit_code = 2;
            return;
        }
        auto p = load_pipeline(o->site);
        const Site& s = *p.site;
        std::cout << s.name << ": " << s.segments.size() << " segments, " << s.devices.size() << " devices, "
                  << s.endpoints.size() << " endpoints, " << s.profiles.size() << " profiles, " << s.approvals.size()
                  << " approvals, " << s.denies.size() << " denies\n";
        for (const auto& r : p.reads) {
            std::cout << r.file.filename().string() << ": " << r.summary.rows << " rows, " << r.summary.accepted
                      << " flows";
            for (const auto& [reason, n] : r.summary.skipped) std::cout << ", " << n << " skipped (" << reason << ")";
            std::cout << "\n";
        }
        std::cout << p.edges.size() << " observed edges\n";
        size_t warnings = 0;
        for (const auto& n : p.policy.notes)
            if (n.level == PolicyNote::Level::warning) {
                std::cout << "warning: " << n.message << "\n";
                ++warnings;
            }
        std::cout << warnings << " warning" << (warnings == 1 ? "" : "s") << "\n";
        if (o->strict && warnings) exit_code = 2;
    });
}

}  // namespace wardgate::cli
