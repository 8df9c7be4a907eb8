#pragma once
#include <functional>

#include "wardgate/graph/classify.hpp"
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
// the baseline is next: a caller can classify them on another thread meanwhile.
using ObservedEdges = std::function<const std::vector<ClassifiedEdge>&()>;
Policy compile_policy(const AddressBook& book, const ObservedEdges& observed, const Date& today, const DnsAnswers& dns);

}  // namespace wardgate
