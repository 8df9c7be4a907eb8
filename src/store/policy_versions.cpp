// Published policy versions, their slices and the gateways' heartbeats in PostgreSQL.
#include "wardgate/store/policy_versions.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "postgres.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

namespace policy_version_tables {

// 2: versions no longer unique by content (going back to an earlier policy is a new version);
// signatures cover the version's number. 3: documents in chunks. 4: a version's plan may follow
// it (NULL until written, then never changed).
constexpr int kSchemaVersion = 4;
constexpr const char* kSchemaLock = "7157302154628706922";  // pg_advisory_xact_lock key, wardgate's own
constexpr const char* kChannel = "wardgate_policy";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS wardgate_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS policy_versions (
    id bigserial PRIMARY KEY,
    site text NOT NULL,
    content_hash text NOT NULL,
    author text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    plan_text text NOT NULL,
    plan_json text NOT NULL);
ALTER TABLE policy_versions DROP CONSTRAINT IF EXISTS policy_versions_site_content_hash_key;
ALTER TABLE policy_versions ALTER COLUMN plan_text DROP NOT NULL;
ALTER TABLE policy_versions ALTER COLUMN plan_json DROP NOT NULL;
CREATE OR REPLACE FUNCTION wardgate_plan_written_once() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF OLD.plan_text IS NOT NULL OR OLD.plan_json IS NOT NULL THEN
        RAISE EXCEPTION 'the plan of policy version % is already written and is never changed', OLD.id;
    END IF;
    IF (NEW.site, NEW.content_hash, NEW.author, NEW.published_at) IS DISTINCT FROM
       (OLD.site, OLD.content_hash, OLD.author, OLD.published_at) THEN
        RAISE EXCEPTION 'policy version % is published: only its plan may be added', OLD.id;
    END IF;
    RETURN NEW;
END $f$;
DROP TRIGGER IF EXISTS plan_written_once ON policy_versions;
CREATE TRIGGER plan_written_once BEFORE UPDATE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION wardgate_plan_written_once();
CREATE INDEX IF NOT EXISTS policy_versions_by_site ON policy_versions (site, id);
CREATE TABLE IF NOT EXISTS policy_slices (
    version bigint NOT NULL REFERENCES policy_versions (id),
    gateway text NOT NULL,
    document text NOT NULL,
    hash text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (version, gateway));
CREATE TABLE IF NOT EXISTS policy_chunks (
    hash text PRIMARY KEY,
    body text NOT NULL);
CREATE TABLE IF NOT EXISTS gateway_heartbeats (
    site text NOT NULL,
    gateway text NOT NULL,
    instance text NOT NULL,
    applied_version bigint NOT NULL,
    applied_at text NOT NULL,
    mode text NOT NULL,
    drift boolean NOT NULL,
    last_error text NOT NULL,
    detail text NOT NULL,
    beat_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site, gateway, instance));
)sql";

constexpr const char* kUtc = "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

std::string utc(const char* column) {
    std::string out = kUtc;
    out.replace(out.find("%s"), 2, column);
    return out;
}

// A text[] literal of chunk names. Hex digests only: anything else could not name a chunk and
// would need quoting here.
std::string hash_array(const std::vector<std::string>& hashes) {
    std::string list = "{";
    for (const auto& h : hashes) {
        if (h.empty() || h.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
        list += (list.size() > 1 ? "," : "") + h;
    }
    return list + "}";
}

}  // namespace policy_version_tables

std::string signed_text(const std::string& site, int64_t version, const PublishedSlice& slice) {
    // JSON: no site or gateway name can make two different tuples read the same.
    return nlohmann::json{{"signed", "wardgate policy slice 2"},
                          {"site", site},
                          {"version", version},
                          {"gateway", slice.gateway},
                          {"sha256", slice.hash}}
        .dump(-1, ' ', true);
}

void insert_chunks(store_internal::pg::Connection& db, const std::vector<HashedChunk>& chunks) {
    for (const auto& c : chunks)
        db.exec("INSERT INTO policy_chunks (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING", {c.hash, c.body});
}

