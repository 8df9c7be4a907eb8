// The shared database over TLS, against a real PostgreSQL 15 with a test CA: a connection
// string with sslmode=verify-full and the CA works for every component; a server certificate
// from another CA, a host name the certificate does not name, and a connection without TLS
// are all refused.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/postgres_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"

using namespace wardgate::testing;

namespace {

void run_ok(const std::string& command) {
    INFO(command);
    REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

// A CA and a certificate it signs for `name` (DNS:localhost), EC P-256, in `dir`.
void issue(const std::filesystem::path& dir, const std::string& ca, const std::string& name) {
    const std::string d = dir.string();
    if (!std::filesystem::exists(dir / (ca + ".crt")))
        run_ok(fmt::format("openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout {0}/{1}.key "
                           "-out {0}/{1}.crt -days 2 -subj /CN={1}",
                           d, ca));
    run_ok(fmt::format("openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout {0}/{2}.key "
                       "-out {0}/{2}.csr -subj /CN=localhost",
                       d, ca, name));
    std::ofstream(dir / "san.ext") << "subjectAltName=DNS:localhost\n";
    run_ok(fmt::format("openssl x509 -req -in {0}/{2}.csr -CA {0}/{1}.crt -CAkey {0}/{1}.key -CAcreateserial -out {0}/{2}.crt "
                       "-days 2 -extfile {0}/san.ext",
                       d, ca, name));
}

}  // namespace

TEST_CASE("the database over TLS: verify-full with the CA works, another CA, another host name or no TLS are refused",
          "[fleet][postgres]") {
    // Under /var/tmp: the server runs as nobody and reads its certificate and key from here.
    char pattern[] = "/var/tmp/wardgate-tls-XXXXXX";
    REQUIRE(::mkdtemp(pattern));
    const std::filesystem::path dir = pattern;
    struct Remove {
        std::filesystem::path p;
        ~Remove() { std::filesystem::remove_all(p); }
    } remove{dir};
    std::filesystem::permissions(dir, std::filesystem::perms(0755));
    issue(dir, "ca", "server");
    issue(dir, "other-ca", "impostor");
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody);
    for (const char* f : {"server.key", "server.crt"}) REQUIRE(::chown((dir / f).c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    std::filesystem::permissions(dir / "server.key", std::filesystem::perms(0600));
    // TLS or nothing over TCP; the test's own socket stays for create_database.
    std::ofstream(dir / "pg_hba.conf") << "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";

    PostgresServer server({false,
                           {"ssl=on", "ssl_cert_file=" + (dir / "server.crt").string(),
                            "ssl_key_file=" + (dir / "server.key").string(), "hba_file=" + (dir / "pg_hba.conf").string(),
                            "listen_addresses=127.0.0.1"}});
    server.create_database("tls");
    auto url = [&](const std::string& host, const std::string& mode, const std::string& ca) {
        return fmt::format("postgresql://wardgate@{}:5432/tls?sslmode={}&sslrootcert={}", host, mode, (dir / ca).string());
    };

    const std::string good = url("localhost", "verify-full", "ca.crt");
    auto setup = run_wardgate(fmt::format("db-setup --db '{}'", good));
    INFO(setup.out << setup.err);
    CHECK(setup.exit_code == 0);
    TempDir tmp("tls-keys");
    REQUIRE(run_wardgate(fmt::format("keygen {0}/k {0}/k.pub", tmp.path.string())).exit_code == 0);
    auto published = run_wardgate(fmt::format("publish {} --to '{}' --key {}/k -q", kGatewaySite, good, tmp.path.string()));
    INFO(published.out << published.err);
    CHECK(published.exit_code == 0);
    auto ingest = run_wardgate(fmt::format("ingest {} --db '{}'", kExampleSite + "/flows/conn.log", good));
    CHECK(ingest.exit_code == 0);

    auto other_ca = run_wardgate(fmt::format("fleet --db '{}'", url("localhost", "verify-full", "other-ca.crt")));
    CHECK(other_ca.exit_code == 1);
    CHECK_THAT(other_ca.err, Catch::Contains("certificate verify failed"));
    auto by_address = run_wardgate(fmt::format("fleet --db '{}'", url("127.0.0.1", "verify-full", "ca.crt")));
    CHECK(by_address.exit_code == 1);
    CHECK_THAT(by_address.err, Catch::Contains("does not match host name"));
    auto plain = run_wardgate(fmt::format("fleet --db '{}'", url("localhost", "disable", "ca.crt")));
    CHECK(plain.exit_code == 1);
    CHECK_THAT(plain.err, Catch::Contains("no encryption"));
    // The password-less URI is what messages show: no query string secrets either way.
    CHECK_THAT(other_ca.err, Catch::Contains("postgresql://wardgate@localhost:5432/tls"));
}
