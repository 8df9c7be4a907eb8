// Reads every export back (tests/support/export_readers) and compares what it permits and
// denies with the compiled policy: the same (source, destination, protocol, ports, action)
// tuples, in zones that carry them, in the policy's order, ending in logged default denies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <sstream>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

std::string sample(const std::vector<FlowTuple>& tuples) {
    std::ostringstream ss;
    for (size_t i = 0; i < tuples.size() && i < 8; ++i) ss << "\n  " << tuples[i].to_string();
    if (tuples.size() > 8) ss << "\n  ... " << tuples.size() - 8 << " more";
    return ss.str();
}

std::set<std::string> all_zones(const Policy& p) {
    std::set<std::string> out{"outside"};
    for (const auto& s : p.segments) out.insert("vlan" + std::to_string(s.vlan.value_or(0)));
    return out;
}

bool covers(const std::set<std::string>& scope, const std::string& zone) { return scope.empty() || scope.count(zone); }

}  // namespace

TEST_CASE("every export permits and denies exactly what the policy does", "[export][roundtrip]") {
    for (const auto& c : export_cases()) {
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        // In monitor every default deny is a logged permit of all, each target's in its own
        // shape (per zone, per chain): its golden file pins it; the tuples compare enforcement.
        if (p.policy.mode == EnforcementMode::monitor) continue;
        auto expected = expected_tuples(p.policy);
        REQUIRE(!expected.empty());
        for (const auto& target : export_targets()) {
            DYNAMIC_SECTION(c << " " << target) {
                ExportResult r = render_export(p.policy, target, default_template_dir());
                ParsedConfig parsed = read_export(target, r);
                auto got = parsed_tuples(parsed);
                std::vector<FlowTuple> lost, added;
                std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(lost));
                std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(added));
                INFO("lost:" << sample(lost) << "\nadded:" << sample(added));
                CHECK(lost.empty());
                CHECK(added.empty());
            }
        }
    }
}

TEST_CASE("every tuple is carried in every zone its addresses are in", "[export][roundtrip]") {
    for (const auto& c : export_cases()) {
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        auto expected = expected_tuples(p.policy);
        for (const auto& target : export_targets()) {
            DYNAMIC_SECTION(c << " " << target) {
                ParsedConfig parsed = read_export(target, render_export(p.policy, target, default_template_dir()));
                std::map<FlowTuple, std::vector<const ParsedRule*>> where;
                for (const auto& r : parsed.rules)
                    if (!r.default_deny && !r.reply)
                        for (auto t : r.tuples) {
                            t.ports = every_port_as_one(t.protocol, t.ports);
                            where[t].push_back(&r);
                        }
                std::vector<std::string> missing;
                for (const auto& t : expected) {
                    for (const auto& from : zones_of(p.policy, t.src)) {
                        for (const auto& to : zones_of(p.policy, t.dst)) {
                            const auto& rules = where[t];
                            bool carried = std::any_of(rules.begin(), rules.end(), [&](const ParsedRule* r) {
                                return covers(r->from, from) && covers(r->to, to);
                            });
                            if (!carried) missing.push_back(t.to_string() + " from " + from + " to " + to);
                        }
                    }
                }
                INFO((missing.empty() ? std::string() : missing.front()) << " (" << missing.size() << " missing)");
                CHECK(missing.empty());
            }
        }
    }
}

