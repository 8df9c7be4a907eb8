#pragma once
// The communication graph: who talks to whom, and why each edge exists.
#include <boost/graph/adjacency_list.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/graph/classify.hpp"

namespace wardgate {

// Why an edge is there. baseline and blocked come from the compiled policy (see
// GraphOptions::verdict); without it an observed edge nothing declares is unexplained.
enum class EdgeClass { declared_seen, declared_unseen, approved_seen, baseline, blocked, unexplained };
std::string_view to_string(EdgeClass c);

struct GraphVertex {
    std::string name;
    std::string kind;     // device, endpoint, host, external, group
    std::string segment;  // empty outside the site
    std::string detail;   // role and life-cycle stage for devices, kind for endpoints
    std::vector<std::string> members;  // a grouped vertex: the devices it stands for
};

struct GraphEdge {
    Service service;
    EdgeClass cls = EdgeClass::unexplained;
    EdgeStats stats;                  // zero for declared-but-unseen edges
    std::vector<std::string> why;     // "declared by BD Alaris 8015 (profiles/...:12)", "approved CHG-4711"
};

struct GraphOptions {
    // What the policy does with an observed edge: blocked, baseline (kept as observed
    // behaviour), or nullopt to keep the class its declarations and approvals give it.
    std::function<std::optional<EdgeClass>(const ClassifiedEdge&)> verdict;
};

using CommGraphBase =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, GraphVertex, GraphEdge>;

class CommGraph {
public:
    // Observed edges become edges between their entities; declarations never seen become
    // edges from the device to the peer they name.
    static CommGraph build(const std::vector<ClassifiedEdge>& edges, const AddressBook& book,
                           const GraphOptions& options = {});

    const CommGraphBase& graph() const { return g_; }
    std::map<EdgeClass, size_t> counts() const;
    // The vertices `centre` picks, their edges and the vertices at the other ends.
    CommGraph neighbourhood(const std::function<bool(const GraphVertex&)>& centre) const;
    // Devices of one segment with the same role, stage and edges (same peers, services and
    // classes) become one vertex listing them, their edges one edge with the counts summed:
    // a ward of identical pumps reads as one node.
    CommGraph grouped() const;
    // One vertex per segment (its members listed), one for every address outside the site,
    // endpoints outside every segment as they are: the picture of a site too large to draw whole.
    CommGraph by_segment() const;
    size_t vertex_count() const { return boost::num_vertices(g_); }
    // Graphviz DOT: segments as clusters, a legend, edges coloured by why they are there.
    std::string to_dot(const std::string& title) const;

private:
    // Each vertex replaced by what stand_in returns for it (vertices of one name become one),
    // parallel edges of one service and class merged with their counts summed.
    CommGraph collapsed(const std::function<GraphVertex(const GraphVertex&)>& stand_in) const;
    CommGraphBase::vertex_descriptor vertex(const std::string& name, const GraphVertex& props);
    void add_edge(const std::string& from, const GraphVertex& from_props, const std::string& to,
                  const GraphVertex& to_props, const GraphEdge& e);
    CommGraphBase g_;
    std::map<std::string, CommGraphBase::vertex_descriptor> by_name_;
};

}  // namespace wardgate
