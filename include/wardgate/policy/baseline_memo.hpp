#pragma once
// What the observed baseline made of the last list of edges, kept between compilations (serve):
// after an inventory edit, the same observations reclassified (EdgeLineage) are judged again only
// where the edit can have changed the outcome, and the rest is taken from here.
#include <cstddef>
#include <memory>

namespace wardgate {

class BaselineMemo {
public:
    BaselineMemo();
    ~BaselineMemo();
    BaselineMemo(const BaselineMemo&) = delete;
    BaselineMemo& operator=(const BaselineMemo&) = delete;

    // The last compilation: how many edges it judged (every edge when it could not use the memo).
    size_t judged = 0;
    bool reused = false;

    struct State;  // src/policy/baseline.cpp
    std::unique_ptr<State> state;
};

}  // namespace wardgate
