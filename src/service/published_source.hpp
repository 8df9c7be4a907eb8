#pragma once
// serve --from: the published versions the gateway follows. Keeps no connection open while
// the database is away; every call says what it could do and never throws for the database.
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "wardgate/core/signing.hpp"
#include "wardgate/plan/publish.hpp"
#include "wardgate/service/serve.hpp"
#include "wardgate/service/status.hpp"
#include "wardgate/store/policy_versions.hpp"

namespace wardgate::service::detail {

struct AcceptedSlice {
    PublishedVersion version;  // with the one slice that was accepted
    Policy policy;
};

class PublishedSource {
public:
    // Reads the publisher's key (throws SigningError); connects when it first can.
    PublishedSource(const ServeOptions& options, ControllerStatus& status);
    ~PublishedSource();

    int fd() const;      // to poll for announcements; -1 while not connected
    bool announced();    // a version of our site was published since the last call
    // The newest version when it is newer than `applied`: accepted, or SliceRefused thrown.
    // nullopt when there is nothing newer or the database cannot be reached (status says which).
    std::optional<AcceptedSlice> newer_than(int64_t applied);
    void beat(const Heartbeat& h);

    // The slice last applied, kept in the state directory so a restart without the database
    // enforces it again; checked as when it was fetched.
    void keep(const std::filesystem::path& state_dir, const PublishedVersion& v) const;
    std::optional<AcceptedSlice> kept(const std::filesystem::path& state_dir) const;

    const std::string& site() const { return site_; }

private:
    bool connect();
    void lost(const std::exception& e);

    const ServeOptions& o_;
    ControllerStatus& status_;
    SignatureCheck publisher_;
    std::unique_ptr<PolicyVersions> db_;
    // Connected and listening while nothing is published there yet: the first announcement
    // (which names the site) is heard at once, not at the next heartbeat.
    std::unique_ptr<PolicyVersions> waiting_;
    std::string site_;
    std::set<int64_t> refused_;  // versions refused once are not fetched and refused again
    // The documents' chunks as checked and read: a new version fetches only those it adds.
    // Mutable: kept() reads the copy in the state directory into it.
    mutable ChunkReader chunks_;
};

}  // namespace wardgate::service::detail
