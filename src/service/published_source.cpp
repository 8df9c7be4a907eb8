#include "published_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "state_lock.hpp"
#include "wardgate/service/confirm.hpp"
#include "wardgate/store/baseline_store.hpp"

#include "wardgate/core/file_io.hpp"
#include "wardgate/plan/snapshot.hpp"

namespace wardgate::service::detail {

namespace published_source {

std::string now_utc() { return describe_ms(now_ms()); }

// A chunk's name as a file name: hex digits only, nothing that could leave the directory.
bool hex_name(const std::string& h) { return !h.empty() && h.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace published_source

PublishedSource::PublishedSource(const ServeOptions& options, ControllerStatus& status)
    : o_(options), status_(status), publisher_(options.publisher_key), site_(options.site_name) {
    try {
        status_.database = database_display_name(o_.from);
    } catch (const std::exception&) {
        status_.database = "(not a connection URI)";
    }
    connect();
}

PublishedSource::~PublishedSource() = default;

bool PublishedSource::connect() {
    if (db_) return true;
    try {
        auto db = waiting_ ? std::move(waiting_) : std::make_unique<PolicyVersions>(o_.from);
        status_.database = db->name();
        db->listen();  // before the sites are read: a version published in between is announced
        if (site_.empty()) {
            auto sites = db->sites();
            if (sites.size() != 1) {
                status_.reachable = true;
                status_.last_error = sites.empty() ? "nothing is published there yet"
                                                   : std::to_string(sites.size()) + " sites are published there: name one (--site-name)";
                if (sites.empty()) waiting_ = std::move(db);
                return false;
            }
            site_ = sites.front();
        }
        db_ = std::move(db);
        status_.reachable = true;
        status_.last_error.clear();
        status_.last_contact = published_source::now_utc();
        spdlog::info("following the versions of {} published in {}", site_, status_.database);
        return true;
    } catch (const std::exception& e) {
        lost(e);
        return false;
    }
}

void PublishedSource::lost(const std::exception& e) {
    if (status_.reachable || status_.last_error != e.what())
        spdlog::warn("policy database: {}; the last applied version stays enforced", e.what());
    status_.reachable = false;
    status_.last_error = e.what();
}

int PublishedSource::fd() const { return db_ ? db_->socket() : waiting_ ? waiting_->socket() : -1; }

bool PublishedSource::announced() {
    if (!db_ && waiting_) {
        if (waiting_->announced().empty()) return false;
        return connect();  // something is published now: which site, connect() finds out
    }
    if (!db_) return false;
    auto sites = db_->announced();
    return std::find(sites.begin(), sites.end(), site_) != sites.end();
}

std::optional<AcceptedSlice> PublishedSource::newer_than(int64_t applied) {
    if (!connect()) return std::nullopt;
    std::optional<PublishedVersion> latest;
    try {
        auto id = db_->latest_id(site_);
        status_.reachable = true;
        status_.last_error.clear();
        status_.last_contact = published_source::now_utc();
        if (!id) return std::nullopt;
        status_.latest_version = std::max(status_.latest_version, *id);
        if (*id <= applied || refused_.count(*id)) return std::nullopt;
        latest = db_->version(*id, &o_.gateway);
    } catch (const std::exception& e) {
        lost(e);
        return std::nullopt;
    }
    if (!latest) return std::nullopt;
    try {
        Policy p = accept_slice(*latest, o_.gateway, publisher_, chunks_,
                                [&](const std::vector<std::string>& hashes) { return db_->chunks(hashes); });
        chunks_.end_round();  // what the previous version named and this one does not
        return AcceptedSlice{*latest, std::move(p)};
    } catch (const SliceRefused&) {
        refused_.insert(latest->id);
        throw;
    } catch (const std::exception& e) {
        lost(e);
        return std::nullopt;
    }
}

void PublishedSource::beat(const Heartbeat& h) {
    if (!connect()) return;
    try {
        db_->beat(h);
        status_.reachable = true;
        status_.last_error.clear();
        status_.last_contact = published_source::now_utc();
    } catch (const std::exception& e) {
        lost(e);
    }
}

void PublishedSource::keep(const std::filesystem::path& state_dir, const PublishedVersion& v) const {
    const PublishedSlice& s = v.slices.front();
    // The chunks beside it, a file each named by its hash: an edit writes only the few it
    // changed, and the ones no longer named are removed.
    const auto dir = state_dir / "published-chunks";
    std::filesystem::create_directories(dir);
    const auto named = chunks_named(nlohmann::json::parse(s.document));
    const std::set<std::string> wanted(named.begin(), named.end());
    for (const auto& h : named) {
        const std::string* body = chunks_.body(h);
        if (!body || !published_source::hex_name(h) || std::filesystem::exists(dir / h)) continue;
        // Not synced one by one: a chunk a crash left short does not match its name, and kept()
        // refuses it rather than enforce it.
        const auto tmp = dir / (h + ".tmp");
        std::ofstream(tmp, std::ios::binary | std::ios::trunc) << *body;
        std::filesystem::rename(tmp, dir / h);
    }
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (!wanted.count(it->path().filename().string())) std::filesystem::remove(it->path(), ec);
    nlohmann::json j{{"site", v.site}, {"id", v.id}, {"published_at", v.published_at},
                     {"author", v.author}, {"gateway", s.gateway}, {"document", s.document},
                     {"hash", s.hash}, {"signature", s.signature}};
    write_file_atomically(state_dir / "published-slice.json", j.dump());
}

std::optional<AcceptedSlice> PublishedSource::kept(const std::filesystem::path& state_dir) const {
    auto text = read_input_file_if_present(state_dir / "published-slice.json");
    if (!text) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(*text);
        PublishedVersion v;
        v.site = j.at("site").get<std::string>();
        v.id = j.at("id").get<int64_t>();
        v.published_at = j.at("published_at").get<std::string>();
        v.author = j.at("author").get<std::string>();
        v.slices.push_back({j.at("gateway").get<std::string>(), j.at("document").get<std::string>(),
                            j.at("hash").get<std::string>(), j.at("signature").get<std::string>()});
        if ((!site_.empty() && v.site != site_) || v.slices.front().gateway != o_.gateway) return std::nullopt;
        // Chunk files are read only once the signature checked out, and checked against their names.
        Policy p = accept_slice(v, o_.gateway, publisher_, chunks_, [&](const std::vector<std::string>& hashes) {
            std::vector<HashedChunk> out;
            for (const auto& h : hashes)
                if (published_source::hex_name(h))
                    if (auto body = read_input_file_if_present(state_dir / "published-chunks" / h)) out.push_back({h, std::move(*body)});
            return out;
        });
        return AcceptedSlice{v, std::move(p)};
    } catch (const std::exception& e) {
        spdlog::error("{}: the kept copy of the last applied version does not check out: {}",
                      (state_dir / "published-slice.json").string(), e.what());
        return std::nullopt;
    }
}

}  // namespace wardgate::service::detail
