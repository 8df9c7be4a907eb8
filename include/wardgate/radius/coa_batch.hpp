#pragma once
// Sends the NAC changes of one run to every switch named, and says which of them a switch
// confirmed: acknowledged by one, or not online on any (it gets the new answer when it next
// plugs in). The others stay pending for the next run.
#include <string>
#include <vector>

#include "wardgate/radius/coa.hpp"
#include "wardgate/render/nac_state.hpp"

namespace wardgate::radius {

struct CoaReport {
    NacChange change;
    CoaCommand command = CoaCommand::reauthenticate;
    std::vector<std::pair<std::string, CoaOutcome>> outcomes;  // per switch, in the order given
    bool confirmed = false;

    // "pump-01 (00:0a:f7:41:80:01) changed: VLAN 110, wg-pump -> VLAN 200, wg-pump;
    //  reauthenticate: 192.0.2.10:3799 done"
    std::string text() const;
};

// bounce: a change of VLAN bounces the device's port (reauthenticate keeps the link up, and the
// device keeps its old address until its DHCP lease ends).
std::vector<CoaReport> send_nac_changes(const std::vector<NacChange>& changes, std::vector<CoaClient>& switches,
                                        bool bounce_on_vlan_change);

}  // namespace wardgate::radius
