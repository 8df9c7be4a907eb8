#pragma once
// The programme's progress in numbers a CISO can follow from month to month: profile
// coverage, enforcement, legacy devices on the strictest stance, internet contact, unexplained
// and insecure flows, approvals about to expire, high-risk devices.
#include <optional>
#include <string>
#include <vector>

#include "wardgate/assess/risk.hpp"
#include "wardgate/graph/classify.hpp"

namespace wardgate {

struct Kpi {
    std::string key;            // "profile_coverage": stable, for the store, JSON and Prometheus
    std::string title;          // "medical devices with a manufacturer profile"
    bool higher_is_better = true;
    std::optional<size_t> of;   // a share: value counts, `of` the whole (value / of is the ratio)
    double value = 0;

    double ratio() const { return of && *of ? value / static_cast<double>(*of) : value; }
    std::string text() const;   // "41 of 46 (89%)" or "3"
};

struct Scorecard {
    std::string site;
    std::string today;
    std::vector<Kpi> kpis;      // always the same keys, in the same order
};

Scorecard compute_scorecard(const AddressBook& book, const std::vector<ClassifiedEdge>& edges, const Date& today);
// The same, with the risk assessment already made (assess_risk of the same book and edges).
Scorecard compute_scorecard(const AddressBook& book, const std::vector<ClassifiedEdge>& edges, const Date& today,
                            const std::vector<DeviceRisk>& risks);

}  // namespace wardgate
