#include "wardgate/service/publisher.hpp"

#include <chrono>
#include <future>
#include <set>
#include <string_view>

#include "background_job.hpp"
#include "wardgate/core/signing.hpp"
#include "wardgate/plan/publish.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::service {

struct Publisher::State {
    explicit State(const std::filesystem::path& key) : signer(key) {}
    Signer signer;
    std::unique_ptr<PolicyVersions> db;  // connected at the first publish, again after a failure
    SiteLoadCache site_cache;
    FlowReadCache flow_cache;
    CompileMemo compile_memo;
    ChunkWriter chunks;  // the documents' chunks as last cut
    // What this publisher stored last: the next plan compares with it unless somebody else has
    // published since.
    struct Last {
        std::string site;
        int64_t id = 0;
        PolicySnapshot snapshot;
    };
    std::optional<Last> last;
};

Publisher::Publisher(PublisherOptions options) : o_(std::move(options)), state_(std::make_unique<State>(o_.key)) {}
Publisher::~Publisher() = default;

const std::string& Publisher::database() const {
    static const std::string none;
    return state_->db ? state_->db->name() : none;
}

namespace {

using Clock = std::chrono::steady_clock;

void took(std::vector<StageTime>& stages, const char* stage, Clock::time_point& since) {
    const auto now = Clock::now();
    stages.push_back({stage, std::chrono::duration<double, std::milli>(now - since).count()});
    since = now;
}

}  // namespace

PublishOutcome Publisher::publish() {
    State& st = *state_;
    PipelineOptions po = o_.pipeline;
    po.today = o_.today ? *o_.today : today_utc();
    po.gateway.clear();  // the whole site: every gateway's slice is cut from it
    po.site_cache = &st.site_cache;
    po.flow_cache = &st.flow_cache;
    po.compile_memo = &st.compile_memo;
    Pipeline p = run_pipeline(o_.site_dir, po);
    PublishOutcome out;
    out.stages = p.stages;
    auto since = Clock::now();
    // The plan's thread uses these until plan.get(), or until `plan` is destroyed first of them.
    std::optional<PolicySnapshot> before;
    PolicySnapshot now;  // what the plan compared: the next plan's `before`
    PublishedVersion planned;
    std::future<void> plan;
    // What the plan compares with: a stored version's whole policy.
    auto snapshot_of = [&](int64_t id) -> std::optional<PolicySnapshot> {
        auto v = st.db->version(id, nullptr);
        if (!v) return std::nullopt;
        return published_snapshot(*v, [&](const std::vector<std::string>& hashes) { return st.db->chunks(hashes); });
    };
    try {
        if (!st.db) st.db = std::make_unique<PolicyVersions>(o_.to);
        const auto latest = st.db->latest_id(p.policy.site);
        if (latest && st.last && st.last->site == p.policy.site && st.last->id == *latest) {
            before = std::move(st.last->snapshot);  // a publish that fails reads it from the database next time
            st.last.reset();
        } else if (latest) {
            before = snapshot_of(*latest);
        }
        took(out.stages, "previous", since);
        // The plan (the longest part on a large site) is made on a thread of its own while the
        // documents are cut, their new chunks stored and the version published; both only read
        // the pipeline.
        plan = std::async(std::launch::async, [&] {
            // Lowest priority: on a busy host the documents, and the gateways, come first.
            detail::lower_thread_priority(19);
            add_published_plan(planned, p, before, &now);
        });
        out.version = published_documents(p, PublishOptions{o_.author}, st.chunks);
        took(out.stages, "documents", since);
        // The database says which chunks it lacks (a few after an edit): only those are sent.
        const auto missing = st.db->missing_chunks(st.chunks.named_hashes());
        const std::set<std::string_view> lacking(missing.begin(), missing.end());
        st.db->store_chunks(st.chunks.named([&](const std::string& hash) { return lacking.count(hash) > 0; }));
        took(out.stages, "chunks", since);
        // The version goes out without its plan: the gateways start on it at the commit, and the
        // plan follows it into the same row.
        out.version.plan_pending = true;
        out.result = publish_signed(*st.db, out.version, st.signer);
        took(out.stages, "store", since);
    } catch (const StoreError&) {
        st.db.reset();  // a connection that failed is opened afresh next time
        st.chunks.end_round();
        throw;
    } catch (...) {
        st.chunks.end_round();
        throw;
    }
    st.chunks.end_round();
    out.version.id = out.result.id;
    out.version.published_at = out.result.published_at;
    // Published: from here on a failure costs the plan, never the version.
    try {
        plan.get();
        out.version.plan_text = std::move(planned.plan_text);
        out.version.plan_json = std::move(planned.plan_json);
        out.version.plan_pending = false;
        if (out.result.fresh) {
            st.db->write_plan(out.result.id, out.version.plan_text, out.version.plan_json);
        } else if (out.result.plan_pending) {
            // The version holding this policy has no plan (its publisher stopped before writing
            // it): written now, against the version before it.
            const auto previous = st.db->previous_id(p.policy.site, out.result.id);
            PublishedVersion late;
            add_published_plan(late, p, previous ? snapshot_of(*previous) : std::nullopt);
            st.db->write_plan(out.result.id, late.plan_text, late.plan_json);
            out.version.plan_text = std::move(late.plan_text);
            out.version.plan_json = std::move(late.plan_json);
            out.wrote_missing_plan = true;
        }
        took(out.stages, "plan", since);
    } catch (const std::exception& e) {
        if (dynamic_cast<const StoreError*>(&e)) st.db.reset();
        out.plan_error = e.what();
    }
    if (!out.plan_error.empty()) {
        st.last.reset();  // the next plan reads what it compares with from the database
    } else if (!st.last || st.last->id != out.result.id) {
        name_published_snapshot(now, out.result.id, out.result.published_at);
        st.last = State::Last{p.policy.site, out.result.id, std::move(now)};
    }
    st.flow_cache.release_retired();
    return out;
}

}  // namespace wardgate::service
