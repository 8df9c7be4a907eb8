// Prometheus text exposition format, for node_exporter's textfile collector.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wardgate/service/status.hpp"

namespace wardgate::service {

namespace {

std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

struct Writer {
    std::string out;
    void family(const char* name, const char* type, const char* help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(const char* name, const std::string& labels, uint64_t value) {
        out += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
    void gauge_value(const char* name, const std::string& labels, double value) {
        out += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
};

}  // namespace

std::string render_metrics(const ServiceStatus& s) {
    Writer w;
    std::string site = fmt::format("site=\"{}\"", label(s.site));
    auto counter = [&](const char* name, const char* help, uint64_t v) {
        w.family(name, "counter", help);
        w.sample(name, site, v);
    };
    counter("wardgate_applies_total", "Commits of the policy that changed the kernel.", s.counters.applies);
    counter("wardgate_apply_failures_total", "Applies the kernel refused or that failed.", s.counters.apply_failures);
    counter("wardgate_reloads_total", "Site directory changes seen.", s.counters.reloads);
    counter("wardgate_rejected_reloads_total", "Site edits that did not validate; the running policy stayed.", s.counters.rejected_reloads);
    counter("wardgate_rollbacks_total", "Unconfirmed commits rolled back to the previous ruleset.", s.counters.rollbacks);
    counter("wardgate_drift_events_total", "Drift checks that found the kernel table differing from the policy.", s.counters.drift_events);
    counter("wardgate_reasserts_total", "Re-applies of the policy after drift.", s.counters.reasserts);

    if (s.conntrack_lost_events)
        counter("wardgate_conntrack_lost_events_total",
                "Conntrack event receive buffer overruns (each lost at least one event).", *s.conntrack_lost_events);

    if (!s.kpis.empty()) {
        w.family("wardgate_kpi", "gauge",
                 "The scorecard of the site as loaded (wardgate scorecard): shares as ratios 0..1, counts as counts.");
        for (const auto& k : s.kpis)
            w.gauge_value("wardgate_kpi", site + fmt::format(",kpi=\"{}\"", k.key), k.of ? k.ratio() : k.value);
    }

    if (s.controller) {
        counter("wardgate_refused_versions_total",
                "Published versions refused: signature, digest or document did not check out.", s.controller->refused_versions);
        w.family("wardgate_controller_reachable", "gauge", "1 when the policy database answered the last heartbeat.");
        w.sample("wardgate_controller_reachable", site, s.controller->reachable ? 1 : 0);
        w.family("wardgate_published_version", "gauge", "The published version enforced (0: none) and the newest seen.");
        w.sample("wardgate_published_version", site + ",which=\"applied\"", static_cast<uint64_t>(s.controller->applied_version));
        w.sample("wardgate_published_version", site + ",which=\"latest\"", static_cast<uint64_t>(s.controller->latest_version));
    }
    w.family("wardgate_drift", "gauge", "1 when the last drift check found a difference.");
    w.sample("wardgate_drift", site, s.drift ? 1 : 0);
    w.family("wardgate_policy_info", "gauge", "The policy version enforced (always 1).");
    w.sample("wardgate_policy_info", site + fmt::format(",version=\"{}\"", label(s.policy_version)), 1);
    w.family("wardgate_commit_pending", "gauge", "1 while a commit waits for `wardgate confirm`.");
    w.sample("wardgate_commit_pending", site, s.pending_commit ? 1 : 0);

    w.family("wardgate_segment_monitor", "gauge",
             "1 when the segment's default deny logs and accepts (monitor mode), 0 when it drops, as installed.");
    for (const auto& seg : s.segments)
        if (seg.counters_known)
            w.sample("wardgate_segment_monitor", site + fmt::format(",segment=\"{}\"", label(seg.name)),
                     seg.mode == "monitor" ? 1 : 0);
    auto per_segment = [&](const char* name, const char* help, bool would_be, bool bytes) {
        w.family(name, "counter", help);
        for (const auto& seg : s.segments) {
            if (!seg.counters_known) continue;
            uint64_t v = would_be ? (bytes ? seg.would_be_dropped_bytes : seg.would_be_dropped_packets)
                                  : (bytes ? seg.dropped_bytes : seg.dropped_packets);
            w.sample(name, site + fmt::format(",segment=\"{}\"", label(seg.name)), v);
        }
    };
    auto accepted = [&](const char* name, const char* help, bool bytes) {
        w.family(name, "counter", help);
        for (const auto& seg : s.segments) {
            if (!seg.accept_counters_known) continue;
            w.sample(name, site + fmt::format(",segment=\"{}\"", label(seg.name)), bytes ? seg.accepted_bytes : seg.accepted_packets);
        }
    };
    accepted("wardgate_segment_accepted_packets_total",
             "Packets accepted from the segment (else to it), replies included; not the monitor mode's would-be drops.", false);
    accepted("wardgate_segment_accepted_bytes_total",
             "Bytes accepted from the segment (else to it), replies included; not the monitor mode's would-be drops.", true);
    per_segment("wardgate_segment_dropped_packets_total", "Packets dropped by the segment's default deny.", false, false);
    per_segment("wardgate_segment_dropped_bytes_total", "Bytes dropped by the segment's default deny.", false, true);
    per_segment("wardgate_segment_would_be_dropped_packets_total",
                "Packets the segment's default deny would have dropped, accepted and logged because the segment or the "
                "device is in monitor.", true, false);
    per_segment("wardgate_segment_would_be_dropped_bytes_total",
                "Bytes the segment's default deny would have dropped, accepted and logged because the segment or the "
                "device is in monitor.", true, true);
    return w.out;
}

void write_metrics_file(const std::filesystem::path& path, const std::string& text) {
    // node_exporter reads *.prom files only: the temporary name must not end in .prom.
    auto tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    ::fchmod(fd, 0644);  // whatever the umask: node_exporter runs as another user
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(e));
        }
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot rename " + tmp.string() + ": " + std::strerror(e));
    }
}

}  // namespace wardgate::service
