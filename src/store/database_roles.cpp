#include "wardgate/store/database_roles.hpp"

#include "postgres.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/policy_versions.hpp"

namespace wardgate {

namespace database_roles {

// Everyone reads the schema versions; collectors and readers need temporary tables (a batch
// is copied into them); row-level security keeps a gateway to its own heartbeat row.
constexpr const char* kGrants = R"sql(
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['wardgate_collector', 'wardgate_reader', 'wardgate_publisher', 'wardgate_gateway'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO wardgate_collector, wardgate_reader, wardgate_publisher',
                   current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO wardgate_gateway', current_database());
END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO wardgate_collector, wardgate_reader, wardgate_publisher, wardgate_gateway;
GRANT SELECT ON wardgate_meta TO wardgate_collector, wardgate_reader, wardgate_publisher, wardgate_gateway;

GRANT SELECT, INSERT, UPDATE, DELETE ON edges, ingested_files, application_sightings, host_macs, alert_marks
    TO wardgate_collector;
GRANT EXECUTE ON FUNCTION wardgate_days_union(bigint[], bigint[]) TO wardgate_collector;

GRANT SELECT ON edges, ingested_files, application_sightings, host_macs, alert_marks, scorecards, policy_versions,
    policy_slices, policy_chunks, gateway_heartbeats TO wardgate_reader;
GRANT INSERT ON scorecards TO wardgate_reader;

GRANT wardgate_reader TO wardgate_publisher;
GRANT INSERT ON policy_versions, policy_slices, policy_chunks TO wardgate_publisher;
GRANT USAGE ON SEQUENCE policy_versions_id_seq TO wardgate_publisher;
GRANT UPDATE (plan_text, plan_json) ON policy_versions TO wardgate_publisher;

GRANT SELECT ON policy_versions, policy_slices, policy_chunks TO wardgate_gateway;
GRANT SELECT, INSERT, UPDATE ON gateway_heartbeats TO wardgate_gateway;
ALTER TABLE gateway_heartbeats ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_heartbeat ON gateway_heartbeats;
CREATE POLICY own_heartbeat ON gateway_heartbeats TO wardgate_gateway
    USING (instance = session_user) WITH CHECK (instance = session_user);
DROP POLICY IF EXISTS read_heartbeats ON gateway_heartbeats;
CREATE POLICY read_heartbeats ON gateway_heartbeats FOR SELECT TO wardgate_reader USING (true);
)sql";

}  // namespace database_roles

void set_up_database(const std::string& url) {
    { BaselineStore baseline(url); }
    { PolicyVersions versions(url); }
    store_internal::pg::Connection db(url);
    db.transaction([&] {
        db.exec("SELECT pg_advisory_xact_lock(7157302154628706923)");
        db.run_script(database_roles::kGrants);
    });
}

}  // namespace wardgate
