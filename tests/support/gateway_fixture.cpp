#include "gateway_fixture.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "test_paths.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::testing {

Policy gateway_policy() {
    PipelineOptions o;
    o.today = *parse_date("2026-11-22");
    return run_pipeline(kGatewaySite, o).policy;
}

std::string icu_monitor_toml(const std::string& name, const std::string& address) {
    return fmt::format(R"(
[[device]]
name = "{}"
addresses = ["{}"]
role = "patient-monitor"
vendor = "Acme"
model = "Vitals 1"
department = "ICU"
segment = "icu"
fda_class = "II"
lifecycle = "support"
)",
                       name, address);
}

void apply_in(const Netns& gw, const Policy& policy) {
    auto rs = nft::lower_policy(policy);
    std::string out = gw.run([&] { return netlink::apply_ruleset(rs).committed ? std::string("ok") : std::string("not committed"); });
    REQUIRE(out == "ok");
}

std::string live_state(const Netns& ns) {
    return ns.run([] { return netlink::describe_live_table(); });
}

}  // namespace wardgate::testing
