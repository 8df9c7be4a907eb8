#pragma once
// The whole policy as JSON and back, so that what one host compiled another can compare or
// enforce byte for byte: the state file's "ir" and a published version's slices. Reading
// trusts nothing: every index, address, protocol, port and name is checked.
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/policy/document_chunks.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate {

nlohmann::json policy_document(const Policy& p);
// With `chunks`: every group's members and prefixes as the hashes of chunks ("members_chunks",
// "prefixes_chunks") that `chunks` holds.
nlohmann::json policy_document(const Policy& p, ChunkWriter* chunks);
// Throws std::invalid_argument naming the field ("rules[3].src: ...") when anything is wrong.
// Fields a state file written before they were kept lacks take their defaults. A document in
// chunks reads only with the reader that holds them.
Policy policy_from_document(const nlohmann::json& j);
Policy policy_from_document(const nlohmann::json& j, ChunkReader* chunks);

nlohmann::json services_document(const std::vector<Service>& services);
std::vector<Service> services_from_document(const nlohmann::json& j, std::string_view field);

}  // namespace wardgate
