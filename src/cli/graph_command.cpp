#include <iostream>

#include "common.hpp"
#include "wardgate/plan/policy_graph.hpp"
#include "wardgate/graph/comm_graph.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/render/graph_svg.hpp"

namespace wardgate::cli {

void add_graph_command(CLI::App& app, int&) {
    struct Options {
        SiteOptions site;
        std::string out;
        std::string format = "dot";
        std::string device;
        std::string segment;
        bool no_group = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("graph", "Draw the communication graph (Graphviz DOT or SVG): segments as clusters, "
                                            "edges coloured by why they exist (declared, approved, baseline, blocked), "
                                            "declared but unseen dashed, a legend; devices with identical needs grouped");
    add_site_options(*cmd, o->site);
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files");
    cmd->add_option("-o,--output", o->out, "Write to this file (atomically) instead of standard output");
    cmd->add_option("--format", o->format, "dot, or svg (laid out by Graphviz's library)")->check(CLI::IsMember({"dot", "svg"}));
    cmd->add_option("--device", o->device, "Draw only this device and what it talks to");
    cmd->add_option("--segment", o->segment, "Draw only this segment's members and what they talk to");
    cmd->add_flag("--no-group", o->no_group, "Draw every device, even those with identical needs");
    cmd->callback([o] {
        auto p = load_pipeline(o->site);
        if (!o->device.empty() && !p.site->find_device(o->device))
            bad_option("--device", "no device \"" + o->device + "\" in the site");
        if (!o->segment.empty() && !p.site->find_segment(o->segment))
            bad_option("--segment", "no segment \"" + o->segment + "\" in the site");
        auto graph = policy_graph(p);
        if (!o->device.empty())
            graph = graph.neighbourhood([&](const GraphVertex& v) { return v.name == o->device; });
        else if (!o->segment.empty())
            graph = graph.neighbourhood([&](const GraphVertex& v) { return v.segment == o->segment; });
        if (!o->no_group && o->device.empty()) graph = graph.grouped();
        std::string title = p.site->name;
        if (!o->device.empty()) title += ": " + o->device;
        if (!o->segment.empty()) title += ": segment " + o->segment;
        const std::string dot = graph.to_dot(title);
        emit(o->out, o->format == "svg" ? render_svg(dot) : dot);
        for (const auto& [cls, n] : graph.counts()) std::cerr << to_string(cls) << ": " << n << " edges\n";
    });
}

}  // namespace wardgate::cli
