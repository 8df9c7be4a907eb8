#include <iostream>

#include "common.hpp"

namespace wardgate::cli {

void add_check_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        bool strict = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("check",
                                   "Load and validate the site and its flow files; print a summary and every warning the "
                                   "plan would print.\n"
                                   "Exit status: 0 valid, 1 errors (each with file, line and field), 2 warnings with --strict.");
    add_site_options(*cmd, o->site);
    cmd->add_flag("--strict", o->strict, "Exit 2 when there is any warning (for a CI job that guards a site repository)");
    cmd->callback([o, &exit_code] {
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
