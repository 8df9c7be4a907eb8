#pragma once
// The gateway site (tests/data/gateway-site) with an internet endpoint, an end-of-support
// device (10.50.0.77, fd00:50::77) and a supported one (10.50.0.78) in the servers segment
// (add the addresses to the srv namespace), an approval from the ICU monitor to the internet on tcp/443 and a declaration
// of the monitor's profile to the internet on tcp/8443.
#include <map>
#include <string>

namespace wardgate::testing {

std::map<std::string, std::string> gateway_site_with_internet();

}  // namespace wardgate::testing
