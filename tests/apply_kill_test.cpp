// `wardgate apply` killed with SIGKILL at random moments during large applies (10k
// devices, whole-table and element-delta transactions): afterwards the kernel holds
// exactly the old table or exactly the new one, never a part of either.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "support/clock.hpp"
#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "wardgate/netlink/nft_apply.hpp"

using namespace std::chrono_literals;
using wardgate::testing::Clock;
using wardgate::testing::Netns;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kDevices = 10000;
constexpr int kKills = 20;

// The gateway test site with the ICU widened to a /16 holding `devices` monitors, device
// number `first` onwards (so two versions differ in every element). Every other address is
// left out: adjacent hosts would merge into ranges and make the sets small.
fs::path large_site(const TempDir& dir, const std::string& name, int devices, int first) {
    fs::path site = dir.path / name;
    fs::copy(fs::path(WARDGATE_SOURCE_DIR) / "tests/data/gateway-site", site, fs::copy_options::recursive);
    std::string toml = wardgate::testing::read_text(site / "site.toml");
    auto at = toml.find("ipv4 = [\"10.110.0.0/24\"]");
    REQUIRE(at != std::string::npos);
    toml.replace(at, std::string("ipv4 = [\"10.110.0.0/24\"]").size(), "ipv4 = [\"10.110.0.0/16\"]");
    std::ofstream(site / "site.toml") << toml;
    std::ofstream out(site / "devices.toml");
    for (int i = 0; i < devices; ++i) {
        int host = first + i;
        out << fmt::format(
            "[[device]]\nname = \"monitor-{}\"\naddresses = [\"10.110.{}.{}\"]\nrole = \"patient-monitor\"\n"
            "vendor = \"Acme\"\nmodel = \"Vitals 1\"\nsegment = \"icu\"\nlifecycle = \"support\"\n\n",
            host, host / 120, 2 + 2 * (host % 120));
    }
    return site;
}

// `nft -s list table` with the elements of each set sorted: hash sets list their
// elements in bucket order, which differs between two instances of the same set.
std::string normalized(const std::string& listing) {
    std::istringstream in(listing);
    std::string line, out, pending;
    bool in_elements = false;
    auto flush = [&] {
        std::vector<std::string> elems;
        std::string item;
        std::istringstream parts(pending);
        while (std::getline(parts, item, ',')) {
            item.erase(0, item.find_first_not_of(" \t\n"));
            item.erase(item.find_last_not_of(" \t\n") + 1);
            if (!item.empty()) elems.push_back(item);
        }
        std::sort(elems.begin(), elems.end());
        out += "elements " + std::to_string(elems.size()) + ":";
        for (const auto& e : elems) out += " " + e;
        out += "\n";
        pending.clear();
    };
    while (std::getline(in, line)) {
        if (!in_elements) {
            auto at = line.find("elements = {");
            if (at == std::string::npos) {
                out += line + "\n";
                continue;
            }
            in_elements = true;
            line = line.substr(at + 12);
        }
        auto close = line.find('}');
        pending += " " + line.substr(0, close) + " ";
        if (close != std::string::npos) {
            in_elements = false;
            flush();
        }
    }
    return out;
}

struct Table {
    std::string listing;    // normalized `nft -s list table inet wardgate`
    std::string canonical;  // netlink::describe_live_table (wire encoding, sorted)
    bool operator==(const Table&) const = default;
};

Table live_table(const Netns& ns) {
    return {normalized(ns.nft_list()), ns.run([] { return wardgate::netlink::describe_live_table(); })};
}

// `wardgate apply` inside the namespace, as a child of this process (so it can be killed).
pid_t spawn_apply(const Netns& ns, const fs::path& site, bool full) {
    std::vector<std::string> argv = {WARDGATE_BINARY, "apply", site.string(), "--today", "2026-11-22", "--yes", "--color", "never"};
    if (full) argv.push_back("--full");
    return spawn_in(ns, argv, "/dev/null");
}

int wait_exit(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

std::chrono::milliseconds timed_apply(const Netns& ns, const fs::path& site, bool full) {
    auto start = Clock::now();
    int status = wait_exit(spawn_apply(ns, site, full));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

TEST_CASE("SIGKILL during large applies leaves exactly the old or the new table", "[kernel][cli][slow]") {
    Netns ns("kill");
    TempDir dir("kill");
    fs::path site_a = large_site(dir, "a", kDevices, 0);
    fs::path site_b = large_site(dir, "b", kDevices, kDevices);

    // The two versions, each installed without interruption.
    auto t_full = timed_apply(ns, site_a, true);
    Table a = live_table(ns);
    auto t_delta = timed_apply(ns, site_b, false);
    Table b = live_table(ns);
    REQUIRE(a.listing.find("elements 10000:") != std::string::npos);
    REQUIRE(b.listing.find("elements 10000:") != std::string::npos);
    REQUIRE_FALSE(a == b);

    std::random_device rd;
    const unsigned seed = rd();
    INFO("seed " << seed << ", whole-table apply " << t_full.count() << " ms, element delta " << t_delta.count() << " ms");
    std::mt19937 rng(seed);
    bool on_a = false;
    int old_kept = 0, new_found = 0;
    for (int i = 0; i < kKills; ++i) {
        bool full = i % 2 == 0;
        auto span = full ? t_full : t_delta;
        // Uniform over the run, a little past its usual end (a loaded machine is slower).
        std::uniform_int_distribution<long> delay(0, span.count() * 11 / 10);
        auto wait = std::chrono::milliseconds(delay(rng));
        const Table& from = on_a ? a : b;
        const Table& to = on_a ? b : a;
        pid_t pid = spawn_apply(ns, on_a ? site_b : site_a, full);
        std::this_thread::sleep_for(wait);
        kill(pid, SIGKILL);
        wait_exit(pid);

        Table now = live_table(ns);
        INFO("kill " << i << " after " << wait.count() << " ms, " << (full ? "whole table" : "element delta"));
        bool is_old = now == from, is_new = now == to;
        CHECK((is_old || is_new));
        if (!is_old && !is_new) break;
        if (is_new) {
            ++new_found;
            on_a = !on_a;
        } else {
            ++old_kept;
        }
    }
    WARN("killed `wardgate apply` " << kKills << " times with -9 (seed " << seed << "): old table kept " << old_kept
                                     << " times, new table " << new_found << " times (any other state fails the test)");
    // Whatever the kills left behind (records, temporary files), the next applies work
    // and install exactly each version.
    timed_apply(ns, site_a, false);
    CHECK(live_table(ns) == a);
    timed_apply(ns, site_b, false);
    CHECK(live_table(ns) == b);
    struct stat st {};
    if (::stat(("/run/netns/" + ns.name()).c_str(), &st) == 0) {
        std::error_code ignored;
        fs::remove(fmt::format("/run/wardgate/nft-wardgate.netns-{}.commit", st.st_ino), ignored);
    }
}
