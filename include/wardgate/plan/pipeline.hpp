#pragma once
// load -> ingest -> classify -> compile: everything a front end needs, in one call.
#include <filesystem>
#include <memory>
#include <vector>

#include "wardgate/flows/readers.hpp"
#include "wardgate/graph/classify.hpp"
#include "wardgate/policy/compile_memo.hpp"
#include "wardgate/policy/ir.hpp"
#include "wardgate/resolve/bind.hpp"
#include "wardgate/site/load.hpp"

namespace wardgate {

struct FlowReadCache;

struct PipelineOptions {
    Date today;                                        // approvals expire against this day
    std::vector<std::filesystem::path> extra_flows;   // in addition to the site's own flow files
    std::filesystem::path store;                       // baseline database whose edges join them (empty: none)
    ProgressCallback progress;
    DnsBindOptions dns;                                // how DNS-only endpoints get their addresses
    std::string gateway;                               // a [[gateway]] of the site: compile only its slice
    SiteLoadCache* site_cache = nullptr;               // kept between loads of the same site (serve)
    FlowReadCache* flow_cache = nullptr;               // likewise; not used with a baseline store
    CompileMemo* compile_memo = nullptr;               // likewise (its baseline part only with flow_cache)
};

struct FileSummary {
    std::filesystem::path file;
    ReadSummary summary;
};

// What the flow files gave at the last load (serve): an edit of the inventory classifies the
// same observations again without reading the files, as long as every file's contents (by
// SHA-256) are what they were, and only the edges whose ends it changed (reclassify_edges).
struct FlowReadCache {
    struct File {
        std::filesystem::path path;
        std::string sha256;
        // What stat(2) said when it was hashed. A file whose device, inode, size, modification
        // and change times are all still these, and that had been quiet for a while when it was
        // hashed, is not read again to be hashed (as git trusts its index).
        struct Stat {
            uint64_t device = 0, inode = 0, size = 0;
            int64_t modified_ns = 0, changed_ns = 0;
            bool operator==(const Stat&) const = default;
        } stat;
        int64_t hashed_ns = 0;  // when, on the real-time clock
        bool operator==(const File& o) const { return path == o.path && sha256 == o.sha256; }
    };
    std::vector<File> files;
    std::vector<FileSummary> reads;
    SharedEdges edges;                       // as classified against `site` on `today`
    uint64_t list = 0;                       // edges' number (EdgeLineage), counting up from 1
    std::shared_ptr<const Site> site;
    Date today;
    std::vector<ApplicationSighting> sightings;
    std::vector<MacSighting> macs;
    // What the last load replaced: freeing a hundred thousand edges and devices takes a while,
    // so the caller lets go of them when it suits (serve: once the kernel holds the policy).
    SharedEdges retired_edges;
    std::shared_ptr<const Site> retired_site;
    void release_retired() {
        retired_edges = SharedEdges();
        retired_site.reset();
    }
};

struct StageTime {
    std::string stage;  // "site", "flows", "classify", "dns", "compile", "slice"
    double ms = 0;
};

struct Pipeline {
    std::shared_ptr<Site> site;          // AddressBook points into it: keep it in place
    std::unique_ptr<AddressBook> book;
    std::vector<FileSummary> reads;
    SharedEdges edges;                   // observed, classified, sorted by key
    EdgeLineage lineage;                 // with a flow cache: where the edges came from
    std::vector<ApplicationSighting> sightings;  // what showed each edge's applications, sorted by edge
    std::vector<MacSighting> macs;               // the Ethernet addresses the captures showed, by address
    Policy policy;
    DnsAnswers dns;                      // the answers DNS-only endpoints were compiled with
    std::vector<std::string> dns_warnings;
    Date today;                          // the day approvals were checked against
    std::string gateway;                 // policy is this gateway's slice ("" = the whole site)
    std::vector<StageTime> stages;       // how long run_pipeline spent on each stage
};

Pipeline run_pipeline(const std::filesystem::path& site_dir, const PipelineOptions& options);

// The same site and the same observations, as the policy will be on `day`: the site read
// again, life-cycle stages raised and approvals expired by that day, the flows not read again.
Pipeline recompile_on(const Pipeline& base, const Date& day);

// The same observations on another version of the site (devices moved, say), compiled on the
// same day: the flows are not read again, only classified against the other site's addresses.
// `site` must be valid as load_site leaves it, with its stages already raised.
Pipeline recompile_with(const Pipeline& base, Site site);

Date today_utc();

}  // namespace wardgate