struct PolicyVersions::Impl {
    explicit Impl(const std::string& url) : db(url, "the policy database") {}
    store_internal::pg::Connection db;
    bool listening = false;

    std::optional<PublishedVersion> read(const std::string& where, const std::vector<std::string>& params,
                                         const std::string* gateway = nullptr) {
        using namespace policy_version_tables;
        auto r = db.exec("SELECT id, site, content_hash, author, " + utc("published_at") +
                             ", plan_text, plan_json FROM policy_versions WHERE " + where + " ORDER BY id DESC LIMIT 1",
                         params);
        if (r.rows() == 0) return std::nullopt;
        PublishedVersion v{r.integer(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4), r.text(0, 5), r.text(0, 6),
                           r.null(0, 5), {}, {}};
        std::vector<std::string> slice_params{std::to_string(v.id)};
        if (gateway) slice_params.push_back(*gateway);
        auto s = db.exec(std::string("SELECT gateway, document, hash, signature FROM policy_slices WHERE version = $1") +
                             (gateway ? " AND gateway = $2" : "") + " ORDER BY gateway",
                         slice_params);
        for (int i = 0; i < s.rows(); ++i) v.slices.push_back({s.text(i, 0), s.text(i, 1), s.text(i, 2), s.text(i, 3)});
        return v;
    }
};

PolicyVersions::PolicyVersions(const std::string& url) : impl_(std::make_unique<Impl>(url)) {
    using namespace policy_version_tables;
    store_internal::pg::prepare_schema(impl_->db, {"policy_schema", kSchemaVersion, kSchemaLock, kSchema, "policy versions"});
}
PolicyVersions::~PolicyVersions() = default;

const std::string& PolicyVersions::name() const { return impl_->db.name(); }

PublishResult PolicyVersions::publish(const PublishedVersion& v, const std::function<std::string(const std::string&)>& sign) {
    using namespace policy_version_tables;
    auto& db = impl_->db;
    return db.transaction([&]() -> PublishResult {
        // Two publishers of one site queue here; the second then finds the first's version.
        // Only the latest counts: going back to an earlier policy is a new version.
        db.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))", {v.site});
        auto found = db.exec("SELECT id, content_hash, " + utc("published_at") +
                                 ", plan_text IS NULL FROM policy_versions WHERE site = $1 ORDER BY id DESC LIMIT 1",
                             {v.site});
        if (found.rows() > 0 && found.text(0, 1) == v.content_hash)
            return {found.integer(0, 0), false, found.text(0, 2), found.boolean(0, 3)};
        auto row = db.exec(v.plan_pending ? "INSERT INTO policy_versions (site, content_hash, author) "
                                            "VALUES ($1, $2, $3) RETURNING id, " + utc("published_at")
                                          : "INSERT INTO policy_versions (site, content_hash, author, plan_text, plan_json) "
                                            "VALUES ($1, $2, $3, $4, $5) RETURNING id, " + utc("published_at"),
                           v.plan_pending ? std::vector<std::string>{v.site, v.content_hash, v.author}
                                          : std::vector<std::string>{v.site, v.content_hash, v.author, v.plan_text, v.plan_json});
        const int64_t id = row.integer(0, 0);
        insert_chunks(db, v.chunks);
        for (const auto& s : v.slices)
            db.exec("INSERT INTO policy_slices (version, gateway, document, hash, signature) VALUES ($1, $2, $3, $4, $5)",
                    {std::to_string(id), s.gateway, s.document, s.hash, sign(signed_text(v.site, id, s))});
        db.exec("SELECT pg_notify($1, $2)", {kChannel, v.site});
        return {id, true, row.text(0, 1), v.plan_pending};
    });
}

void PolicyVersions::write_plan(int64_t id, const std::string& text, const std::string& json) {
    impl_->db.exec("UPDATE policy_versions SET plan_text = $2, plan_json = $3 WHERE id = $1", {std::to_string(id), text, json});
}

void PolicyVersions::store_chunks(const std::vector<HashedChunk>& chunks) {
    if (chunks.empty()) return;
    impl_->db.transaction([&] { insert_chunks(impl_->db, chunks); });
}

