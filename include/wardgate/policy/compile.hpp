#pragma once
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

}  // namespace wardgate