TEST_CASE("explicit denies come first and logged default denies last, for every zone", "[export][roundtrip]") {
    for (const auto& c : export_cases()) {
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        if (p.policy.mode == EnforcementMode::monitor) continue;  // its default denies are logged permits
        for (const auto& target : export_targets()) {
            DYNAMIC_SECTION(c << " " << target) {
                ParsedConfig parsed = read_export(target, render_export(p.policy, target, default_template_dir()));
                std::map<std::string, std::vector<const ParsedRule*>> contexts;
                for (const auto& r : parsed.rules) contexts[r.context].push_back(&r);
                for (const auto& [name, rules] : contexts) {
                    INFO("context " << name);
                    bool seen_allow = false, seen_default = false, seen_policy = false;
                    for (const ParsedRule* r : rules) {
                        if (r->reply) {
                            CHECK_FALSE(seen_policy);  // a stateless list's replies come before everything
                            continue;
                        }
                        seen_policy = true;
                        if (r->default_deny) {
                            seen_default = true;
                            CHECK(r->logged == p.policy.log_drops);
                            continue;
                        }
                        CHECK_FALSE(seen_default);  // nothing after the default denies
                        if (r->allow) seen_allow = true;
                        if (!r->allow) {
                            CHECK_FALSE(seen_allow);  // explicit denies before every allow
                            CHECK(r->logged == p.policy.log_drops);
                        }
                    }
                    // Junos: every zone pair ends in its own default deny (no global policies).
                    CHECK(rules.back()->default_deny);
                    if (target == "srx") CHECK(name != "global");
                }
                for (const auto& zone : all_zones(p.policy)) {
                    INFO("zone " << zone);
                    CHECK(std::any_of(parsed.rules.begin(), parsed.rules.end(), [&](const ParsedRule& r) {
                        return r.default_deny && !r.allow && covers(r.from, zone);
                    }));
                }
            }
        }
    }
}

TEST_CASE("loading an export over the previous one leaves exactly what the new one allows", "[export][roundtrip][reload]") {
    TempDir dir("export-reload");
    auto before = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    auto after = pipeline_for(write_next_hospital(dir.path), kExportToday);
    auto expected = expected_tuples(after.policy);
    REQUIRE(expected != expected_tuples(before.policy));
    // The targets whose files replace what wardgate loaded before (the reader applies their
    // clear, no and flush forms in the order the device reads them).
    for (const std::string target : {"asa", "ios", "ios-switch", "panos", "fortios", "srx", "iptables"}) {
        DYNAMIC_SECTION(target) {
            ExportResult first = render_export(before.policy, target, default_template_dir());
            ExportResult second = render_export(after.policy, target, default_template_dir());
            ParsedConfig both = read_export(target, loaded_after(first, second));
            auto got = parsed_tuples(both);
            std::vector<FlowTuple> lost, added;
            std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(lost));
            std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(added));
            INFO("lost:" << sample(lost) << "\nadded:" << sample(added));
            CHECK(lost.empty());
            CHECK(added.empty());
            // The same rules in the same order as loading the new file alone.
            ParsedConfig alone = read_export(target, second);
            REQUIRE(both.rules.size() == alone.rules.size());
            for (size_t i = 0; i < alone.rules.size(); ++i) {
                CHECK(both.rules[i].context == alone.rules[i].context);
                CHECK(both.rules[i].tuples == alone.rules[i].tuples);
                CHECK(both.rules[i].default_deny == alone.rules[i].default_deny);
            }
        }
    }
}

TEST_CASE("SRX default denies as global policies (--srx-global-policies) carry the same policy", "[export][roundtrip]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    ExportOptions options;
    options.srx_global_policies = true;
    ExportResult r = render_export(p.policy, "srx", default_template_dir(), options);
    CHECK(r.text.find("security policies global policy wg-default-deny-from-icu match source-address any "
                      "destination-address any application any from-zone icu") != std::string::npos);
    CHECK(r.text.find("policy wg-default-deny-icu-to-") == std::string::npos);  // no zone-pair defaults
    auto expected = expected_tuples(p.policy);
    auto got = parsed_tuples(read_export("srx", r));
    CHECK(got == expected);
    ParsedConfig parsed = read_export("srx", r);
    for (const auto& zone : all_zones(p.policy)) {
        INFO("zone " << zone);
        CHECK(std::any_of(parsed.rules.begin(), parsed.rules.end(),
                          [&](const ParsedRule& rule) { return rule.default_deny && covers(rule.from, zone); }));
    }
}
