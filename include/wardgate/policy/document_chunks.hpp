#pragma once
// A policy document in pieces, so that a version that differs from the last by one device costs
// a few pieces instead of the whole document (tens of megabytes on a site of 100,000 devices).
// The groups' members and prefixes, nearly all of a document, are cut into chunks where an
// element's hash says so: content-defined, so a device added or removed changes the chunk it
// falls in and not every chunk after it. The document names each chunk by the SHA-256 of its
// text (a JSON array), and reading checks every chunk against its name before it is used.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/core/hashed_chunk.hpp"
#include "wardgate/policy/ir.hpp"

namespace wardgate {

// The publisher's side. Remembers the chunks it cut, so a run of members that did not change is
// neither written nor hashed again.
class ChunkWriter {
public:
    ChunkWriter();
    ~ChunkWriter();
    ChunkWriter(const ChunkWriter&) = delete;
    ChunkWriter& operator=(const ChunkWriter&) = delete;

    // The hashes of `members` (or `prefixes`) cut into chunks, in order.
    nlohmann::json members(const std::vector<std::string>& members);
    nlohmann::json prefixes(const std::vector<Prefix>& prefixes);
    // The chunks named since the last end_round() that `wanted` accepts (by hash), sorted by hash.
    template <typename Wanted>
    std::vector<HashedChunk> named(Wanted&& wanted) const {
        std::vector<HashedChunk> out;
        for (const HashedChunk* c : named_chunks())
            if (wanted(c->hash)) out.push_back(*c);
        return out;
    }
    std::vector<std::string> named_hashes() const;  // sorted
    // Forgets the chunks no document named since the last call.
    void end_round();
    size_t written() const;  // chunks written (not found remembered) since construction

private:
    std::vector<const HashedChunk*> named_chunks() const;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A gateway's side: the chunks it holds, checked against their hashes when added and parsed
// once however many versions name them.
class ChunkReader {
public:
    ChunkReader();
    ~ChunkReader();
    ChunkReader(const ChunkReader&) = delete;
    ChunkReader& operator=(const ChunkReader&) = delete;

    // Throws std::invalid_argument when `body` is not the text `hash` names.
    void add(const std::string& hash, std::string body);
    bool has(const std::string& hash) const;
    const std::string* body(const std::string& hash) const;
    // Throw std::invalid_argument naming `field` when the chunk is missing or does not read.
    const std::vector<std::string>& members(const std::string& hash, std::string_view field);
    const std::vector<Prefix>& prefixes(const std::string& hash, std::string_view field);
    // Forgets the chunks not read since the last call.
    void end_round();
    size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Every chunk hash a document names (its groups' "members_chunks" and "prefixes_chunks"), in
// order of first mention; a document that is not chunked names none. Never throws for a
// malformed document (reading it says what is wrong).
std::vector<std::string> chunks_named(const nlohmann::json& document);

}  // namespace wardgate
