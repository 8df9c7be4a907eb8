#include <fmt/format.h>

#include "wardgate/site/load.hpp"

namespace wardgate {

void raise_stages_by_date(Site& site, const Date& today) {
    for (auto& d : site.devices) {
        Lifecycle by_date = Lifecycle::support;
        if (d.eos && *d.eos < today)
            by_date = Lifecycle::end_of_support;
        else if (d.eol && *d.eol < today)
            by_date = Lifecycle::limited_support;
        if (by_date <= d.lifecycle) continue;
        // Written only for the devices it concerns: most of a large inventory is already at its stage.
        const std::string why = by_date == Lifecycle::end_of_support ? "its end of support was " + to_string(*d.eos)
                                                                     : "its end of life was " + to_string(*d.eol);
        site.warnings.push_back({d.origin.file, d.origin.line, 0, "device.lifecycle",
                                 fmt::format("device \"{}\" is listed as {} but {}: treated as {}", d.name,
                                             to_string(d.lifecycle), why, to_string(by_date))});
        d.declared_lifecycle = d.lifecycle;
        d.lifecycle = by_date;
    }
}

}  // namespace wardgate
