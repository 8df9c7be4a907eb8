#include <iostream>
#include <map>

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
        std::vector<std::string> interfaces;
        bool srx_global_policies = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("export", "Export the compiled policy as another firewall's configuration "
                                             "(Cisco ASA or IOS, PAN-OS, FortiOS, Juniper SRX, iptables, nftables)");
    add_site_options(*cmd, o->site);
    add_gateway_option(*cmd, o->site);
    std::vector<std::string> choices = export_targets();
    choices.push_back("all");
    cmd->add_option("-t,--target", o->target, "asa, ios, ios-switch, panos, fortios, srx, iptables, nft, or all (needs --out)")
        ->required()
        ->check(CLI::IsMember(choices));
    cmd->add_option("-o,--out", o->out, "Write DIR/<site>-<target>.<ext> (atomically) instead of standard output");
    cmd->add_option("--templates", o->templates, "Template directory with one subdirectory per target (default: the "
                                                 "templates shipped with wardgate)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--interface", o->interfaces,
                    "The device's interface for a segment, outside (the uplink) or trunk (the VLAN port), as "
                    "KEY=NAME, e.g. icu=GigabitEthernet0/1.110; repeat for each (default: the target's, listed in "
                    "the file header); overrides site.toml's [export.TARGET] interfaces");
    cmd->add_flag("--srx-global-policies", o->srx_global_policies,
                  "srx: write the logged default denies as multizone global policies (Junos 15.1X49-D30 or 17.3R1 and "
                  "later) instead of one at the end of every zone pair");
    cmd->callback([o] {
        if (o->target == "all" && o->out.empty())
            throw InputError(Diagnostic{"command line", 0, 0, "--target", "all needs --out DIR"});
        Pipeline p = load_pipeline(o->site);
        std::filesystem::path templates = o->templates.empty() ? default_template_dir() : std::filesystem::path(o->templates);
        std::vector<std::string> targets = o->target == "all" ? export_targets() : std::vector<std::string>{o->target};
        std::map<std::string, std::string> command_line;
        for (const auto& item : o->interfaces) {
            auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
                throw InputError(Diagnostic{"command line", 0, 0, "--interface", "expected KEY=NAME, got " + item});
            command_line[item.substr(0, eq)] = item.substr(eq + 1);
        }
        // Render everything before writing anything, so a failing template leaves no partial output.
        std::vector<ExportResult> results;
        results.reserve(targets.size());
        for (const auto& t : targets) {
            // site.toml's [export.TARGET] interfaces, then --interface over them.
            ExportOptions options;
            for (const auto& e : p.site->exports)
                if (e.target == t) options.interfaces = e.interfaces;
            // With --target all, each --interface goes to the targets that take it.
            for (const auto& [key, name] : command_line)
                if (targets.size() == 1 || export_interface_refusal(t, key).empty()) options.interfaces[key] = name;
            options.srx_global_policies = o->srx_global_policies;
            try {
                results.push_back(render_export(p.policy, t, templates, options));
            } catch (const std::invalid_argument& e) {
                throw InputError(Diagnostic{"command line", 0, 0, "--interface", e.what()});
            } catch (const ExportLimit& e) {
                throw InputError(Diagnostic{"command line", 0, 0, "TARGET", e.what()});
            }
        }
        for (const auto& r : results)
            for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
        if (o->out.empty()) {
            std::cout << results.front().combined() << std::flush;
            return;
        }
        std::filesystem::path dir = o->out;
        std::filesystem::create_directories(dir);
        // Exports hold no secret (addresses, ports and names a firewall team loads anyway):
        // readable by everyone like any configuration file, not 0600 like wardgate's state.
        auto write = [&](const std::string& name, const std::string& text) {
            write_file_atomically(dir / name, text);
            std::filesystem::permissions(dir / name,
                                         std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                             std::filesystem::perms::group_read | std::filesystem::perms::others_read);
        };
        for (const auto& r : results) {
            write(r.filename, r.text);
            for (const auto& c : r.companions) write(c.filename, c.text);
        }
    });
}

}  // namespace wardgate::cli
