#pragma once
// The communication graph: who talks to whom, and why each edge exists.
#include <boost/graph/adjacency_list.hpp>
#include <map>
#include <string>
#include <vector>

#include "wardgate/graph/classify.hpp"

namespace wardgate {

enum class EdgeClass { declared_seen, declared_unseen, approved_seen, unexplained };
std::string_view to_string(EdgeClass c);

struct GraphVertex {
    std::string name;
    std::string kind;     // device, endpoint, host, external, group
    std::string segment;  // empty outside the site
    std::string detail;   // role and life-cycle stage for devices, kind for endpoints
};

struct GraphEdge {
    Service service;
    EdgeClass cls = EdgeClass::unexplained;
    EdgeStats stats;                  // zero for declared-but-unseen edges
    std::vector<std::string> why;     // "declared by BD Alaris 8015 (profiles/...:12)", "approved CHG-4711"
};

using CommGraphBase =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, GraphVertex, GraphEdge>;

class CommGraph {
public:
    // Observed edges become edges between their entities; declarations never seen become
    // edges from the device to the peer they name.
    static CommGraph build(const std::vector<ClassifiedEdge>& edges, const AddressBook& book);

    const CommGraphBase& graph() const { return g_; }
    std::map<EdgeClass, size_t> counts() const;
    // Graphviz DOT: segments as clusters, unexplained edges in red.
    std::string to_dot(const std::string& title) const;

private:
    CommGraphBase::vertex_descriptor vertex(const std::string& name, const GraphVertex& props);
    CommGraphBase g_;
    std::map<std::string, CommGraphBase::vertex_descriptor> by_name_;
};

}  // namespace wardgate
