#pragma once
// Publishing a site for a fleet of gateways: the whole policy and each [[gateway]]'s slice as
// signed policy documents, with the plan since the last published version; and the check a
// gateway makes before it enforces a slice.
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "wardgate/core/signing.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/policy/document_chunks.hpp"
#include "wardgate/store/policy_versions.hpp"

namespace wardgate {

struct PublishOptions {
    std::string author;
};

// Chunks a gateway lacks, from wherever the version came from: the stored ones among `hashes`.
using ChunkFetch = std::function<std::vector<HashedChunk>(const std::vector<std::string>& hashes)>;

// The version `p` (compiled for the whole site) publishes: slice "" is the whole site's policy,
// then one per [[gateway]], each a document in chunks (policy_document with a ChunkWriter); every
// chunk they name is in `chunks` of the version. The plan compares with `before` (nullopt:
// nothing published yet). Unsigned: the signatures cover the number the database gives the
// version (publish_signed).
PublishedVersion published_version(const Pipeline& p, const std::optional<PolicySnapshot>& before,
                                   const PublishOptions& options);
// The two halves of it: the slices' documents and content hash, cut with `chunks` (the chunks
// they name are those it named this round; the version carries none of them), then the plan.
PublishedVersion published_documents(const Pipeline& p, const PublishOptions& options, ChunkWriter& chunks);
// `now`, when given, receives what the next version's plan compares with (see make_plan).
void add_published_plan(PublishedVersion& v, const Pipeline& p, const std::optional<PolicySnapshot>& before,
                        PolicySnapshot* now = nullptr);

// The whole site's policy of a published version, to compare the next one with; nullopt when
// the version has none or it does not read (the plan then compares with nothing).
std::optional<PolicySnapshot> published_snapshot(const PublishedVersion& v, const ChunkFetch& fetch);
// What a plan compares the next version with, once `policy` is published as version `id`.
PolicySnapshot published_snapshot(const Policy& policy, int64_t id, const std::string& published_at);
// Names a snapshot as version `id` published at `published_at`.
void name_published_snapshot(PolicySnapshot& s, int64_t id, const std::string& published_at);

// Stores `v` in `db` with every slice signed by the publisher's key under its new number (see
// PolicyVersions::publish). Throws SigningError, StoreError.
PublishResult publish_signed(PolicyVersions& db, const PublishedVersion& v, const Signer& publisher);

class SliceRefused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The policy of `gateway`'s slice of `v`, once its digest and the publisher's signature check
// out and its document reads with its chunks: those `chunks` lacks are fetched (after the
// signature checked out) and added, each checked against its hash. Throws SliceRefused saying
// why; whatever `fetch` throws passes through (a database that went away refuses nothing).
Policy accept_slice(const PublishedVersion& v, const std::string& gateway, const SignatureCheck& publisher,
                    ChunkReader& chunks, const ChunkFetch& fetch);
// The same with the chunks `v` carries.
Policy accept_slice(const PublishedVersion& v, const std::string& gateway, const SignatureCheck& publisher);

}  // namespace wardgate
