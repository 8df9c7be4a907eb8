#include "wardgate/render/graph_svg.hpp"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace wardgate {

namespace {

// Object IDs in creation order. Graphviz's default discipline makes a named object's ID the
// address of its interned name, and orders subgraphs (the segment clusters) by ID: the
// drawing would then change with the heap's layout, even with a different command line.
struct SequentialIds {
    std::map<std::string, IDTYPE, std::less<>> by_name;
    std::map<IDTYPE, std::string> names;
    IDTYPE next_named = 2;      // even, as the default's pointers are
    IDTYPE next_anonymous = 1;  // odd
};

void* ids_open(Agraph_t*, Agdisc_t*) { return new SequentialIds; }

long ids_map(void* state, int, char* name, IDTYPE* id, int create) {
    auto* s = static_cast<SequentialIds*>(state);
    if (!name) {
        *id = s->next_anonymous;
        s->next_anonymous += 2;
        return 1;
    }
    if (auto it = s->by_name.find(std::string_view(name)); it != s->by_name.end()) {
        *id = it->second;
        return 1;
    }
    if (!create) return 0;
    *id = s->next_named;
    s->next_named += 2;
    s->by_name.emplace(name, *id);
    s->names.emplace(*id, name);
    return 1;
}

long ids_alloc(void*, int, IDTYPE) { return 0; }
void ids_free(void*, int, IDTYPE) {}
char* ids_print(void* state, int, IDTYPE id) {
    auto* s = static_cast<SequentialIds*>(state);
    auto it = s->names.find(id);
    return it == s->names.end() ? nullptr : it->second.data();
}
void ids_close(void* state) { delete static_cast<SequentialIds*>(state); }
void ids_register(void*, int, void*) {}

Agiddisc_t kSequentialIds{ids_open, ids_map, ids_alloc, ids_free, ids_print, ids_close, ids_register};

struct FileClose {
    void operator()(FILE* f) const { std::fclose(f); }
};

struct ContextFree {
    void operator()(GVC_t* c) const { gvFreeContext(c); }
};
struct GraphClose {
    void operator()(Agraph_t* g) const { agclose(g); }
};

}  // namespace

std::string render_svg(const std::string& dot) {
    std::unique_ptr<GVC_t, ContextFree> gvc(gvContext());
    if (!gvc) throw GraphRenderError("Graphviz: cannot create a context");
    std::string text = dot;
    std::unique_ptr<FILE, FileClose> in(fmemopen(text.data(), text.size(), "r"));
    if (!in) throw GraphRenderError("Graphviz: cannot read the graph from memory");
    Agdisc_t discipline{&AgMemDisc, &kSequentialIds, &AgIoDisc};
    std::unique_ptr<Agraph_t, GraphClose> graph(agread(in.get(), &discipline));
    if (!graph) throw GraphRenderError("Graphviz: cannot read the graph");
    if (gvLayout(gvc.get(), graph.get(), "dot") != 0) throw GraphRenderError("Graphviz: the dot layout failed");
    char* data = nullptr;
    unsigned int length = 0;
    const int rendered = gvRenderData(gvc.get(), graph.get(), "svg", &data, &length);
    std::string svg = rendered == 0 && data ? std::string(data, length) : std::string();
    if (data) gvFreeRenderData(data);
    gvFreeLayout(gvc.get(), graph.get());
    if (svg.empty()) throw GraphRenderError("Graphviz: the SVG renderer failed (is the libgvc6 core plugin installed?)");
    return svg;
}

}  // namespace wardgate
