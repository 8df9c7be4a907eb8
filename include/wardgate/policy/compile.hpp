#pragma once
#include <functional>

#include "wardgate/graph/classify.hpp"
#include "wardgate/policy/compile_memo.hpp"
#include "wardgate/policy/ir.hpp"
#include "wardgate/resolve/dns.hpp"

namespace wardgate {

// Least privilege: only what a manufacturer declared, a person approved, or (where the
// device's life-cycle stance allows it) the device was seen doing is allowed; denies win.
Policy compile_policy(const AddressBook& book, const std::vector<ClassifiedEdge>& observed, const Date& today);
// DNS-only endpoints take their addresses from `dns` (see wardgate/resolve/bind.hpp).
Policy compile_policy(const AddressBook& book, const std::vector<ClassifiedEdge>& observed, const Date& today,
                      const DnsAnswers& dns);
// The observed edges, asked for once, when the declarations and approvals are compiled and
// the baseline is next: a caller can classify them on another thread meanwhile. `memo` keeps the
// address groups as built for the next compilation and takes those whose content is unchanged;
// with the edges' lineage, it also keeps what the baseline made of them and uses what it kept of
// the list they were reclassified from.
struct ObservedView {
    const std::vector<ClassifiedEdge>* edges = nullptr;
    const EdgeLineage* lineage = nullptr;
};
using ObservedEdges = std::function<ObservedView()>;
Policy compile_policy(const AddressBook& book, const ObservedEdges& observed, const Date& today, const DnsAnswers& dns,
                      CompileMemo* memo = nullptr);

}  // namespace wardgate
