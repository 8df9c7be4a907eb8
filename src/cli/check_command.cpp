#include <iostream>

#include "common.hpp"

namespace wardgate::cli {

void add_check_command(CLI::App& app, int&) {
    auto o = std::make_shared<SiteOptions>();
    auto* cmd = app.add_subcommand("check", "Load and validate the site and its flow files; print a summary");
    add_site_options(*cmd, *o);
    cmd->callback([o] {
        auto p = load_pipeline(*o);
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
    });
}

}  // namespace wardgate::cli
