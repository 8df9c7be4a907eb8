#include "common.hpp"
#include "wardgate/render/nft.hpp"

namespace wardgate::cli {

void add_compile_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("compile", "Compile the site into an nftables ruleset (nft -f script for table inet wardgate)");
    add_site_options(*cmd, o->site);
    add_gateway_option(*cmd, o->site);
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->callback([o] { emit(o->out, render_nft(load_pipeline(o->site).policy)); });
}

}  // namespace wardgate::cli
