#include "wardgate/observe/observer.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "netlink_support.hpp"

namespace wardgate::observe {

namespace {

using Clock = std::chrono::steady_clock;

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

}  // namespace

Observer::Observer(BaselineStore& store, const ObserverOptions& options) : store_(store), options_(options) {
    if (!options.conntrack && !options.nflog_group) throw ObserveError("nothing to observe: neither conntrack nor an NFLOG group");
    if (options.conntrack) conntrack_ = std::make_unique<ConntrackListener>(options.conntrack_options);
    if (options.nflog_group) nflog_ = std::make_unique<NflogListener>(*options.nflog_group, options.nflog_options);
    // Each commit is recorded like an ingested file; this names the run, the batch number follows.
    batch_id_ = fmt::format("{}:{}:{:.6f}", host_name(), getpid(), netlink_support::now_seconds());
}

Observer::~Observer() = default;

void Observer::set_alerts(const AlertDetector* detector, AlertDispatcher* dispatcher) {
    detector_ = detector;
    dispatcher_ = dispatcher;
}

void Observer::poll_once(int timeout_ms) {
    pollfd fds[2];
    nfds_t n = 0;
    if (conntrack_) fds[n++] = {conntrack_->fd(), POLLIN, 0};
    if (nflog_) fds[n++] = {nflog_->fd(), POLLIN, 0};
    int r = ::poll(fds, n, timeout_ms);
    if (r < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    // Read regardless of revents: an overrun shows as POLLERR, and reading is cheap when empty.
    if (conntrack_) {
        conntrack_->read([&](const ConntrackEvent& e) { take(e); });
        summary_.conntrack_events = conntrack_->events();
        summary_.conntrack_lost = conntrack_->lost_events();
    }
    if (nflog_) {
        nflog_->read([&](const DeniedPacket& d) {
            if (d.parsed.trial) {  // accepted by an approval on trial: conntrack records the flow
                ++summary_.trial_connections[d.parsed.rule];
                return;
            }
            FlowRecord rec = d.record();
            pending_denied_.add(rec);
            if (d.application) pending_denied_.note({edge_key(rec), d.application->application, d.time, d.application->detail});
            if (d.dhcp) pending_denied_.note({edge_key(rec), Application::dhcp, d.time, d.dhcp->detail, d.dhcp->subject});
            ++summary_.denied_records;
            std::string why = d.parsed.describe();
            ++summary_.denied_by[why];
            denied_rule_[edge_key(rec)] = std::move(why);
        });
        summary_.nflog_packets = nflog_->packets();
        summary_.nflog_lost = nflog_->lost_events();
    }
    summary_.undecodable = (conntrack_ ? conntrack_->undecodable() : 0) + (nflog_ ? nflog_->undecodable() : 0);
}

void Observer::commit(const std::string& source, const std::string& format, Aggregator& edges) {
    if (edges.records() == 0 && pending_commits_.pending() == 0) return;
    std::vector<CommittedBatch> committed;
    if (edges.records() > 0) {
        const double now = netlink_support::now_seconds();
        StoreBatch batch;
        batch.file.file.path =
            format == "nflog" ? fmt::format("nflog group {}", nflog_->group()) : std::string("conntrack events");
        batch.file.file.hash = fmt::format("{}:{}:{}", format, batch_id_, ++batch_);
        batch.file.file.size = edges.records();
        batch.file.file.mtime = now;
        batch.file.source = source;
        batch.file.format = format;
        batch.file.records = edges.records();
        batch.file.ingested_at = now;
        batch.edges = edges.edges();
        batch.sightings = edges.sightings();
        committed = pending_commits_.commit(store_, std::move(batch));
    } else {
        committed = pending_commits_.retry(store_);
    }
    edges = Aggregator{};
    for (const auto& c : committed) report(c, c.batch.file.format == "nflog");
    summary_.uncommitted_records = pending_commits_.pending_records();
    summary_.commit_error = pending_commits_.last_error();
    if (pending_commits_.pending() > 0)
        spdlog::warn("baseline database: {}; {} records in {} batches kept, to commit when it answers again",
                     pending_commits_.last_error(), pending_commits_.pending_records(), pending_commits_.pending());
}

void Observer::report(const CommittedBatch& c, bool denied) {
    const auto& list = c.batch.edges;
    const CommitResult& r = c.result;
    ++summary_.commits;
    summary_.edges += list.size();
    if (denied) summary_.denied_edges += list.size();
    summary_.new_edges += r.new_edges.size();
    spdlog::debug("{}: committed {} records, {} edges ({} new)", c.batch.file.source, c.batch.file.records, list.size(),
                  r.new_edges.size());

    if (detector_ && dispatcher_) {
        std::vector<Alert> alerts;
        if (denied) {
            for (const auto& e : list) {
                auto it = std::find_if(r.new_edges.begin(), r.new_edges.end(), [&](const NewEdge& n) { return n.edge.key == e.key; });
                auto why = denied_rule_.find(e.key);
                auto a = detector_->assess_dropped(e, why != denied_rule_.end() ? why->second : std::string("NFLOG"),
                                                   it != r.new_edges.end(), it != r.new_edges.end() && it->peer_known);
                if (a) alerts.push_back(std::move(*a));
            }
        } else {
            alerts = detector_->detect(r.new_edges);
        }
        const uint64_t sent = dispatcher_->sent(), held = dispatcher_->suppressed();
        dispatcher_->dispatch(std::move(alerts));
        summary_.alerts += dispatcher_->sent() - sent;
        summary_.alerts_suppressed += dispatcher_->suppressed() - held;
        try {
            store_.save_alert_marks(dispatcher_->limiter().marks());
        } catch (const StoreError& e) {
            spdlog::warn("alert marks not saved: {}", e.what());
        }
    }
}


void Observer::take(const ConntrackEvent& e) {
    if (auto rec = flows_.on_event(e)) {
        pending_.add(*rec);
        ++summary_.records;
    }
}

void Observer::flush() {
    if (conntrack_) {
        // Events carry no byte counters until DESTROY: a dump brings those of the connections
        // still open into this commit.
        try {
            conntrack_->dump([&](const ConntrackEvent& e) { take(e); });
        } catch (const ObserveError& e) {
            spdlog::warn("{}; the bytes of open connections are reported when they end", e.what());
        }
    }
    commit(kConntrackSource, "conntrack", pending_);
    commit(kDeniedSource, "nflog", pending_denied_);
    denied_rule_.clear();
    if (options_.retention_seconds) {
        try {
            summary_.aged_out += store_.age_out(netlink_support::now_seconds() - *options_.retention_seconds);
        } catch (const StoreError& e) {
            spdlog::warn("retention: {}", e.what());
        }
    }
}

void Observer::run(const std::atomic<bool>& stop) {
    const auto started = Clock::now();
    const auto end = options_.duration ? started + *options_.duration : Clock::time_point::max();
    auto next_flush = started + options_.flush_interval;
    while (!stop.load() && Clock::now() < end) {
        auto wake = std::min({next_flush, end, Clock::now() + std::chrono::milliseconds(200)});
        int timeout = static_cast<int>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count()));
        poll_once(timeout);
        if (Clock::now() >= next_flush) {
            flush();
            next_flush = Clock::now() + options_.flush_interval;
        }
    }
    poll_once(0);
    flush();
}

