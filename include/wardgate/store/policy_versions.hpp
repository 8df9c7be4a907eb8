#pragma once
// Published policy versions in the PostgreSQL database a fleet shares: what `wardgate publish`
// stores (each gateway's slice as a policy document), what `serve --from` follows (LISTEN
// wardgate_policy) and the heartbeats gateways write back for `wardgate fleet`. Documents are
// text here; compiling and reading them belongs to the policy stage.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardgate/core/hashed_chunk.hpp"

namespace wardgate {

struct PublishedSlice {
    std::string gateway;    // a [[gateway]] name; "" = the whole site's policy
    std::string document;   // policy_document() as JSON text
    std::string hash;       // hex SHA-256 of the document
    std::string signature;  // base64 Ed25519 signature over the signed text; "" = unsigned
};

struct PublishedVersion {
    int64_t id = 0;
    std::string site;
    std::string content_hash;  // over every slice: the same policy published again is the same version
    std::string author;
    std::string published_at;  // ISO 8601 UTC
    std::string plan_text, plan_json;
    // Publishing: the plan follows the version (write_plan), so its gateways need not wait for
    // it. Reading: the plan is not written (yet, or its publisher stopped before writing it).
    bool plan_pending = false;
    std::vector<PublishedSlice> slices;  // sorted by gateway
    // Publishing: pieces of the slices' documents to store beside them (documents name the
    // chunks that hold most of them; a chunk stored once is not stored again).
    std::vector<HashedChunk> chunks;
};

// What the publisher signs for one slice: the site, the version's number, the gateway and the
// document's digest. With the number signed, a slice cannot be stored again as a later version.
std::string signed_text(const std::string& site, int64_t version, const PublishedSlice& slice);

// A gateway's state as it last wrote it.
struct Heartbeat {
    std::string site, gateway, instance;  // instance: the host (two for an HA pair); "" = the database login
    int64_t applied_version = 0;          // 0: none applied
    std::string applied_at;               // ISO 8601 UTC
    std::string mode;                     // enforcing | monitoring | not-applied
    bool drift = false;
    std::string last_error;
    std::string detail;                   // JSON: counters and what status shows
    std::string beat_at;                  // ISO 8601 UTC, the server's clock
    double age_seconds = 0;               // since beat_at, by the server's clock
};

// What publish() did: the version's number, whether it is new, and when it was published.
struct PublishResult {
    int64_t id = 0;
    bool fresh = false;
    std::string published_at;  // ISO 8601 UTC, the server's clock
    bool plan_pending = false;  // the version found (not fresh) has no plan written
};

class PolicyVersions {
public:
    // A postgresql:// URI; the tables are created on first use. Throws StoreError.
    explicit PolicyVersions(const std::string& url);
    ~PolicyVersions();
    PolicyVersions(const PolicyVersions&) = delete;
    PolicyVersions& operator=(const PolicyVersions&) = delete;

    // Stores the version unless the site's latest version has its content hash, with its chunks
    // (those already stored are kept as they are), each slice signed by `sign` (given signed_text() under the new version's number); returns the version
    // stored or found. A new version is announced (NOTIFY) on commit; nothing is stored when
    // `sign` throws.
    PublishResult publish(const PublishedVersion& v, const std::function<std::string(const std::string&)>& sign);
    // Adds the plan of version `id` published with plan_pending. A plan once written is never
    // changed (the database refuses it, whoever asks). Throws StoreError.
    void write_plan(int64_t id, const std::string& text, const std::string& json);
    // Stores chunks ahead of the version that names them (in a transaction of their own; a chunk
    // no version names is harmless). Those already stored are kept as they are.
    void store_chunks(const std::vector<HashedChunk>& chunks);
    std::optional<PublishedVersion> latest(const std::string& site) const;  // with its slices
    std::optional<int64_t> latest_id(const std::string& site) const;         // a cheap look for news
    std::optional<int64_t> previous_id(const std::string& site, int64_t id) const;  // the site's version before `id`
    // With its slices, or only `gateway`'s when one is given.
    std::optional<PublishedVersion> version(int64_t id, const std::string* gateway = nullptr) const;
    std::vector<std::string> sites() const;  // that have published versions, sorted
    // The stored chunks among `hashes` (those not stored are not returned).
    std::vector<HashedChunk> chunks(const std::vector<std::string>& hashes) const;
    // Those of `hashes` no chunk is stored under, in the order given.
    std::vector<std::string> missing_chunks(const std::vector<std::string>& hashes) const;

    // LISTEN for new versions; the socket to poll; the sites announced since the last call
    // (empty when nothing came or the connection is down: poll again, or call latest()).
    void listen();
    int socket() const;
    std::vector<std::string> announced();

    void beat(const Heartbeat& h);
    std::vector<Heartbeat> heartbeats(const std::string& site) const;  // sorted by gateway, instance

    const std::string& name() const;  // the URI without its password

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace wardgate
