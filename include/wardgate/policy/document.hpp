#pragma once
// The whole policy as JSON and back, so that what one host compiled another can compare or
// enforce byte for byte: the state file's "ir" and a published version's slices. Reading
// trusts nothing: every index, address, protocol, port and name is checked.
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

nlohmann::json policy_document(const Policy& p);
// Throws std::invalid_argument naming the field ("rules[3].src: ...") when anything is wrong.
// Fields a state file written before they were kept lacks take their defaults.
Policy policy_from_document(const nlohmann::json& j);

nlohmann::json services_document(const std::vector<Service>& services);
std::vector<Service> services_from_document(const nlohmann::json& j, std::string_view field);

}  // namespace wardgate