ConntrackWatch::ConntrackWatch(const ConntrackListenerOptions& options, std::function<void(const FlowRecord&)> on_record)
    : listener_(std::make_unique<ConntrackListener>(options)), on_record_(std::move(on_record)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) throw ObserveError(std::string("eventfd: ") + std::strerror(errno));
    thread_ = std::thread([this] { loop(); });
}

ConntrackWatch::~ConntrackWatch() {
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) < 0) spdlog::warn("conntrack watch: cannot signal the thread to stop");
    if (thread_.joinable()) thread_.join();
    ::close(stop_fd_);
}

void ConntrackWatch::loop() {
    ConntrackFlows flows;
    for (;;) {
        pollfd fds[2] = {{listener_->fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        int r = ::poll(fds, 2, -1);
        if (r < 0 && errno != EINTR) {
            spdlog::error("conntrack watch: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents & POLLIN) return;
        try {
            listener_->read([&](const ConntrackEvent& e) {
                if (!on_record_) return;
                if (auto rec = flows.on_event(e)) on_record_(*rec);
            });
        } catch (const std::exception& e) {
            spdlog::error("conntrack watch: {}; stopped", e.what());
            return;
        }
        events_.store(listener_->events());
        lost_.store(listener_->lost_events());
    }
}

}  // namespace wardgate::observe
