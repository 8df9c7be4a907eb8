// publish --watch: the publisher's loop, publishing the site again after each edit.
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "notify.hpp"
#include "service_loop.hpp"
#include "signal_fd.hpp"
#include "site_watch.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/service/publisher.hpp"

namespace wardgate::service {

namespace {

using Clock = std::chrono::steady_clock;
// A publish the database (or anything but the site) stopped is tried again after this.
constexpr auto kRetry = std::chrono::seconds(5);

enum class Published { yes, bad_site, failed };

// One publish, logged.
Published publish_logged(Publisher& publisher, const std::string& why) {
    const auto start = Clock::now();
    try {
        auto out = publisher.publish();
        const double ms = detail::ms_since(start);
        if (out.result.fresh) {
            // The plan is written once the gateways have the version.
            std::vector<StageTime> until_stored;
            double plan_ms = 0;
            for (const auto& s : out.stages) {
                if (s.stage == "plan") plan_ms = s.ms;
                else until_stored.push_back(s);
            }
            spdlog::info("{}: published version {} of {} ({} slices) in {:.0f} ms ({}); {}", why, out.result.id,
                         out.version.site, out.version.slices.size(), ms - plan_ms, detail::stage_times(until_stored),
                         out.plan_error.empty() ? fmt::format("its plan written {:.0f} ms later", plan_ms)
                                                : "its plan was not written: " + out.plan_error);
        } else
            spdlog::info("{}: unchanged, version {} of {} holds this policy ({:.0f} ms){}", why, out.result.id,
                         out.version.site, ms,
                         out.wrote_missing_plan ? "; its plan, which its publisher did not write, is written now"
                         : out.plan_error.empty() ? ""
                                                  : "; its missing plan was not written: " + out.plan_error);
        return Published::yes;
    } catch (const InputError& e) {
        spdlog::error("{}: the site does not validate; nothing is published, the gateways keep the last version:", why);
        for (const auto& d : e.diagnostics()) spdlog::error("  {}", d.to_string());
        return Published::bad_site;
    } catch (const std::exception& e) {
        spdlog::error("{}: nothing is published, the gateways keep the last version (tried again in {} s): {}", why,
                      kRetry.count(), e.what());
        return Published::failed;
    }
}

}  // namespace

int run_publisher(const PublisherOptions& options) {
    detail::keep_large_blocks_on_heap();
    detail::SignalFd signals;
    detail::SiteWatcher watcher(options.site_dir);
    Publisher publisher(options);
    constexpr auto kNever = Clock::time_point::max();
    auto publish_at = kNever;
    if (publish_logged(publisher, "publisher start") == Published::failed) publish_at = Clock::now() + kRetry;
    detail::notify_systemd("READY=1\nSTATUS=publishing the site's edits");
    spdlog::info("watching {} for edits", options.site_dir.string());
    std::string reason = "the last publish failed, trying again";
    for (;;) {
        const int timeout = publish_at == kNever ? -1 : detail::ms_until(publish_at);
        pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {watcher.fd(), POLLIN, 0}};
        int r = poll(fds, 2, timeout);
        if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        if (r > 0 && (fds[0].revents & POLLIN)) {
            int sig = signals.next();
            if (sig == SIGHUP) {
                reason = "SIGHUP";
                publish_at = Clock::now();
            } else if (sig) {
                spdlog::info("{}: stopping", strsignal(sig));
                break;
            }
        }
        if (r > 0 && (fds[1].revents & POLLIN) && watcher.read_events()) {
            if (publish_at == kNever) reason = "site changed (" + watcher.last_change() + ")";
            publish_at = Clock::now() + options.debounce;  // every further event restarts the wait
        }
        if (Clock::now() >= publish_at) {
            publish_at = kNever;
            spdlog::info("{}: publishing", reason);
            if (publish_logged(publisher, reason) == Published::failed) {
                publish_at = Clock::now() + kRetry;
                reason = "the last publish failed, trying again";
            }
        }
    }
    detail::notify_systemd("STOPPING=1");
    return 0;
}

}  // namespace wardgate::service
