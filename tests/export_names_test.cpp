// Platform naming rules on the long-names site: two segments, two roles, two endpoints and two
// deny ids whose names share a 70-character prefix, and a segment called "any". Every name an
// export declares must fit the platform, stay unique after truncation, and avoid reserved words.
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <set>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

// Every first capture of `pattern` in `text`, in order.
std::vector<std::string> captures(const std::string& text, const std::string& pattern) {
    std::vector<std::string> out;
    std::regex re(pattern, std::regex::multiline);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1].str());
    return out;
}

struct NameKind {
    std::string what;
    std::string pattern;  // captures one declared name
    size_t max_length;
    bool keyword_free = true;  // "any" and "all" are reserved for this kind of name
};

void check_names(const std::string& text, const NameKind& kind) {
    auto names = captures(text, kind.pattern);
    INFO(kind.what);
    REQUIRE(!names.empty());
    std::set<std::string> distinct(names.begin(), names.end());
    for (const auto& n : distinct) {
        INFO(n);
        CHECK(n.size() <= kind.max_length);
        if (kind.keyword_free) {
            CHECK(n != "any");
            CHECK(n != "all");
        }
    }
}

// The names derived from the two long segment names: different, cut, with a 6-digit hash.
void check_pair(const std::vector<std::string>& names, size_t max_length) {
    std::regex hashed(".*[-_][0-9a-f]{6}$");
    std::set<std::string> long_ones;
    for (const auto& n : names)
        if (n.find("intensiv") == 0) long_ones.insert(n);
    REQUIRE(long_ones.size() == 2);
    for (const auto& n : long_ones) {
        CHECK(n.size() <= max_length);
        CHECK(std::regex_match(n, hashed));
    }
}

}  // namespace

TEST_CASE("exported names fit each platform and stay unique after truncation", "[export][names]") {
    auto p = pipeline_for(export_case_dir("long-names"), kExportToday);
    std::map<std::string, std::string> text;
    for (const auto& t : export_targets()) text[t] = render_export(p.policy, t, default_template_dir()).combined();

    SECTION("asa") {
        check_names(text["asa"], {"object-groups", "^object-group \\w+ (\\S+)", 64});
        check_names(text["asa"], {"nameifs", "^ nameif (\\S+)", 48});
        check_names(text["asa"], {"access lists", "^access-group (\\S+)", 64});
        check_pair(captures(text["asa"], "^ nameif (\\S+)"), 48);
        CHECK(text["asa"].find(" nameif any-2\n") != std::string::npos);
        // The two long roles' object-groups differ only in their hash suffix.
        auto groups = captures(text["asa"], "^object-group network (wg-role_infusion\\S+)");
        CHECK(std::set<std::string>(groups.begin(), groups.end()).size() == 4);  // two roles, two families
    }
    SECTION("ios") {
        // A router: no VLAN database to name, a dot1Q subinterface per VLAN.
        CHECK(captures(text["ios"], "^vlan (\\S+)").empty());
        check_names(text["ios"], {"access lists", "^ip(?:v6)? access-list (?:extended )?(\\S+)", 64});
        auto subinterfaces = captures(text["ios"], "^interface (\\S+\\.\\d+)");
        CHECK_FALSE(subinterfaces.empty());
        CHECK(std::set<std::string>(subinterfaces.begin(), subinterfaces.end()).size() == subinterfaces.size());
    }
    SECTION("panos") {
        check_names(text["panos"], {"zones", "^set zone (\\S+)", 31});
        check_names(text["panos"], {"addresses", "^set address (\\S+)", 63});
        check_names(text["panos"], {"address groups", "^set address-group (\\S+)", 63});
        check_names(text["panos"], {"rules", "^set rulebase security rules (\\S+)", 63});
        check_pair(captures(text["panos"], "^set zone (\\S+)"), 31);
        auto rules = captures(text["panos"], "^set rulebase security rules (\\S+) from");
        CHECK(std::set<std::string>(rules.begin(), rules.end()).size() == rules.size());
    }
    SECTION("fortios") {
        auto interfaces = captures(text["fortios"], "^    edit \"(\\S+)\"\\n        set vdom");
        check_names(text["fortios"], {"interfaces", "^    edit \"(\\S+)\"\\n        set vdom", 15});
        check_pair(interfaces, 15);
        check_names(text["fortios"], {"addresses", "^    edit \"(\\S+)\"\\n        set (?:subnet|ip6|member)", 79});
        check_names(text["fortios"], {"policies", "^        set name \"(\\S+)\"", 35});
        auto policies = captures(text["fortios"], "^        set name \"(\\S+)\"");
        CHECK(std::set<std::string>(policies.begin(), policies.end()).size() == policies.size());
    }
    SECTION("srx") {
        check_names(text["srx"], {"zones", "^set groups wardgate security zones security-zone (\\S+)", 63});
        check_names(text["srx"],
                    {"addresses", "^set groups wardgate security address-book global address(?:-set)? (\\S+)", 63});
        check_names(text["srx"], {"policies", " policy (\\S+) then", 63});
        check_pair(captures(text["srx"], "^set groups wardgate security zones security-zone (\\S+)"), 63);
        for (const auto& app : captures(text["srx"], "^set groups wardgate applications application (\\S+)"))
            CHECK(app.find("junos-") != 0);
        // Junos takes no '/' or ':' in address-book names.
        for (const auto& a : captures(text["srx"], "^set groups wardgate security address-book global address (\\S+)"))
            CHECK(a.find_first_of("/:") == std::string::npos);
    }
    SECTION("iptables") {
        check_names(text["iptables"], {"chains", "^:(\\S+) - ", 28});
        // Only wardgate's own chains: the one FORWARD jumps to and the default-deny chains.
        for (const auto& chain : captures(text["iptables"], "^:(\\S+) - "))
            CHECK((chain == "wg-forward" || chain.rfind("wg-drop-", 0) == 0));
    }
}

