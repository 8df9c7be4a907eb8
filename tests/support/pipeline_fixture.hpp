#pragma once
#include <string>

#include "temp_site.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/policy/evaluate.hpp"

namespace wardgate::testing {

inline Pipeline pipeline_for(const std::filesystem::path& dir, const std::string& today = "2026-11-22") {
    PipelineOptions opts;
    opts.today = *parse_date(today);
    return run_pipeline(dir, opts);
}

inline Verdict verdict_of(const Policy& p, const std::string& src, const std::string& dst, Protocol proto,
                          uint16_t port) {
    return Evaluator(p).evaluate(*IpAddress::parse(src), *IpAddress::parse(dst), proto, port);
}

// nft -c -f on a ruleset text; returns nft's exit code and keeps its complaint in `err`.
int nft_check(const std::string& ruleset, std::string& err);

}  // namespace wardgate::testing
