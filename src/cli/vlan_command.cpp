#include <iostream>

#include "common.hpp"
#include "wardgate/netlink/vlan.hpp"
#include "wardgate/site/load.hpp"

namespace wardgate::cli {

void add_vlan_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string site, trunk, gateway;
        bool dry_run = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("vlan", "Create the segments' VLAN links <trunk>.<vlan> with their gateway addresses.\n"
                                           "Idempotent; links wardgate does not own (ifalias wardgate:<segment>) are left alone.\n"
                                           "Exit status: 0 done, 1 error or a link in the way.");
    cmd->add_option("site", o->site, "Site directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--trunk", o->trunk, "The trunk interface the VLAN links sit on (default: the --gateway's trunk)");
    cmd->add_option("--gateway", o->gateway, "A [[gateway]] of site.toml: only the segments it routes");
    cmd->add_flag("--dry-run", o->dry_run, "Only print what would change");
    cmd->callback([o, &exit_code] {
        if (!o->trunk.empty() && !is_interface_name(o->trunk)) bad_option("--trunk", not_an_interface_name(o->trunk));
        Site site = load_site(o->site);
        if (!o->gateway.empty() && !site.find_gateway(o->gateway))
            bad_option("--gateway", "site.toml declares no gateway \"" + o->gateway + "\"");
        if (o->trunk.empty() && !o->gateway.empty()) o->trunk = site.find_gateway(o->gateway)->trunk;
        if (o->trunk.empty())
            bad_option("--trunk", o->gateway.empty() ? "is required (or a --gateway whose [[gateway]] names its trunk)"
                                                     : "is required: gateway " + o->gateway + " names no trunk in site.toml");
        auto desired = netlink::desired_vlan_links(site, o->trunk, o->gateway);
        auto plan = netlink::plan_vlan_links_live(desired, o->trunk);
        std::cout << netlink::print_vlan_plan(plan);
        if (!o->dry_run && plan.changes()) {
            netlink::apply_vlan_plan(plan, o->trunk);
            std::cout << "applied " << plan.ops.size() << " change(s)\n";
        } else if (!plan.changes()) {
            std::cout << "VLAN links are up to date\n";
        }
        if (!plan.conflicts.empty()) exit_code = 1;
    });
}

}  // namespace wardgate::cli
