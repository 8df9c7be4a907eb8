// The ios-switch export is for a Catalyst, whose access lists are stateless and which has no
// reflexive lists: every list starts with entries letting back the replies of the connections
// the policy allows towards its segment. These tests read those entries back and compare
// them with the reverse of every allowed tuple: each reply is there, in the list of each zone
// the connection's destination is in, and no entry lets back more than a reply.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "wardgate/core/protocol.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

struct Reply {
    FlowTuple tuple;  // from the allowed connection's destination to its source; ports: source ports or reply message
    bool established = false;
    auto operator<=>(const Reply&) const = default;
};

constexpr PortRange kWhole{0, 65535};

PortRange every_code(uint8_t type) { return {icmp_port(type, 0), icmp_port(type, 255)}; }

// The ICMP reply to a request message, when it has one.
std::optional<PortRange> icmp_reply_of(Family f, PortRange request) {
    auto m = icmp_message(request.first);
    if (!m) return std::nullopt;
    static const std::map<uint8_t, uint8_t> v4{{8, 0}, {13, 14}, {15, 16}, {17, 18}};
    static const std::map<uint8_t, uint8_t> v6{{128, 129}, {139, 140}};
    const auto& table = f == Family::v4 ? v4 : v6;
    auto it = table.find(m->type);
    if (it == table.end()) return std::nullopt;
    return every_code(it->second);
}

// What a stateless list must let back for one allowed tuple.
std::vector<Reply> replies_of(const FlowTuple& t) {
    std::vector<Reply> out;
    auto back = [&](int protocol, PortRange ports, bool established) {
        out.push_back({{t.dst, t.src, protocol, ports, true}, established});
    };
    switch (t.protocol) {
        case 0:  // every protocol: TCP of established connections, all UDP and ICMP
            back(6, kWhole, true);
            back(17, kWhole, false);
            back(1, kWhole, false);
            break;
        case 6: back(6, t.ports, true); break;
        case 17: back(17, t.ports, false); break;
        case 1:
            if (t.ports == kWhole) {
                back(1, kWhole, false);
            } else if (auto reply = icmp_reply_of(t.src.family(), t.ports)) {
                back(1, *reply, false);
            }
            break;
        default: back(t.protocol, kWhole, false);  // ESP, GRE...: the protocol both ways
    }
    return out;
}

}  // namespace

TEST_CASE("ios-switch lets back the replies of every allowed connection and nothing more", "[export][switch]") {
    for (const auto& c : export_cases()) {
        DYNAMIC_SECTION(c) {
            auto p = pipeline_for(export_case_dir(c), kExportToday);
            ParsedConfig parsed = read_export("ios-switch", render_export(p.policy, "ios-switch", default_template_dir()));
            std::set<Reply> expected;
            for (const auto& t : expected_tuples(p.policy))
                if (t.allow)
                    for (const auto& r : replies_of(t)) expected.insert(r);
            // Each reply entry, with the zones whose lists hold it.
            std::map<Reply, std::set<std::string>> got;
            for (const auto& rule : parsed.rules) {
                if (!rule.reply) continue;
                for (auto t : rule.tuples) {
                    t.ports = every_port_as_one(t.protocol, t.ports);
                    got[{t, rule.established}].insert(rule.from.begin(), rule.from.end());
                }
            }
            for (const auto& r : expected) {
                INFO("reply " << r.tuple.to_string() << (r.established ? " established" : ""));
                REQUIRE(got.count(r));
                for (const auto& zone : zones_of(p.policy, r.tuple.src)) {
                    INFO("zone " << zone);
                    CHECK(got[r].count(zone));
                }
            }
            for (const auto& [r, zones] : got) {
                INFO("entry " << r.tuple.to_string() << (r.established ? " established" : "") << " is no reply of an allowed tuple");
                CHECK(expected.count(r));
            }
        }
    }
}

TEST_CASE("ios-switch writes a Catalyst's VLANs and SVIs, and lists without reflexive entries", "[export][switch]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    ExportResult r = render_export(p.policy, "ios-switch", default_template_dir());
    for (const auto& s : p.policy.segments) {
        if (!s.vlan) continue;
        INFO("segment " << s.name);
        CHECK(r.text.find("\nvlan " + std::to_string(*s.vlan) + "\n name " + s.name + "\n") != std::string::npos);
        CHECK(r.text.find("\ninterface Vlan" + std::to_string(*s.vlan) + "\n") != std::string::npos);
    }
    CHECK(r.text.find("reflect") == std::string::npos);
    CHECK(r.text.find("evaluate") == std::string::npos);
    CHECK(r.text.find("encapsulation") == std::string::npos);
    CHECK(r.text.find("\ninterface GigabitEthernet1/0/1\n description wardgate: outside (uplink)\n no switchport\n") !=
          std::string::npos);
    // The router's file is not a switch's: its reader refuses the other shape.
    ExportResult without_routing = r;
    without_routing.text.erase(without_routing.text.find("ip routing\n"), std::string("ip routing\n").size());
    CHECK_THROWS_WITH(read_export("ios", without_routing), Catch::Contains("a VLAN database on a router"));
    CHECK_THROWS_WITH(read_export("ios-switch", render_export(p.policy, "ios", default_template_dir())),
                      Catch::Contains("a subinterface on a Catalyst switch"));
}

TEST_CASE("ios-switch refuses a TCP reply entry without established", "[export][switch]") {
    auto p = pipeline_for(export_case_dir("example-hospital"), kExportToday);
    ExportResult r = render_export(p.policy, "ios-switch", default_template_dir());
    auto at = r.text.find(" established\n");
    REQUIRE(at != std::string::npos);
    r.text.erase(at, std::string(" established").size());
    CHECK_THROWS_WITH(read_export("ios-switch", r), Catch::Contains("not the shape of a reply"));
}
