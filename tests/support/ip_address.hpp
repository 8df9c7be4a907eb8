#pragma once
// An address literal a test knows to be valid.
#include "wardgate/core/net.hpp"

namespace wardgate::testing {

inline IpAddress ip(const char* text) { return *IpAddress::parse(text); }

}  // namespace wardgate::testing
