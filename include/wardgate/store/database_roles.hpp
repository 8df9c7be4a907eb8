#pragma once
// The least-privilege roles of a shared PostgreSQL database: collectors write flow data,
// readers read it, the publisher publishes, and gateways read published versions and write
// only their own heartbeat row. Group roles (NOLOGIN); each host logs in as a role of its own
// granted one of them (a gateway's login is the --instance it beats as).
#include <string>

namespace wardgate {

inline constexpr const char* kCollectorRole = "wardgate_collector";
inline constexpr const char* kReaderRole = "wardgate_reader";
inline constexpr const char* kPublisherRole = "wardgate_publisher";
inline constexpr const char* kGatewayRole = "wardgate_gateway";

// As the database's owner: creates the baseline and policy tables when missing, then the four
// group roles and their grants (idempotent). Throws StoreError.
void set_up_database(const std::string& url);

}  // namespace wardgate