TEST_CASE("ipset names fit in 31 characters", "[export][names]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    std::string text = render_export(p.policy, "iptables", default_template_dir()).combined();
    check_names(text, {"ipsets", "^create (\\S+)", 31});
    // role_infusion_pump_eligible does not fit: cut, with the hash of the full name, leaving
    // room for the temporary set's "-t".
    CHECK(text.find("create wg-role_infusion_pump_-") != std::string::npos);
    for (const auto& name : captures(text, "^swap \\S+ (\\S+)")) CHECK(name.size() <= 29);
}

TEST_CASE("renamed segments are reported", "[export][names]") {
    auto p = pipeline_for(export_case_dir("long-names"), kExportToday);
    auto asa = render_export(p.policy, "asa", default_template_dir());
    REQUIRE(asa.warnings.size() == 3);
    CHECK(asa.warnings[2] == "asa: the nameif of segment any is named any-2 (the platform's naming rules: length, "
                             "characters, reserved words)");
    auto example = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    for (const auto& t : export_targets()) {
        INFO(t);
        CHECK(render_export(example.policy, t, default_template_dir()).warnings.empty());
    }
}

TEST_CASE("every object a later load deletes or redefines by name is wardgate's own, named wg-", "[export][names]") {
    // A device holds its own objects beside wardgate's: the next export's clear, no and delete
    // lines and its definitions must never reach one of them by sharing its name.
    const std::map<std::string, std::vector<std::string>> owned{
        {"asa",
         {"^clear configure access-list (\\S+)", "^no object-group \\w+ (\\S+)", "^object-group \\w+ (\\S+)",
          "^access-list (\\S+) "}},
        {"ios", {"^no ip(?:v6)? access-list (?:extended )?(\\S+)", "^ip(?:v6)? access-list (?:extended )?(\\S+)", " reflect (\\S+)"}},
        {"ios-switch", {"^no ip(?:v6)? access-list (?:extended )?(\\S+)", "^ip(?:v6)? access-list (?:extended )?(\\S+)"}},
        {"panos",
         {"^delete (?:rulebase security rules|address-group|address|service|application) (\\S+)",
          "^set (?:rulebase security rules|address-group|address|service|application) (\\S+)"}},
        {"fortios", {"^    delete \"(\\S+)\"", "^        set name \"(\\S+)\""}},
        {"srx",
         {"^set groups wardgate security address-book global address(?:-set)? (\\S+)",
          "^set groups wardgate applications application(?:-set)? (\\S+)", " policy (\\S+) (?:match|then)"}},
        {"iptables", {"^:(\\S+) - "}},
    };
    for (const std::string c : {"example-hospital", "long-names", "protocols"}) {
        // ipsets are made where address lists are long: the example hospital has them.
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        for (const auto& [target, patterns] : owned) {
            std::string text = render_export(p.policy, target, default_template_dir()).combined();
            for (const auto& pattern : patterns) {
                auto names = captures(text, pattern);
                INFO(c << " " << target << " " << pattern);
                CHECK_FALSE(names.empty());
                for (const auto& n : names) {
                    INFO(n);
                    CHECK(n.rfind("wg-", 0) == 0);
                }
            }
        }
        std::string ipsets = render_export(p.policy, "iptables", default_template_dir()).combined();
        auto sets = captures(ipsets, "^(?:create|swap|destroy) (\\S+)");
        if (c == "example-hospital") CHECK_FALSE(sets.empty());
        for (const auto& n : sets) CHECK(n.rfind("wg-", 0) == 0);
    }
}
