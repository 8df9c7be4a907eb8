#pragma once
// Reads what an application sighting says about the hosts at its ends.
#include <optional>
#include <vector>

#include "wardgate/assess/discover.hpp"

namespace wardgate::assess_internal {

// One host a sighting describes: DHCP names its client (by the address it has, asks for or
// is given), DICOM the AE titles of both ends, HL7 the application that opened the connection.
struct IdentityClue {
    std::optional<IpAddress> address;  // none: a DHCP client without an address yet
    HostIdentity identity;
    double first_seen = 0;
    bool asked = false;                // DHCP: the address is only what the client asked for
    bool granted = false;              // DHCP: a server's DHCPACK gave the client this address
    // Said about the host by the other end (the AE title a DICOM request calls): true only if
    // this edge was answered, or anyone could name a host that is not there.
    std::optional<EdgeKey> needs_answer;
};

std::vector<IdentityClue> identity_clues(const ApplicationSighting& sighting);
// Adds what `from` says to `into`: names already known stay, lists gain what is new.
void merge_identity(HostIdentity& into, const HostIdentity& from);

}  // namespace wardgate::assess_internal
