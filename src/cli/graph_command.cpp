#include <iostream>

#include "common.hpp"
#include "wardgate/graph/comm_graph.hpp"

namespace wardgate::cli {

void add_graph_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string out;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("graph", "Write the communication graph as Graphviz DOT (segments as clusters, "
                                            "unexplained edges in red, declared but unseen dashed)");
    add_site_options(*cmd, o->site);
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->callback([o] {
        auto p = load_pipeline(o->site);
        auto graph = CommGraph::build(p.edges, *p.book);
        emit(o->out, graph.to_dot(p.site->name));
        for (const auto& [cls, n] : graph.counts()) std::cerr << to_string(cls) << ": " << n << " edges\n";
    });
}

}  // namespace wardgate::cli
