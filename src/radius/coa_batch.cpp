#include "wardgate/radius/coa_batch.hpp"

#include <algorithm>

namespace wardgate::radius {

std::string CoaReport::text() const {
    std::string out = (change.device.empty() ? change.mac : change.device + " (" + change.mac + ")") + " " +
                      std::string(to_string(change.kind)) + ": " +
                      (change.kind == NacChange::Kind::retry ? change.after : change.before + " -> " + change.after) +
                      "; " + std::string(to_string(command)) + ":";
    const char* separator = " ";
    for (const auto& [peer, outcome] : outcomes) {
        out += separator + peer + " " + std::string(to_string(outcome.result));
        if (!outcome.detail.empty()) out += " (" + outcome.detail + ")";
        separator = ", ";
    }
    if (!confirmed) out += "; kept pending for the next run";
    return out;
}

std::vector<CoaReport> send_nac_changes(const std::vector<NacChange>& changes, std::vector<CoaClient>& switches,
                                        bool bounce_on_vlan_change) {
    std::vector<CoaReport> out;
    for (const auto& change : changes) {
        CoaReport r;
        r.change = change;
        r.command = bounce_on_vlan_change && change.vlan_changed ? CoaCommand::bounce_host_port : CoaCommand::reauthenticate;
        for (auto& sw : switches) r.outcomes.emplace_back(sw.peer(), sw.send(change.mac, r.command));
        auto is = [&r](CoaOutcome::Result want) {
            return [want](const auto& o) { return o.second.result == want; };
        };
        r.confirmed = std::any_of(r.outcomes.begin(), r.outcomes.end(), is(CoaOutcome::Result::done)) ||
                      (!r.outcomes.empty() &&
                       std::all_of(r.outcomes.begin(), r.outcomes.end(), is(CoaOutcome::Result::not_online)));
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace wardgate::radius
