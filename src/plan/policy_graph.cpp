#include "wardgate/plan/policy_graph.hpp"

#include "wardgate/policy/evaluate.hpp"

namespace wardgate {

CommGraph policy_graph(const Pipeline& p) {
    const Evaluator eval(p.policy);
    GraphOptions options;
    options.verdict = [&](const ClassifiedEdge& c) -> std::optional<EdgeClass> {
        const auto& k = c.observed.key;
        if (c.unrouted) return std::nullopt;  // never forwarded: the gateway has no say
        auto v = eval.evaluate(k.initiator, k.responder, k.protocol, k.responder_port);
        if (!v.allowed) return EdgeClass::blocked;
        if (v.by == Verdict::By::pinhole) return EdgeClass::baseline;
        return std::nullopt;
    };
    return CommGraph::build(p.edges, *p.book, options);
}

}  // namespace wardgate
