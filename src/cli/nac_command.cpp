#include <iostream>

#include "common.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/render/nac.hpp"
#include "wardgate/site/load.hpp"

namespace wardgate::cli {

void add_nac_command(CLI::App& app, int&) {
    struct Options {
        std::string site, target, out, templates, today;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("nac", "Where devices plug in: the RADIUS server's files that put each device's "
                                          "switch port in its VLAN (MAC authentication bypass)");
    cmd->add_option("site", o->site, "Site directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("-t,--target", o->target, "freeradius")->required()->check(CLI::IsMember(nac_targets()));
    cmd->add_option("-o,--out", o->out, "Write the files under DIR (mods-config/files/authorize, policy.d/wardgate) "
                                        "instead of standard output");
    cmd->add_option("--templates", o->templates, "Template directory with one subdirectory per target (default: the "
                                                 "templates shipped with wardgate)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--today", o->today, "Day the devices' life-cycle dates are read against, YYYY-MM-DD (default: "
                                         "today, UTC)");
    cmd->callback([o] {
        Date today = today_utc();
        if (!o->today.empty()) {
            auto d = parse_date(o->today);
            if (!d) bad_option("--today", "expected a date YYYY-MM-DD, got \"" + o->today + "\"");
            today = *d;
        }
        Site site = load_site(o->site);
        raise_stages_by_date(site, today);
        std::filesystem::path templates = o->templates.empty() ? default_template_dir() : std::filesystem::path(o->templates);
        NacResult r = render_nac(site, o->target, templates);
        if (!site.nac.configured)
            std::cerr << "warning: site.toml has no [nac] table: MACs of no device are rejected\n";
        for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
        if (o->out.empty()) {
            for (const auto& f : r.files) std::cout << "# ==> " << f.filename << " <==\n" << f.text;
            std::cout << std::flush;
            return;
        }
        for (const auto& f : r.files) {
            auto path = std::filesystem::path(o->out) / f.filename;
            std::filesystem::create_directories(path.parent_path());
            write_file_atomically(path, f.text);
            // The server reads them as its own user (freerad); the passwords are the MACs, no secret.
            std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                   std::filesystem::perms::group_read |
                                                   std::filesystem::perms::others_read);
        }
    });
}

}  // namespace wardgate::cli
