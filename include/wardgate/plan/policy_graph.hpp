#pragma once
// The communication graph with each observed edge coloured by the compiled policy's verdict
// (blocked, allowed only as baseline), as `wardgate graph` and the report draw it.
#include "wardgate/graph/comm_graph.hpp"
#include "wardgate/plan/pipeline.hpp"

namespace wardgate {

CommGraph policy_graph(const Pipeline& p);

}  // namespace wardgate
