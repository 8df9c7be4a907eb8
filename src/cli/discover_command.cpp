#include <iostream>

#include "common.hpp"
#include "wardgate/assess/discover.hpp"
#include "wardgate/plan/discover_report.hpp"

namespace wardgate::cli {

void add_discover_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        std::string out;
        std::string ieee_data = kIeeeDataDir.string();
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "discover",
        "Propose the inventory the flows show: every address the site does not know, what it says about itself "
        "(DHCP, DICOM, HL7), what it did, which profiles its behaviour matches; and inventory devices never seen");
    add_site_options(*cmd, o->site);
    cmd->add_option("--format", o->format,
                    "text (a review table), toml (devices.toml entries), csv (asset CSV rows) or json "
                    "(docs/schema/discover.schema.json)")
        ->check(CLI::IsMember({"text", "toml", "csv", "json"}));
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files");
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->add_option("--ieee-data", o->ieee_data,
                    "Directory of the IEEE MAC registries (oui.csv, mam.csv, oui36.csv) that name a MAC's manufacturer");
    cmd->callback([o] {
        auto p = load_pipeline(o->site);
        const MacVendors vendors = MacVendors::load(o->ieee_data);
        if (!vendors.available())
            std::cerr << "warning: no IEEE MAC registry in " << o->ieee_data << ": MACs are shown without their manufacturer\n";
        DiscoverOptions options;
        options.vendors = &vendors;
        const Discovery d = discover(*p.book, p.edges, p.sightings, p.macs, options);
        if (o->format == "toml") emit(o->out, discovery_toml(d, *p.site));
        else if (o->format == "csv") emit(o->out, discovery_csv(d));
        else if (o->format == "json") emit(o->out, discovery_json(d, *p.site));
        else emit(o->out, discovery_text(d, *p.site));
    });
}

}  // namespace wardgate::cli
