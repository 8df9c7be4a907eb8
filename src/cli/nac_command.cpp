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
        std::string radius_group = "wardgate", coa_client;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("nac", "Where devices plug in: the RADIUS server's files that put each device's "
                                          "switch port in its VLAN (MAC authentication bypass), or the access "
                                          "switch's configuration, or Cisco ISE's endpoints and policy");
    cmd->add_option("site", o->site, "Site directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("-t,--target", o->target, "freeradius (FreeRADIUS 3 files), ios-access (Cisco IOS-XE access "
                                              "switch: AAA, MAB, VLANs, the roles' port access lists) or ise (Cisco "
                                              "ISE: endpoints to import, ERS API bodies, authorization rules)")
        ->required()
        ->check(CLI::IsMember(nac_targets()));
    cmd->add_option("-o,--out", o->out, "Write the files under DIR (freeradius: mods-config/files/authorize, "
                                        "policy.d/wardgate; ios-access: ios-access/switch.cfg; ise: ise/...) "
                                        "instead of standard output");
    cmd->add_option("--radius-group", o->radius_group, "ios-access: the switch's RADIUS server group (default "
                                                       "wardgate)");
    cmd->add_option("--coa-client", o->coa_client, "ios-access: the RADIUS server's address, allowed to send Change "
                                                   "of Authorization (aaa server radius dynamic-author)");
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
        NacOptions options;
        if (o->radius_group.empty() || o->radius_group.find_first_of(" \t\"'") != std::string::npos)
            bad_option("--radius-group", "\"" + o->radius_group + "\" is no server group name");
        options.radius_group = o->radius_group;
        if (!o->coa_client.empty()) {
            options.coa_client = IpAddress::parse(o->coa_client);
            if (!options.coa_client) bad_option("--coa-client", "expected an IP address, got \"" + o->coa_client + "\"");
        }
        std::filesystem::path templates = o->templates.empty() ? default_template_dir() : std::filesystem::path(o->templates);
        NacResult r;
        bool configured = false;
        if (nac_target_needs_policy(o->target)) {
            // The access lists come from the compiled policy: the site with its flows.
            PipelineOptions popts;
            popts.today = today;
            Pipeline p = run_pipeline(o->site, popts);
            r = render_nac(*p.site, p.policy, o->target, templates, options);
            configured = p.site->nac.configured;
        } else {
            Site site = load_site(o->site);
            raise_stages_by_date(site, today);
            r = render_nac(site, o->target, templates);
            configured = site.nac.configured;
        }
        if (!configured) std::cerr << "warning: site.toml has no [nac] table: MACs of no device are rejected\n";
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
            // The server reads them as its own user (freerad); the passwords are the MACs, no secret;
            // the other targets' files are configuration a network team loads anyway.
            std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                   std::filesystem::perms::group_read |
                                                   std::filesystem::perms::others_read);
        }
    });
}

}  // namespace wardgate::cli
