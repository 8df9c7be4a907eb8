#pragma once
// Helpers shared by the flow reader tests.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <vector>

#include "ip_address.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/aggregator.hpp"
#include "wardgate/flows/flow_record.hpp"

namespace wardgate::testing {

// A copy, so it cannot dangle when edges is a temporary.
inline std::optional<ObservedEdge> find_edge(const std::vector<ObservedEdge>& edges, const char* from, const char* to,
                                             Protocol p, uint16_t port) {
    EdgeKey key{ip(from), ip(to), p, port};
    auto it = std::find_if(edges.begin(), edges.end(), [&](const ObservedEdge& e) { return e.key == key; });
    if (it == edges.end()) return std::nullopt;
    return *it;
}

// Runs f, which must throw an InputError with one diagnostic, and returns that diagnostic.
template <typename F>
Diagnostic input_error_of(F&& f) {
    try {
        f();
    } catch (const InputError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        return e.diagnostics().front();
    }
    FAIL("expected an InputError");
    return {};
}

// An aggregator holding one unrelated edge (10.9.9.9 -> 10.8.8.8 tcp/2575, 42 bytes, not
// established), to show that a failed read leaves it untouched.
inline Aggregator preloaded_aggregator() {
    Aggregator agg;
    FlowRecord r;
    r.initiator = ip("10.9.9.9");
    r.responder = ip("10.8.8.8");
    r.protocol = Protocol::tcp;
    r.responder_port = 2575;
    r.start = 100;
    r.duration = 5;
    r.bytes = 42;
    r.established = false;
    r.connections = 1;
    agg.add(r);
    return agg;
}

}  // namespace wardgate::testing
