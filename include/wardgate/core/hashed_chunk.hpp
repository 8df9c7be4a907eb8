#pragma once
// A piece of a larger text named by the SHA-256 of its own text: a policy document's chunks, as
// the policy stage cuts them, the publisher stores them and a gateway fetches them.
#include <string>

namespace wardgate {

struct HashedChunk {
    std::string hash;  // hex SHA-256 of body
    std::string body;
};

}  // namespace wardgate
