// A policy document (a state file's "ir", a published slice) as a gateway reads it from a
// database someone else can write. Refused with std::invalid_argument, or read into a policy
// that lowers, renders and writes back to the same document, whole and in chunks. The same
// bytes as a chunk of such a document: read as names or prefixes, or refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wardgate/core/signing.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/policy/evaluate.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace wardgate;
    {
        ChunkReader chunk;
        std::string body(reinterpret_cast<const char*>(data), size);
        const std::string hash = sha256_hex(body);
        chunk.add(hash, std::move(body));
        try {
            (void)chunk.members(hash, "chunk");
        } catch (const std::invalid_argument&) {
        }
        try {
            (void)chunk.prefixes(hash, "chunk");
        } catch (const std::invalid_argument&) {
        }
    }
    auto doc = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
    if (doc.is_discarded()) return 0;
    Policy p;
    try {
        p = policy_from_document(doc);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    auto again = policy_document(p);
    if (policy_document(policy_from_document(again)) != again) std::abort();
    ChunkWriter writer;
    const auto chunked = policy_document(p, &writer);
    ChunkReader chunks;
    for (auto& c : writer.named([](const std::string&) { return true; })) chunks.add(c.hash, std::move(c.body));
    if (policy_document(policy_from_document(chunked, &chunks)) != again) std::abort();
    (void)render_nft(p);
    (void)nft::lower_policy(p);
    Evaluator eval(p);
    for (const auto& g : p.groups)
        for (const auto& prefix : g.prefixes) (void)eval.evaluate(prefix.address, prefix.last(), Protocol::tcp, 443);
    return 0;
}
