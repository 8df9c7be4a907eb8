#include <iostream>

#include "common.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/render/export.hpp"

namespace wardgate::cli {

void add_export_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string target;
        std::string out;
        std::string templates;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("export", "Export the compiled policy as another firewall's configuration "
                                             "(Cisco ASA or IOS, PAN-OS, FortiOS, Juniper SRX, iptables, nftables)");
    add_site_options(*cmd, o->site);
    std::vector<std::string> choices = export_targets();
    choices.push_back("all");
    cmd->add_option("-t,--target", o->target, "asa, ios, panos, fortios, srx, iptables, nft, or all (needs --out)")
        ->required()
        ->check(CLI::IsMember(choices));
    cmd->add_option("-o,--out", o->out, "Write DIR/<site>-<target>.<ext> (atomically) instead of standard output");
    cmd->add_option("--templates", o->templates, "Template directory with one subdirectory per target (default: the "
                                                 "templates shipped with wardgate)")
        ->check(CLI::ExistingDirectory);
    cmd->callback([o] {
        if (o->target == "all" && o->out.empty())
            throw InputError(Diagnostic{"command line", 0, 0, "--target", "all needs --out DIR"});
        Pipeline p = load_pipeline(o->site);
        std::filesystem::path templates = o->templates.empty() ? default_template_dir() : std::filesystem::path(o->templates);
        std::vector<std::string> targets = o->target == "all" ? export_targets() : std::vector<std::string>{o->target};
        // Render everything before writing anything, so a failing template leaves no partial output.
        std::vector<ExportResult> results;
        results.reserve(targets.size());
        for (const auto& t : targets) results.push_back(render_export(p.policy, t, templates));
        for (const auto& r : results)
            for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
        if (o->out.empty()) {
            std::cout << results.front().combined() << std::flush;
            return;
        }
        std::filesystem::path dir = o->out;
        std::filesystem::create_directories(dir);
        for (const auto& r : results) {
            write_file_atomically(dir / r.filename, r.text);
            for (const auto& c : r.companions) write_file_atomically(dir / c.filename, c.text);
        }
    });
}

}  // namespace wardgate::cli