std::optional<PublishedVersion> PolicyVersions::latest(const std::string& site) const {
    return impl_->read("site = $1", {site});
}

std::optional<PublishedVersion> PolicyVersions::version(int64_t id, const std::string* gateway) const {
    return impl_->read("id = $1", {std::to_string(id)}, gateway);
}

std::optional<int64_t> PolicyVersions::latest_id(const std::string& site) const {
    auto r = impl_->db.exec("SELECT max(id) FROM policy_versions WHERE site = $1", {site});
    if (r.null(0, 0)) return std::nullopt;
    return r.integer(0, 0);
}

std::optional<int64_t> PolicyVersions::previous_id(const std::string& site, int64_t id) const {
    auto r = impl_->db.exec("SELECT max(id) FROM policy_versions WHERE site = $1 AND id < $2", {site, std::to_string(id)});
    if (r.null(0, 0)) return std::nullopt;
    return r.integer(0, 0);
}

std::vector<HashedChunk> PolicyVersions::chunks(const std::vector<std::string>& hashes) const {
    std::vector<HashedChunk> out;
    if (hashes.empty()) return out;
    auto r = impl_->db.exec("SELECT hash, body FROM policy_chunks WHERE hash = ANY($1::text[])",
                            {policy_version_tables::hash_array(hashes)});
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1)});
    return out;
}

std::vector<std::string> PolicyVersions::missing_chunks(const std::vector<std::string>& hashes) const {
    std::vector<std::string> out;
    if (hashes.empty()) return out;
    auto r = impl_->db.exec("SELECT h FROM unnest($1::text[]) WITH ORDINALITY AS given(h, n) "
                            "WHERE NOT EXISTS (SELECT 1 FROM policy_chunks WHERE hash = h) ORDER BY n",
                            {policy_version_tables::hash_array(hashes)});
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
}

std::vector<std::string> PolicyVersions::sites() const {
    auto r = impl_->db.exec("SELECT DISTINCT site FROM policy_versions ORDER BY site");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
}

void PolicyVersions::listen() {
    // Again after every reconnection: a server restart forgets who listened.
    impl_->db.on_connect(std::string("LISTEN ") + policy_version_tables::kChannel);
    impl_->listening = true;
}

int PolicyVersions::socket() const { return impl_->db.socket(); }

std::vector<std::string> PolicyVersions::announced() {
    auto out = impl_->db.notifications();
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void PolicyVersions::beat(const Heartbeat& h) {
    impl_->db.exec(
        "INSERT INTO gateway_heartbeats (site, gateway, instance, applied_version, applied_at, mode, drift, last_error, "
        "detail, beat_at) VALUES ($1, $2, COALESCE(NULLIF($3, ''), session_user), $4, $5, $6, $7, $8, $9, now()) ON CONFLICT (site, gateway, instance) DO "
        "UPDATE SET applied_version = excluded.applied_version, applied_at = excluded.applied_at, mode = excluded.mode, "
        "drift = excluded.drift, last_error = excluded.last_error, detail = excluded.detail, beat_at = now()",
        {h.site, h.gateway, h.instance, std::to_string(h.applied_version), h.applied_at, h.mode, h.drift ? "t" : "f",
         h.last_error, h.detail});
}

std::vector<Heartbeat> PolicyVersions::heartbeats(const std::string& site) const {
    using namespace policy_version_tables;
    auto r = impl_->db.exec("SELECT site, gateway, instance, applied_version, applied_at, mode, drift, last_error, detail, " +
                                utc("beat_at") + ", extract(epoch FROM now() - beat_at)::float8 FROM gateway_heartbeats "
                                                 "WHERE site = $1 ORDER BY gateway, instance",
                            {site});
    std::vector<Heartbeat> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.integer(i, 3), r.text(i, 4), r.text(i, 5), r.boolean(i, 6),
                       r.text(i, 7), r.text(i, 8), r.text(i, 9), r.real(i, 10)});
    return out;
}

}  // namespace wardgate
