#pragma once
// What a policy change does to traffic: the (source, destination, protocol, port) regions
// whose verdict flips between two policies, computed from the IR by set difference. A rule
// removed while another still covers its traffic changes nothing; a narrowed port range
// shows only the ports that close.
#include <functional>
#include <string>
#include <vector>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

struct VerdictRegion {
    std::vector<std::string> src;   // readable names: a device, an endpoint, or a group's label for a range
    std::vector<std::string> dst;
    std::vector<Service> services;  // normalised: one per protocol, merged port ranges or ICMP messages
    bool operator==(const VerdictRegion&) const = default;
};

struct VerdictDiff {
    std::vector<VerdictRegion> newly_allowed;
    std::vector<VerdictRegion> newly_denied;
    bool empty() const { return newly_allowed.empty() && newly_denied.empty(); }
};

// `named`: addresses worth naming one by one (devices, host endpoints); `host_name` names a
// single address (a device or endpoint name, else the address). Ranges get the label of the
// group that decides them.
VerdictDiff diff_verdicts(const Policy& before, const Policy& after, const std::vector<IpAddress>& named,
                          const std::function<std::string(const IpAddress&)>& host_name);

}  // namespace wardgate
