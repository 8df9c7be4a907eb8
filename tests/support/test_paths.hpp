#pragma once
// Where the tests find their inputs: the source tree, the shared data directory, and the
// two sites most tests start from.
#include <string>

namespace wardgate::testing {

inline const std::string kSourceDir = WARDGATE_SOURCE_DIR;
inline const std::string kSharedData = WARDGATE_SHARED_DATA;
inline const std::string kExampleSite = kSourceDir + "/policies/example-hospital";
inline const std::string kGatewaySite = kSourceDir + "/tests/data/gateway-site";
inline const std::string kWikipediaConnLog = kSharedData + "/zeek/wikipedia/conn.log";

}  // namespace wardgate::testing
