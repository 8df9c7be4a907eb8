// wardgate installed the way a gateway gets it: `cmake --install` into a staging directory and
// run with the source and build trees out of sight, and the Debian package built, inspected,
// installed, run and purged.
#include <catch2/catch.hpp>

#include <filesystem>

#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"

using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

const fs::path kBuildDir = fs::path(WARDGATE_BINARY).parent_path();

std::string sh(const std::string& command, int want = 0) {
    std::string out;
    int status = shell(command + " 2>&1", &out);
    INFO(command << "\n" << out);
    REQUIRE(status == want);
    return out;
}

}  // namespace

TEST_CASE("an installed wardgate runs without its source tree", "[install]") {
    TempDir stage("install-stage");
    sh("DESTDIR=" + stage.path.string() + " cmake --install " + kBuildDir.string() + " >/dev/null");
    auto bin = stage.path / "usr/bin/wardgate";
    auto example = stage.path / "usr/share/doc/wardgate/examples/example-hospital";
    REQUIRE(fs::exists(bin));
    REQUIRE(fs::exists(stage.path / "usr/share/wardgate/templates/asa/config.mustache"));
    REQUIRE(fs::exists(stage.path / "usr/lib/systemd/system/wardgate.service"));
    REQUIRE(fs::exists(stage.path / "etc/wardgate/README"));
    REQUIRE(fs::exists(example / "site.toml"));
    CHECK_THAT(read_text(stage.path / "usr/lib/systemd/system/wardgate.service"),
               Catch::Contains("ExecStart=/usr/bin/wardgate serve /etc/wardgate/site"));
    CHECK_THAT(read_text(stage.path / "usr/lib/systemd/system/wardgate-publisher.service"),
               Catch::Contains("ExecStart=/usr/bin/wardgate publish /etc/wardgate/site --to ${WARDGATE_POLICY_DB}"));
    // The source tree (and the build tree inside it) hidden under an empty tmpfs, in a mount
    // namespace of this command only.
    auto out = stage.path / "exports";
    std::string run = "unshare -m sh -ec 'mount -t tmpfs none " + kSourceDir + "; test ! -e " + kSourceDir +
                      "/templates; B=" + bin.string() + "; S=" + example.string() + "; $B --version; $B check $S --today "
                      "2026-11-22; $B plan $S --today 2026-11-22 --color never || test $? = 2; $B export $S --today "
                      "2026-11-22 --target all --out " + out.string() + "'";
    auto text = sh(run);
    CHECK_THAT(text, Catch::Contains("wardgate " WARDGATE_VERSION " ("));
    CHECK_THAT(text, Catch::Contains("St. Example General Hospital: 7 segments, 46 devices"));
    CHECK_THAT(text, Catch::Contains("observed flows would be blocked"));
    for (const char* f : {"st-example-general-hospital-asa.cfg", "st-example-general-hospital-panos.set",
                          "st-example-general-hospital-fortios.conf", "st-example-general-hospital-srx.set",
                          "st-example-general-hospital-ios.cfg", "st-example-general-hospital-iptables.rules"}) {
        INFO(f);
        CHECK(fs::file_size(out / f) > 1000);
    }
}

TEST_CASE("the Debian package: contents, dependencies, install, run, purge", "[install][package]") {
    sh("cd " + kBuildDir.string() + " && cpack -G DEB >cpack-test.log");
    std::string deb = sh("ls -1 " + kBuildDir.string() + "/wardgate_*.deb | tail -n 1");
    deb.erase(deb.find_last_not_of("\n") + 1);
    auto info = sh("dpkg-deb -I " + deb);
    CHECK_THAT(info, Catch::Contains("Package: wardgate"));
    for (const char* lib : {"libnftnl11", "libmnl0", "libnftables1", "libnl-3-200", "libpcap0.8", "libsqlite3-0",
                            "libc-ares2", "libspdlog1"}) {
        INFO(lib);
        CHECK_THAT(info, Catch::Contains(lib));
    }
    auto files = sh("dpkg-deb -c " + deb);
    for (const char* f : {"./usr/bin/wardgate", "./usr/share/wardgate/templates/panos/config.mustache",
                          "./usr/lib/systemd/system/wardgate.service", "./usr/lib/systemd/system/wardgate-publisher.service",
                          "./usr/share/man/man1/wardgate.1.gz",
                          "./etc/wardgate/README", "./usr/share/doc/wardgate/examples/example-hospital/site.toml"}) {
        INFO(f);
        CHECK_THAT(files, Catch::Contains(f));
    }
    CHECK_THAT(sh("dpkg-deb -e " + deb + " /tmp/wardgate-deb-control && cat /tmp/wardgate-deb-control/conffiles"),
               Catch::Contains("/etc/wardgate/README"));
    sh("rm -rf /tmp/wardgate-deb-control");

    sh("dpkg -i " + deb + " >/dev/null");
    CHECK_THAT(sh("/usr/bin/wardgate --version"), Catch::Contains("wardgate " WARDGATE_VERSION));
    CHECK(fs::exists("/usr/share/man/man1/wardgate.1.gz"));
    if (shell("command -v systemd-analyze >/dev/null") == 0)
        sh("systemd-analyze verify /usr/lib/systemd/system/wardgate.service /usr/lib/systemd/system/wardgate-publisher.service");
    sh("dpkg --purge wardgate >/dev/null");
    CHECK_FALSE(fs::exists("/usr/bin/wardgate"));
    CHECK_FALSE(fs::exists("/etc/wardgate"));
    CHECK_FALSE(fs::exists("/usr/share/wardgate"));
}
