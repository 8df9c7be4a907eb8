// The service's event loop: signals, site edits, status clients and timers.
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "capabilities.hpp"
#include "gateway.hpp"
#include "notify.hpp"
#include "service_loop.hpp"
#include "signal_fd.hpp"
#include "site_watch.hpp"
#include "status_socket.hpp"
#include "wardgate/service/serve.hpp"
#include "wardgate/store/baseline_store.hpp"

namespace wardgate::service {

namespace {

using Clock = std::chrono::steady_clock;
// Commit-confirmed deadlines are honoured within this.
constexpr auto kTick = std::chrono::milliseconds(250);

}  // namespace

int run_service(const ServeOptions& options) {
    detail::keep_large_blocks_on_heap();
    detail::SignalFd signals;
    detail::StatusServer server(options.socket.empty() ? default_socket_path() : options.socket);
    // A site directory to watch, or (serve --from) the versions published in a database.
    std::optional<detail::SiteWatcher> watcher;
    if (options.from.empty()) watcher.emplace(options.site_dir);
    detail::Gateway gateway(options);
    if (options.drop_capabilities) {
        try {
            spdlog::info("capabilities: {}", detail::keep_only_network_capabilities());
        } catch (const std::exception& e) {
            spdlog::warn("capabilities: {}; running with the ones it has", e.what());
        }
    }
    gateway.start();
    detail::notify_systemd("READY=1\nSTATUS=enforcing the site policy");
    spdlog::info("serving {}: status on {}, drift checks every {} ms",
                 options.from.empty() ? options.site_dir.string() : "the versions published in " + database_display_name(options.from),
                 (options.socket.empty() ? default_socket_path() : options.socket).string(), options.drift_interval.count());

    auto next_drift = Clock::now() + options.drift_interval;
    auto next_tick = Clock::now() + kTick;
    auto next_beat = options.from.empty() ? Clock::time_point::max() : Clock::now();
    constexpr auto kNever = Clock::time_point::max();
    auto reload_at = kNever;
    std::string changed;
    for (;;) {
        auto wake = std::min({next_drift, next_tick, reload_at, next_beat});
        // poll() skips negative descriptors: no watcher under --from, no database while it is away.
        pollfd fds[6] = {{signals.fd(), POLLIN, 0},
                         {watcher ? watcher->fd() : -1, POLLIN, 0},
                         {server.fd(), POLLIN, 0},
                         {gateway.published_fd(), POLLIN, 0},
                         {gateway.scored_fd(), POLLIN, 0},
                         {gateway.drift_fd(), POLLIN, 0}};
        int r = poll(fds, 6, detail::ms_until(wake));
        if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        if (r > 0 && (fds[0].revents & POLLIN)) {
            int sig = signals.next();
            if (sig == SIGHUP) {
                changed = "SIGHUP";
                reload_at = Clock::now();
            } else if (sig) {
                spdlog::info("{}: stopping; the policy stays in the kernel", strsignal(sig));
                break;
            }
        }
        if (r > 0 && (fds[1].revents & POLLIN) && watcher->read_events()) {
            if (reload_at == kNever) changed = watcher->last_change();
            reload_at = Clock::now() + options.debounce;  // every further event restarts the wait
        }
        if (r > 0 && (fds[2].revents & POLLIN))
            server.serve_one([&](const nlohmann::json& req) {
                return detail::answer_request(req, [&] { return gateway.status(); });
            });
        if (r > 0 && (fds[4].revents & POLLIN)) gateway.scored();
        if (r > 0 && (fds[5].revents & POLLIN)) gateway.drift_checked();
        auto now = Clock::now();
        if (now >= next_beat) {
            gateway.heartbeat();
            next_beat = Clock::now() + options.heartbeat;
        }
        if (now >= next_tick) {
            gateway.tick();
            next_tick = now + kTick;
        }
        if (now >= reload_at) {
            reload_at = kNever;
            gateway.reload(changed);
        }
        if (now >= next_drift) {
            gateway.check_drift();
            gateway.write_metrics();
            next_drift = Clock::now() + options.drift_interval;
        }
        // Last before poll(), whether or not the database's socket woke it: an announcement that
        // arrived while the gateway waited for a query's answer (its heartbeat, the fetch of the
        // last version) was read with that answer and waits in the connection's queue, where
        // poll() cannot see it.
        gateway.published_announced();
    }
    detail::notify_systemd("STOPPING=1");
    return 0;
}

}  // namespace wardgate::service
