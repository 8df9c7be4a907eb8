#pragma once
// Lays out a DOT graph and renders it as SVG with Graphviz's own library (libgvc), in
// process: no dot binary to find, no temporary files.
#include <stdexcept>
#include <string>

namespace wardgate {

class GraphRenderError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws GraphRenderError when Graphviz cannot read or lay out the graph.
std::string render_svg(const std::string& dot);

}  // namespace wardgate
