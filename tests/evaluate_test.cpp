// The Evaluator answers as the rendered ruleset does.
#include <catch2/catch.hpp>

#include "support/pipeline_fixture.hpp"

using namespace wardgate;
using namespace wardgate::testing;

TEST_CASE("an ICMP pinhole holds whatever port explain is asked with", "[explain][baseline]") {
    // The kernel's ICMP baseline set holds the two hosts alone, so `explain ... icmp/8` must
    // find the pinhole as `explain ... icmp` does, for every message that starts a connection.
    auto files = small_site_files();
    auto& site_toml = files["site.toml"];
    site_toml.replace(site_toml.find("flows = [\"flows/conn.log\"]"), 26, "flows = [\"flows/conn.log\", \"flows/icmp.csv\"]");
    files["flows/icmp.csv"] =
        "initiator,responder,protocol,port,established,connections\n10.200.0.31,10.110.0.23,icmp,0,true,4\n";
    TempSite site(files);
    auto p = pipeline_for(site.dir());
    REQUIRE(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, 0).by == Verdict::By::pinhole);
    for (uint16_t port : {icmp_port(8, 0), icmp_port(13, 0), icmp_port(17, 0)}) {
        INFO("icmp message " << port);
        auto v = verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, port);
        CHECK(v.allowed);
        CHECK(v.by == Verdict::By::pinhole);
    }
    // A reply starts no connection, pinhole or not: the kernel drops it on its own as invalid.
    CHECK(verdict_of(p.policy, "10.200.0.31", "10.110.0.23", Protocol::icmp, icmp_port(0, 0)).by == Verdict::By::not_new);
    auto r = run_wardgate("explain " + site.dir().string() + " 10.200.0.31 10.110.0.23 icmp/8");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("ALLOWED") != std::string::npos);
}
