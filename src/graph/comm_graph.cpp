#include "wardgate/graph/comm_graph.hpp"

#include <fmt/format.h>

#include <set>

namespace wardgate {

std::string_view to_string(EdgeClass c) {
    switch (c) {
        case EdgeClass::declared_seen: return "declared-seen";
        case EdgeClass::declared_unseen: return "declared-unseen";
        case EdgeClass::approved_seen: return "approved-seen";
        case EdgeClass::unexplained: return "unexplained";
    }
    return "?";
}

static std::string where(const Origin& o) { return o.file + ":" + std::to_string(o.line); }

static GraphVertex vertex_props(const Entity& e, const AddressBook& book) {
    const Site& site = book.site();
    GraphVertex v;
    v.name = book.name(e);
    v.segment = e.segment >= 0 ? site.segments[e.segment].name : "";
    switch (e.kind) {
        case Entity::Kind::device: {
            const Device& d = site.devices[e.index];
            v.kind = "device";
            v.detail = d.role + ", " + std::string(to_string(d.lifecycle));
            break;
        }
        case Entity::Kind::endpoint:
            v.kind = book.is_internet(e) ? "external" : "endpoint";
            v.detail = site.endpoints[e.index].kind;
            break;
        case Entity::Kind::host: v.kind = "host"; v.detail = "unmanaged"; break;
        case Entity::Kind::external: v.kind = "external"; break;
    }
    return v;
}

CommGraphBase::vertex_descriptor CommGraph::vertex(const std::string& name, const GraphVertex& props) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) return it->second;
    auto v = boost::add_vertex(props, g_);
    by_name_.emplace(name, v);
    return v;
}

CommGraph CommGraph::build(const std::vector<ClassifiedEdge>& edges, const AddressBook& book) {
    const Site& site = book.site();
    CommGraph cg;
    for (uint32_t i = 0; i < site.devices.size(); ++i) {
        Entity e{Entity::Kind::device, i, site.devices[i].addresses.empty() ? IpAddress{} : site.devices[i].addresses[0],
                 -1};
        if (auto* s = site.find_segment(site.devices[i].segment)) e.segment = static_cast<int>(s - site.segments.data());
        cg.vertex(site.devices[i].name, vertex_props(e, book));
    }
    std::set<std::pair<uint32_t, const DeclaredFlow*>> seen_declarations;
    for (const auto& c : edges) {
        auto from = cg.vertex(book.name(c.initiator), vertex_props(c.initiator, book));
        auto to = cg.vertex(book.name(c.responder), vertex_props(c.responder, book));
        GraphEdge e;
        e.service = flow_service(c.observed.key.protocol, c.observed.key.responder_port, c.observed.key.initiator.family);
        e.stats = c.observed.stats;
        e.cls = !c.declared.empty() ? EdgeClass::declared_seen
                : !c.approvals.empty() ? EdgeClass::approved_seen
                                       : EdgeClass::unexplained;
        for (const auto& d : c.declared) {
            e.why.push_back("declared by " + d.profile->label() + " (" + where(d.flow->origin) + ")");
            const Entity& dev = d.flow->direction == Direction::device_initiated ? c.initiator : c.responder;
            seen_declarations.emplace(dev.index, d.flow);
        }
        for (const auto* a : c.approvals) e.why.push_back("approved " + a->id + " (" + where(a->origin) + ")");
        for (const auto* a : c.expired) e.why.push_back("approval " + a->id + " expired");
        boost::add_edge(from, to, e, cg.g_);
    }
    for (uint32_t i = 0; i < site.devices.size(); ++i) {
        const Device& d = site.devices[i];
        const Profile* profile = site.find_profile(d.vendor, d.model);
        if (!profile) continue;
        for (const auto& f : profile->flows) {
            if (seen_declarations.count({i, &f})) continue;
            std::string peer_name = f.peer.to_string();
            if (f.peer.kind == PeerRef::Kind::endpoint || f.peer.kind == PeerRef::Kind::device) peer_name = f.peer.name;
            auto dev = cg.by_name_.at(d.name);
            auto peer = cg.vertex(peer_name, GraphVertex{peer_name, "group", "", f.peer.to_string()});
            GraphEdge e{f.service, EdgeClass::declared_unseen, {}, {"declared by " + profile->label() + " (" + where(f.origin) + ")"}};
            if (f.direction == Direction::device_initiated) {
                boost::add_edge(dev, peer, e, cg.g_);
            } else {
                boost::add_edge(peer, dev, e, cg.g_);
            }
        }
    }
    return cg;
}

std::map<EdgeClass, size_t> CommGraph::counts() const {
    std::map<EdgeClass, size_t> out;
    for (auto [it, end] = boost::edges(g_); it != end; ++it) ++out[g_[*it].cls];
    return out;
}

static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string CommGraph::to_dot(const std::string& title) const {
    std::string out = "digraph wardgate {\n  label=" + quote(title) + ";\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n";
    std::map<std::string, std::vector<CommGraphBase::vertex_descriptor>> clusters;
    for (const auto& [name, v] : by_name_) clusters[g_[v].segment].push_back(v);
    auto node_line = [&](CommGraphBase::vertex_descriptor v, const char* indent) {
        const auto& p = g_[v];
        std::string shape = p.kind == "device" ? "box" : p.kind == "endpoint" ? "cylinder" : p.kind == "group" ? "folder" : "ellipse";
        return fmt::format("{}{} [label={}, shape={}];\n", indent, quote(p.name),
                           quote(p.detail.empty() ? p.name : p.name + "\\n" + p.detail), shape);
    };
    for (const auto& [segment, vertices] : clusters) {
        if (segment.empty()) {
            for (auto v : vertices) out += node_line(v, "  ");
            continue;
        }
        out += "  subgraph " + quote("cluster_" + segment) + " {\n    label=" + quote("segment " + segment) + ";\n";
        for (auto v : vertices) out += node_line(v, "    ");
        out += "  }\n";
    }
    std::vector<std::string> lines;
    for (auto [it, end] = boost::edges(g_); it != end; ++it) {
        const auto& e = g_[*it];
        std::string style = e.cls == EdgeClass::unexplained       ? "color=red, penwidth=2"
                            : e.cls == EdgeClass::declared_unseen ? "style=dashed, color=gray"
                            : e.cls == EdgeClass::approved_seen   ? "color=blue"
                                                                  : "color=black";
        std::string label = e.service.to_string();
        if (e.stats.connections) label += " x" + std::to_string(e.stats.connections);
        lines.push_back(fmt::format("  {} -> {} [label={}, {}];\n", quote(g_[boost::source(*it, g_)].name),
                                    quote(g_[boost::target(*it, g_)].name), quote(label), style));
    }
    std::sort(lines.begin(), lines.end());
    for (const auto& l : lines) out += l;
    return out + "}\n";
}

}  // namespace wardgate
