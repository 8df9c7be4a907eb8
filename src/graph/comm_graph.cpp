#include "wardgate/graph/comm_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace wardgate {

std::string_view to_string(EdgeClass c) {
    switch (c) {
        case EdgeClass::declared_seen: return "declared-seen";
        case EdgeClass::declared_unseen: return "declared-unseen";
        case EdgeClass::approved_seen: return "approved-seen";
        case EdgeClass::baseline: return "baseline";
        case EdgeClass::blocked: return "blocked";
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

void CommGraph::add_edge(const std::string& from, const GraphVertex& from_props, const std::string& to,
                         const GraphVertex& to_props, const GraphEdge& e) {
    auto a = vertex(from, from_props);
    auto b = vertex(to, to_props);
    boost::add_edge(a, b, e, g_);
}

CommGraph CommGraph::build(const std::vector<ClassifiedEdge>& edges, const AddressBook& book, const GraphOptions& options) {
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
        if (options.verdict)
            if (auto judged = options.verdict(c)) {
                // What the policy blocks is shown blocked whatever declares it; the baseline
                // only explains what nothing else does.
                if (*judged == EdgeClass::blocked || e.cls == EdgeClass::unexplained) e.cls = *judged;
            }
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

// A DOT string: quotes and backslashes escaped, line breaks as DOT's centred-line escape.
static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

CommGraph CommGraph::neighbourhood(const std::function<bool(const GraphVertex&)>& centre) const {
    CommGraph out;
    for (const auto& [name, v] : by_name_)
        if (centre(g_[v])) out.vertex(name, g_[v]);
    for (auto [it, end] = boost::edges(g_); it != end; ++it) {
        const auto& a = g_[boost::source(*it, g_)];
        const auto& b = g_[boost::target(*it, g_)];
        if (centre(a) || centre(b)) out.add_edge(a.name, a, b.name, b, g_[*it]);
    }
    return out;
}

CommGraph CommGraph::grouped() const {
    // A device's signature: segment, role and stage, and each edge's direction, peer, service and class.
    auto signature = [&](CommGraphBase::vertex_descriptor v) {
        std::vector<std::string> parts{g_[v].segment, g_[v].detail};
        for (auto [it, end] = boost::out_edges(v, g_); it != end; ++it)
            parts.push_back(">" + g_[boost::target(*it, g_)].name + " " + g_[*it].service.to_string() + " " +
                            std::string(to_string(g_[*it].cls)));
        for (auto [it, end] = boost::in_edges(v, g_); it != end; ++it)
            parts.push_back("<" + g_[boost::source(*it, g_)].name + " " + g_[*it].service.to_string() + " " +
                            std::string(to_string(g_[*it].cls)));
        std::sort(parts.begin() + 2, parts.end());
        std::string out;
        for (const auto& p : parts) out += p + "\n";
        return out;
    };
    std::map<std::string, std::vector<std::string>> alike;  // signature -> device names (sorted: by_name_ is)
    for (const auto& [name, v] : by_name_)
        if (g_[v].kind == "device") alike[signature(v)].push_back(name);
    std::map<std::string, GraphVertex> group_of;  // device name -> the vertex standing for it
    for (const auto& [sig, names] : alike) {
        if (names.size() < 2) continue;
        GraphVertex gv = g_[by_name_.at(names.front())];
        gv.kind = "devices";
        gv.name = names.front() + " +" + std::to_string(names.size() - 1);
        gv.members = names;
        for (const auto& n : names) group_of[n] = gv;
    }
    return collapsed([&](const GraphVertex& v) { return group_of.contains(v.name) ? group_of.at(v.name) : v; });
}

CommGraph CommGraph::by_segment() const {
    std::map<std::string, GraphVertex> segments;
    for (const auto& [name, v] : by_name_) {
        const GraphVertex& gv = g_[v];
        if (gv.segment.empty()) continue;
        auto& s = segments[gv.segment];
        s.name = "segment " + gv.segment;
        s.kind = "segment";
        s.segment = gv.segment;
        s.members.push_back(name);
        s.detail = std::to_string(s.members.size()) + (s.members.size() == 1 ? " host" : " hosts");
    }
    GraphVertex outside{"outside", "external", "", "every address outside the site", {}};
    return collapsed([&](const GraphVertex& v) {
        if (!v.segment.empty()) return segments.at(v.segment);
        return v.kind == "external" ? outside : v;
    });
}

CommGraph CommGraph::collapsed(const std::function<GraphVertex(const GraphVertex&)>& stand_in) const {
    CommGraph out;
    for (const auto& [name, v] : by_name_) {
        auto s = stand_in(g_[v]);
        out.vertex(s.name, s);
    }
    // One edge per (from, to, service, class), the counts of the edges it stands for summed.
    std::map<std::tuple<std::string, std::string, std::string, EdgeClass>, CommGraphBase::edge_descriptor> merged;
    for (auto [it, end] = boost::edges(g_); it != end; ++it) {
        const auto a = stand_in(g_[boost::source(*it, g_)]);
        const auto b = stand_in(g_[boost::target(*it, g_)]);
        const GraphEdge& e = g_[*it];
        auto key = std::tuple{a.name, b.name, e.service.to_string(), e.cls};
        if (auto found = merged.find(key); found != merged.end()) {
            GraphEdge& m = out.g_[found->second];
            m.stats.connections += e.stats.connections;
            m.stats.bytes += e.stats.bytes;
            m.stats.applications |= e.stats.applications;
            continue;
        }
        auto [d, added] = boost::add_edge(out.by_name_.at(a.name), out.by_name_.at(b.name), e, out.g_);
        merged.emplace(key, d);
    }
    return out;
}

namespace {

struct EdgeLook {
    EdgeClass cls;
    const char* style;
    const char* meaning;
};

// Colour by provenance; the legend reads from the same table.
constexpr EdgeLook kLooks[] = {
    {EdgeClass::declared_seen, "color=black", "declared by a profile, seen"},
    {EdgeClass::approved_seen, "color=blue", "approved by a person, seen"},
    {EdgeClass::baseline, "color=darkgreen", "kept as observed behaviour (baseline)"},
    {EdgeClass::blocked, "color=red, penwidth=2", "seen, and the policy blocks it"},
    {EdgeClass::unexplained, "color=orange", "seen, nothing declares it"},
    {EdgeClass::declared_unseen, "style=dashed, color=gray", "declared, never seen"},
};

const EdgeLook& look(EdgeClass c) {
    for (const auto& l : kLooks)
        if (l.cls == c) return l;
    return kLooks[0];
}

}  // namespace

std::string CommGraph::to_dot(const std::string& title) const {
    std::string out = "digraph wardgate {\n  label=" + quote(title) + ";\n  rankdir=LR;\n  newrank=true;\n  node [shape=box, fontsize=10];\n  edge [fontsize=9];\n";
    std::map<std::string, std::vector<CommGraphBase::vertex_descriptor>> clusters;
    for (const auto& [name, v] : by_name_) clusters[g_[v].segment].push_back(v);
    auto node_line = [&](CommGraphBase::vertex_descriptor v, const char* indent) {
        const auto& p = g_[v];
        std::string shape = p.kind == "device" ? "box" : p.kind == "devices" ? "box3d" : p.kind == "endpoint" ? "cylinder"
                            : p.kind == "group" ? "folder" : p.kind == "segment" ? "tab" : "ellipse";
        std::string label = p.detail.empty() || p.detail == p.name ? p.name : p.name + "\n" + p.detail;
        if (p.kind == "devices") {
            label = std::to_string(p.members.size()) + " devices, " + p.detail;
            for (size_t i = 0; i < p.members.size(); ++i) label += (i % 4 ? ", " : "\n") + p.members[i];
        }
        return fmt::format("{}{} [label={}, shape={}];\n", indent, quote(p.name), quote(label), shape);
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
    // One line per (from, to, class), one label line per service with its connections: an
    // endpoint of several addresses is one vertex, a scan of twenty ports one arrow.
    // Each service's connections and the applications recognised in them.
    std::map<std::tuple<std::string, std::string, EdgeClass>, std::map<Service, std::pair<uint64_t, ApplicationSet>>> lines;
    std::set<EdgeClass> used;
    for (auto [it, end] = boost::edges(g_); it != end; ++it) {
        const auto& e = g_[*it];
        used.insert(e.cls);
        auto& [connections, applications] =
            lines[{g_[boost::source(*it, g_)].name, g_[boost::target(*it, g_)].name, e.cls}][e.service];
        connections += e.stats.connections;
        applications |= e.stats.applications;
    }
    for (const auto& [key, services] : lines) {
        const auto& [from, to, cls] = key;
        std::string label;
        for (const auto& [service, seen] : services) {
            if (!label.empty()) label += "\n";
            label += service.to_string();
            if (seen.first) label += " x" + std::to_string(seen.first);
            if (seen.second) label += " (" + to_string(seen.second) + ")";
        }
        out += fmt::format("  {} -> {} [label={}, {}];\n", quote(from), quote(to), quote(label), look(cls).style);
    }
    // The legend: one sample edge per kind the graph uses, in a box of its own.
    if (used.empty()) return out + "}\n";
    out += "  subgraph \"cluster_legend\" {\n    label=\"legend\";\n    node [shape=point, width=0.05, label=\"\"];\n";
    int n = 0;
    for (const auto& l : kLooks) {
        if (!used.contains(l.cls)) continue;
        out += fmt::format("    \"legend{}a\" -> \"legend{}b\" [label={}, {}];\n", n, n, quote(l.meaning), l.style);
        ++n;
    }
    out += "  }\n";
    return out + "}\n";
}

}  // namespace wardgate
