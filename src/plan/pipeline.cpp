#include "wardgate/plan/pipeline.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "wardgate/core/signing.hpp"
#include "wardgate/policy/compile.hpp"
#include "wardgate/policy/slice.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate {

Date today_utc() {
    return Date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

// A file inside the site the way the site's own diagnostics name it, others as given.
static std::string display_path(const std::filesystem::path& file, const std::filesystem::path& site_dir) {
    auto rel = file.lexically_relative(site_dir);
    return !rel.empty() && *rel.begin() != ".." ? rel.string() : file.string();
}

// [export.TARGET] must name a target the exports know, and only interfaces that target takes,
// or they would never be used.
static void check_export_targets(const Site& site) {
    Diagnostics diags;
    const auto& targets = export_targets();
    for (const auto& e : site.exports) {
        if (std::find(targets.begin(), targets.end(), e.target) == targets.end()) {
            std::string known;
            for (const auto& t : targets) known += (known.empty() ? "" : ", ") + t;
            diags.add("site.toml", e.line, 0, "export." + e.target, "unknown export target (" + known + ")");
            continue;
        }
        for (const auto& entry : e.interfaces)
            if (auto refusal = export_interface_refusal(e.target, entry.first); !refusal.empty())
                diags.add("site.toml", e.line, 0, "export." + e.target + ".interfaces." + entry.first, refusal);
    }
    diags.throw_if_any();
}

static void add_read_notes(Pipeline& p);

namespace {

// Stamps each stage's duration into the pipeline as it ends.
class StageClock {
public:
    explicit StageClock(std::vector<StageTime>& out) : out_(out) {}
    void lap(const char* stage) {
        auto now = std::chrono::steady_clock::now();
        out_.push_back({stage, std::chrono::duration<double, std::milli>(now - start_).count()});
        start_ = now;
    }

private:
    std::vector<StageTime>& out_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

// Each file's path with the digest of its contents; empty when one cannot be read (the read
// itself then reports it). A digest the cache holds is reused when stat(2) says the file is the
// one it hashed, untouched since, and it had been quiet for longer than any file system's
// timestamp granularity when it was hashed: a later write in the same timestamp tick as the
// hashed one is then impossible.
static std::vector<FlowReadCache::File> fingerprints(const std::vector<std::filesystem::path>& files,
                                                     const FlowReadCache& kept) {
    constexpr int64_t kQuietNs = 3'000'000'000;
    std::vector<FlowReadCache::File> out;
    for (const auto& f : files) {
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0) return {};
        FlowReadCache::File file;
        file.path = f;
        file.stat = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                     static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
        auto known = std::find_if(kept.files.begin(), kept.files.end(), [&](const FlowReadCache::File& k) { return k.path == f; });
        if (known != kept.files.end() && known->stat == file.stat &&
            std::max(file.stat.modified_ns, file.stat.changed_ns) + kQuietNs < known->hashed_ns) {
            file.sha256 = known->sha256;
            file.hashed_ns = known->hashed_ns;
        } else {
            file.hashed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
            auto digest = sha256_file_hex(f);
            if (!digest) return {};
            file.sha256 = std::move(*digest);
        }
        out.push_back(std::move(file));
    }
    return out;
}

// Reads the flow files (and the baseline store) into p's reads, sightings and MACs, and
// classifies their edges.
static void read_flows(Pipeline& p, const std::vector<std::filesystem::path>& files, const PipelineOptions& options,
                       StageClock& clock, std::vector<ClassifiedEdge> storage) {
    Aggregator flows;
    for (const auto& f : files) {
        try {
            p.reads.push_back({f, read_flow_file(f, flows, options.progress)});
        } catch (const InputError& e) {
            // Name files inside the site the way the site's own diagnostics do.
            auto diags = e.diagnostics();
            for (auto& d : diags) d.file = display_path(d.file, p.site->dir);
            throw InputError(std::move(diags));
        }
    }
    if (!options.store.empty()) {
        if (!is_database_url(options.store.native()) && !std::filesystem::exists(options.store))
            throw InputError(Diagnostic{options.store.string(), 0, 0, "", "no such baseline database"});
        EdgeQuery observed;
        observed.include_denied = false;  // dropped attempts are not traffic to allow
        BaselineStore store(options.store);
        store.merge_into(flows, observed);
        for (auto& s : store.sightings()) flows.note(std::move(s));
        for (const auto& m : store.macs()) flows.note_mac(m);
    }
    p.sightings = flows.sightings();
    p.macs = flows.macs();
    clock.lap("flows");
    p.edges = classify_edges(flows.edges(), *p.book, options.today, std::move(storage));
}

// The flows read (or, in serve, taken from the cache when their files are unchanged) and
// classified against p's site; the cache then holds what this load read and classified.
static void read_and_classify(Pipeline& p, const PipelineOptions& options, StageClock& clock,
                              std::vector<ClassifiedEdge> storage) {
    auto files = p.site->flow_files;
    files.insert(files.end(), options.extra_flows.begin(), options.extra_flows.end());
    // serve: files whose contents are what they were at the last load are not read again.
    std::vector<FlowReadCache::File> read_as;
    if (options.flow_cache && options.store.empty()) read_as = fingerprints(files, *options.flow_cache);
    const bool kept_reads = !read_as.empty() && read_as == options.flow_cache->files;
    if (kept_reads) {
        FlowReadCache& kept = *options.flow_cache;
        p.reads = kept.reads;
        p.sightings = kept.sightings;
        p.macs = kept.macs;
        clock.lap("flows");
        Reclassification what;
        p.edges = reclassify_edges(kept.edges, *kept.site, kept.today, *p.book, options.today, std::move(storage), &what);
        if (what.carried) {
            p.lineage.from = kept.list;
            p.lineage.edited = std::move(what.edited);
        }
    } else {
        read_flows(p, files, options, clock, std::move(storage));
    }
    if (!read_as.empty()) {
        FlowReadCache& kept = *options.flow_cache;
        if (!kept_reads) {
            kept.reads = p.reads;
            kept.sightings = p.sightings;
            kept.macs = p.macs;
        }
        kept.files = std::move(read_as);
        kept.retired_edges = kept.edges;
        kept.retired_site = kept.site;
        kept.edges = p.edges;  // shared, not copied
        kept.list = p.lineage.list = kept.list + 1;
        kept.site = p.site;
        kept.today = options.today;
    }
    clock.lap("classify");
}

Pipeline run_pipeline(const std::filesystem::path& site_dir, const PipelineOptions& options) {
    Pipeline p;
    StageClock clock(p.stages);
    p.today = options.today;
    p.site = std::make_shared<Site>();
    {
        // The address book reads the devices' addresses, the segments and the endpoints: built
        // while the site's cross-file checks read it too (and thrown away if they fail), and while
        // the stages raised by date change the devices' life-cycle fields and the site's warnings.
        std::future<std::unique_ptr<AddressBook>> book;
        load_site(*p.site, site_dir, options.site_cache, [&] {
            book = std::async(std::launch::async, [&] { return std::make_unique<AddressBook>(*p.site); });
        });
        check_export_targets(*p.site);
        if (!options.gateway.empty()) p.gateway = declared_gateway(*p.site, options.gateway).name;
        raise_stages_by_date(*p.site, options.today);
        p.book = book.get();
    }
    clock.lap("site");
    // Reading and classifying the flows needs the site and nothing else; so does compiling what
    // the profiles declare and the approvals allow. They run side by side, and the compiler waits
    // for the edges when the observed baseline is next. The flow task writes only p's reads,
    // sightings, MACs and edges (and the flow cache), which nothing reads until it is joined.
    // Its largest block, the classified edges, is allocated here: another thread's malloc arena
    // maps a block that large afresh, and every reload would fault it in again.
    std::vector<ClassifiedEdge> storage;
    if (options.flow_cache) storage.reserve(options.flow_cache->edges.size());
    std::vector<StageTime> flow_stages;
    const std::shared_future<void> flows = std::async(std::launch::async, [&, storage = std::move(storage)]() mutable {
                                               StageClock flow_clock(flow_stages);
                                               read_and_classify(p, options, flow_clock, std::move(storage));
                                           }).share();
    const ObservedEdges observed = [&] {
        flows.get();  // waits the first time; rethrows what stopped the flows every time
        return ObservedView{&static_cast<const std::vector<ClassifiedEdge>&>(p.edges), &p.lineage};
    };
    DnsBindResult dns = bind_dns_names(*p.site, options.dns);
    p.dns = std::move(dns.answers);
    clock.lap("dns");
    p.policy = compile_policy(*p.book, observed, options.today, p.dns, options.compile_memo);
    flows.get();
    p.dns_warnings = dns.warnings;
    add_read_notes(p);
    clock.lap("compile");
    // Flows and classification ran alongside the compilation: their own times, listed before it.
    p.stages.insert(p.stages.end() - 2, flow_stages.begin(), flow_stages.end());
    if (!p.gateway.empty()) {
        p.policy = slice_for_gateway(std::move(p.policy), *p.site, p.gateway);
        clock.lap("slice");
    }
    return p;
}

static Pipeline recompile(const Pipeline& base, std::shared_ptr<Site> site, const Date& day) {
    Pipeline p;
    p.today = day;
    p.site = std::move(site);
    p.book = std::make_unique<AddressBook>(*p.site);
    p.reads = base.reads;
    p.sightings = base.sightings;
    p.macs = base.macs;
    p.edges = reclassify_edges(base.edges, *base.site, base.today, *p.book, day);
    p.dns = base.dns;
    p.dns_warnings = base.dns_warnings;
    p.policy = compile_policy(*p.book, p.edges, day, p.dns);
    add_read_notes(p);
    p.gateway = base.gateway;
    if (!p.gateway.empty()) p.policy = slice_for_gateway(std::move(p.policy), *p.site, p.gateway);
    return p;
}

Pipeline recompile_on(const Pipeline& base, const Date& day) {
    auto site = std::make_shared<Site>(load_site(base.site->dir));
    raise_stages_by_date(*site, day);
    return recompile(base, std::move(site), day);
}

Pipeline recompile_with(const Pipeline& base, Site site) {
    return recompile(base, std::make_shared<Site>(std::move(site)), base.today);
}

// Warnings of DNS binding and of the flow files lead the policy's notes.
static void add_read_notes(Pipeline& p) {
    for (const auto& w : p.dns_warnings)
        p.policy.notes.insert(p.policy.notes.begin(), PolicyNote{PolicyNote::Level::warning, w, "dns", ""});
    for (auto r = p.reads.rbegin(); r != p.reads.rend(); ++r)
        for (auto w = r->summary.warnings.rbegin(); w != r->summary.warnings.rend(); ++w)
            p.policy.notes.insert(p.policy.notes.begin(),
                                  PolicyNote{PolicyNote::Level::warning, display_path(r->file, p.site->dir) + ": " + *w,
                                             "flow-file", display_path(r->file, p.site->dir)});
    for (const auto& r : p.reads)
        if (r.summary.rows == 0)
            p.policy.notes.insert(p.policy.notes.begin(),
                                  PolicyNote{PolicyNote::Level::warning,
                                             display_path(r.file, p.site->dir) +
                                                 ": holds no flow records: nothing from it was observed, so nothing "
                                                 "from it shows as blocked",
                                             "flow-file-empty", display_path(r.file, p.site->dir)});
}

}  // namespace wardgate
