#include "postgres_server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace wardgate::testing {

namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";
constexpr int kPort = 5432;  // on a socket directory of the server's own: never a clash

struct Nobody {
    uid_t uid;
    gid_t gid;
};

Nobody nobody() {
    const passwd* p = ::getpwnam("nobody");
    if (!p) throw std::runtime_error("no user nobody to run PostgreSQL as");
    return {p->pw_uid, p->pw_gid};
}

// Runs `argv` as nobody with output to `log`; returns the child's PID.
pid_t spawn_as_nobody(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    const Nobody n = nobody();
    pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
        }
        int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, STDIN_FILENO);
        if (::setgroups(0, nullptr) != 0 || ::setgid(n.gid) != 0 || ::setuid(n.uid) != 0) ::_exit(126);
        ::unsetenv("PGDATA");
        ::setenv("LC_ALL", "C", 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return child;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

PostgresServer::PostgresServer(PostgresOptions options) : options_(std::move(options)) {
    // Under /var/tmp, which every user may traverse (/tmp may be private to root).
    char pattern[] = "/var/tmp/wardgate-pg-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const Nobody n = nobody();
    std::filesystem::create_directories(dir_ / "run");
    for (const auto& p : {dir_, dir_ / "run"})
        if (::chown(p.c_str(), n.uid, n.gid) != 0) throw std::runtime_error("cannot chown " + p.string());
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                           std::filesystem::perms::others_exec);
    try {
        initialise();
        start();
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

void PostgresServer::initialise() {
    pid_t init = spawn_as_nobody({std::string(kBin) + "initdb", "-D", (dir_ / "data").string(), "-U", "wardgate",
                                  "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                                 dir_ / "initdb.log");
    int status = 0;
    ::waitpid(init, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("initdb failed:\n" + read_file(dir_ / "initdb.log"));
}

PostgresServer::~PostgresServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void PostgresServer::start() {
    if (pid_ > 0) return;
    std::vector<std::string> argv{std::string(kBin) + "postgres", "-D", (dir_ / "data").string(), "-k",
                                  (dir_ / "run").string(), "-p", std::to_string(kPort), "-c", "listen_addresses="};
    std::vector<std::string> settings = options_.settings;
    if (!options_.durable) {
        settings.push_back("fsync=off");
        settings.push_back("synchronous_commit=off");
        settings.push_back("full_page_writes=off");
    }
    for (const auto& s : settings) {
        argv.push_back("-c");
        argv.push_back(s);
    }
    pid_ = spawn_as_nobody(argv, dir_ / "server.log");
    owner_ = ::getpid();
    const std::string ping = "host=" + (dir_ / "run").string() + " port=" + std::to_string(kPort) +
                             " dbname=postgres user=wardgate connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (PQping(ping.c_str()) == PQPING_OK) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("PostgreSQL exited at start:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("PostgreSQL did not answer within 30 s:\n" + log());
}

void PostgresServer::stop() {
    // A forked test child that exits normally must not stop its parent's server.
    if (pid_ <= 0 || ::getpid() != owner_) return;
    ::kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
}

std::string PostgresServer::url(const std::string& database, const std::string& user) const {
    return "postgresql:///" + database + "?host=" + (dir_ / "run").string() + "&port=" + std::to_string(kPort) +
           "&user=" + user;
}

void PostgresServer::execute(const std::string& database, const std::string& sql) const {
    std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url(database).c_str()), &PQfinish);
    if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c.get()));
    PQsetNoticeProcessor(c.get(), [](void*, const char*) {}, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        throw std::runtime_error(sql + ": " + PQresultErrorMessage(r.get()));
}

std::string PostgresServer::create_database(const std::string& name) const {
    execute("postgres", "DROP DATABASE IF EXISTS " + name);
    execute("postgres", "CREATE DATABASE " + name);
    return url(name);
}

std::string PostgresServer::log() const { return read_file(dir_ / "server.log"); }

PostgresServer& shared_postgres() {
    static PostgresServer server;
    return server;
}

std::string fresh_postgres_database(const std::string& label) {
    static std::atomic<int> counter{0};
    std::string name = "wg_";
    for (char c : label) name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    name = name.substr(0, 40) + "_" + std::to_string(++counter);
    return shared_postgres().create_database(name);
}

}  // namespace wardgate::testing
