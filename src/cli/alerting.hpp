#pragma once
// The alert options that ingest, collect and observe share, and what they set up: the
// site's pipeline (for device context), the detector, and the sinks alerts go to.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "wardgate/alerts/sinks.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::cli {

struct AlertingOptions {
    std::string site, today, alerts, syslog;
    double alert_window = 3600;
};

void add_alerting_options(CLI::App* cmd, AlertingOptions& o, const std::string& site_help);

// Not movable: the detector refers into the pipeline.
struct Alerting {
    std::optional<Pipeline> pipeline;
    std::optional<SiblingBehaviour> siblings;  // before the detector, which refers to it
    std::optional<AlertDetector> detector;
    AlertDispatcher dispatcher;

    void print_summary(std::ostream& out) const;
};

// Throws InputError when alert sinks are given without a site. Without a site, nothing alerts.
std::unique_ptr<Alerting> open_alerting(const AlertingOptions& o, BaselineStore& store);

}  // namespace wardgate::cli
