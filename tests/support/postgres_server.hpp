#pragma once
// A real PostgreSQL 15 server for tests: Debian's binaries, `initdb` into a new directory and
// `postgres` on a socket directory of its own, both run as the unprivileged user `nobody`
// (the server refuses root), trust authentication for the superuser `wardgate`, stopped by
// its PID when the object goes.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace wardgate::testing {

struct PostgresOptions {
    // Durability off (fsync, synchronous_commit) for speed; benchmarks keep the defaults.
    bool durable = false;
    std::vector<std::string> settings;  // more "name=value" for the server's command line
};

class PostgresServer {
public:
    explicit PostgresServer(PostgresOptions options = {});
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Starts the server on its existing data directory (after stop()); throws when it does
    // not answer within 30 s, with its log.
    void start();
    // Fast shutdown (SIGINT) by PID, SIGKILL after 30 s.
    void stop();
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }

    // A libpq URI for a database on this server, as `user` (default the superuser).
    std::string url(const std::string& database, const std::string& user = "wardgate") const;
    // Runs SQL as the superuser in `database`; throws with the server's message.
    void execute(const std::string& database, const std::string& sql) const;
    // A new, empty database named `name` (replacing one of that name); its URI.
    std::string create_database(const std::string& name) const;
    std::string log() const;

private:
    void initialise();

    PostgresOptions options_;
    std::filesystem::path dir_;  // data/, run/ (the socket), server.log
    pid_t pid_ = -1;
    pid_t owner_ = -1;  // the process that started it
};

// One server per test process, started on first use and stopped at exit.
PostgresServer& shared_postgres();
// A new database on the shared server, named after `label` and a counter; its URI.
std::string fresh_postgres_database(const std::string& label);

}  // namespace wardgate::testing
