// A second opinion on the IOS access lists: Capirca (Debian's python3-capirca, an ACL
// generator written independently of wardgate) renders the policy's rules and baseline
// pinholes as IOS extended IPv4 and IPv6 lists, and every line the ios and ios-switch
// exports write for them must say what Capirca's say: the same action, protocol, source and
// destination in the same words (host, address and wildcard, prefix), the same ports and
// ICMP messages. A wrong wildcard, a port operator out of place or a misspelt address form
// fails here even where wardgate's own reader would accept it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/export_readers.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/text_lines.hpp"
#include "wardgate/core/protocol.hpp"
#include "wardgate/render/export.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using nlohmann::json;

namespace {

std::vector<std::string> split_words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

json prefixes_of(const AddressGroup& g, Family f) {
    json out = json::array();
    if (g.any) return out;
    for (const auto& p : g.prefixes)
        if (p.family() == f) out.push_back(p.to_string());
    return out;
}

std::string capirca_protocol(Protocol p, Family f) {
    switch (p) {
        case Protocol::tcp: return "tcp";
        case Protocol::udp: return "udp";
        case Protocol::icmp: return f == Family::v4 ? "icmp" : "icmpv6";
        default: return std::to_string(static_cast<int>(p));
    }
}

json term(json src, json dst, std::string protocol, const std::string& action) {
    return {{"src", std::move(src)}, {"dst", std::move(dst)}, {"protocol", std::move(protocol)}, {"ports", json::array()},
            {"icmp_types", json::array()}, {"icmp_codes", json::array()}, {"action", action}};
}

// The policy's rules and pinholes as Capirca terms, one list per family.
json capirca_input(const Policy& policy) {
    json acls = json::array();
    for (Family f : {Family::v4, Family::v6}) {
        json terms = json::array();
        for (const auto& r : policy.rules) {
            const auto& src = policy.groups[r.src];
            const auto& dst = policy.groups[r.dst];
            if (!src.has(f) || !dst.has(f)) continue;
            std::string action = r.action == Rule::Action::allow ? "accept" : "deny";
            if (r.services.empty()) terms.push_back(term(prefixes_of(src, f), prefixes_of(dst, f), "", action));
            for (const auto& s : r.services) {
                json t = term(prefixes_of(src, f), prefixes_of(dst, f), capirca_protocol(s.protocol, f), action);
                for (const auto& pr : s.ports)
                    t["ports"].push_back(pr.first == pr.last ? std::to_string(pr.first)
                                                             : std::to_string(pr.first) + "-" + std::to_string(pr.last));
                if (s.protocol == Protocol::icmp && !s.icmp_types.empty()) {
                    // One term per message: Capirca takes one code list for all of a term's types.
                        for (const auto& m : s.icmp_types) {
                        if (m.family != f) continue;
                        json one = t;
                        one["icmp_types"].push_back(m.type);
                        if (m.code >= 0) one["icmp_codes"].push_back(m.code);
                        terms.push_back(one);
                    }
                    continue;
                }
                terms.push_back(t);
            }
        }
        for (const auto& h : policy.pinholes) {
            if (h.src.family != f) continue;
            json t = term(json::array({Prefix::host(h.src).to_string()}), json::array({Prefix::host(h.dst).to_string()}),
                          capirca_protocol(h.protocol, f), "accept");
            if (has_ports(h.protocol)) {
                t["ports"].push_back(std::to_string(h.port));
            } else if (auto m = h.protocol == Protocol::icmp ? icmp_message(h.port) : std::nullopt) {
                t["icmp_types"].push_back(m->type);
            }
            terms.push_back(t);
        }
        if (terms.empty()) continue;  // Capirca refuses a list without terms
        acls.push_back({{"name", f == Family::v4 ? "wg-4" : "wg-6"}, {"family", f == Family::v4 ? "inet" : "inet6"},
                        {"terms", terms}});
    }
    return {{"acls", acls}};
}

std::string run_capirca(const json& input) {
    TempDir dir("capirca");
    auto in = dir.path / "terms.json";
    std::ofstream(in) << input.dump();
    // Debian's interpreter, where python3-capirca is installed.
    std::string command = "/usr/bin/python3 " + std::string(WARDGATE_SOURCE_DIR) + "/tests/support/capirca_ios.py < " +
                          in.string() + " 2>&1";
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
    INFO(out.substr(0, 2000));
    REQUIRE(pclose(pipe) == 0);
    return out;
}

int protocol_number(const std::string& word, Family f) {
    static const std::map<std::string, int> names{{"ip", 0}, {"ipv6", 0}, {"tcp", 6}, {"udp", 17}, {"esp", 50},
                                                  {"ahp", 51}, {"gre", 47}};
    if (word == "icmp") return f == Family::v4 ? 1 : 58;
    if (auto it = names.find(word); it != names.end()) return it->second;
    return std::stoi(word);
}

// What the lines of both families' lists allow and deny: per (action, protocol, source,
// destination) the port ranges (merged) or ICMP messages; the fixed lines (default denies,
// neighbour discovery) left out.
using LineKey = std::tuple<std::string, int, std::string, std::string>;
std::map<LineKey, std::set<std::string>> acl_lines(const std::string& text) {
    std::map<LineKey, std::vector<PortRange>> ports;
    std::map<LineKey, std::set<std::string>> out;
    Family family = Family::v4;
    bool in_replies = false;
    for (const auto& line : text_lines(text)) {
        if (line.rfind("ip access-list extended ", 0) == 0) family = Family::v4;
        if (line.rfind("ipv6 access-list ", 0) == 0) family = Family::v6;
        if (line == " remark replies of connections the policy allows towards this segment") in_replies = true;
        if (line == " remark end of replies") in_replies = false;
        auto w = split_words(line);
        if (in_replies || line.empty() || line[0] != ' ' || w.size() < 4 || (w[0] != "permit" && w[0] != "deny")) continue;
        size_t i = 2;
        auto address = [&] {
            std::string a = w.at(i++);
            if (a == "host" || (family == Family::v4 && a != "any")) a += " " + w.at(i++);
            return a;
        };
        std::string src = address(), dst = address();
        std::vector<std::string> rest(w.begin() + static_cast<long>(i), w.end());
        while (!rest.empty() && rest.back() == "log") rest.pop_back();
        if (rest.size() >= 2 && rest[rest.size() - 2] == "reflect") rest.resize(rest.size() - 2);
        if (src == "any" && dst == "any" && (w[1] == "ip" || w[1] == "ipv6")) continue;  // the default deny
        if (src == "any" && dst == "any" && family == Family::v6 && w[1] == "icmp" && rest.size() == 1 &&
            std::set<std::string>{"packet-too-big", "nd-na", "nd-ns", "router-solicitation", "router-advertisement"}.count(rest[0]))
            continue;  // RFC 4890
        LineKey key{w[0], protocol_number(w[1], family), src, dst};
        if (!rest.empty() && rest[0] == "eq" && rest.size() == 2) {
            uint16_t p = static_cast<uint16_t>(std::stoi(rest[1]));
            ports[key].push_back({p, p});
        } else if (!rest.empty() && rest[0] == "range" && rest.size() == 3) {
            ports[key].push_back({static_cast<uint16_t>(std::stoi(rest[1])), static_cast<uint16_t>(std::stoi(rest[2]))});
        } else {
            std::string spec;
            for (const auto& r : rest) spec += (spec.empty() ? "" : " ") + r;
            out[key].insert(spec);
        }
    }
    for (auto& [key, ranges] : ports) {
        std::sort(ranges.begin(), ranges.end());
        std::vector<PortRange> merged;
        for (const auto& r : ranges) {
            if (!merged.empty() && r.first <= merged.back().last + 1) {
                merged.back().last = std::max(merged.back().last, r.last);
            } else {
                merged.push_back(r);
            }
        }
        for (const auto& r : merged) out[key].insert("ports " + r.to_string());
    }
    return out;
}

std::string describe(const LineKey& k, const std::set<std::string>& specs) {
    std::string out = std::get<0>(k) + " " + std::to_string(std::get<1>(k)) + " " + std::get<2>(k) + " -> " + std::get<3>(k);
    for (const auto& s : specs) out += " [" + s + "]";
    return out;
}

}  // namespace

TEST_CASE("Capirca writes the same IOS access-list lines as the ios and ios-switch exports", "[export][capirca]") {
    for (const std::string c : {"example-hospital", "one-rule", "ipv6-only", "port-ranges", "protocols", "every-port",
                                "long-names", "expired-approval"}) {
        auto p = pipeline_for(export_case_dir(c), kExportToday);
        REQUIRE(p.policy.mode != EnforcementMode::monitor);
        auto reference = acl_lines(run_capirca(capirca_input(p.policy)));
        REQUIRE_FALSE(reference.empty());
        for (const std::string target : {"ios", "ios-switch"}) {
            DYNAMIC_SECTION(c << " " << target) {
                auto ours = acl_lines(render_export(p.policy, target, default_template_dir()).text);
                std::vector<std::string> missing, extra;
                for (const auto& [k, v] : reference)
                    if (!ours.count(k) || ours[k] != v) missing.push_back(describe(k, v));
                for (const auto& [k, v] : ours)
                    if (!reference.count(k) || reference[k] != v) extra.push_back(describe(k, v));
                INFO("Capirca's, not ours (" << missing.size() << "): " << (missing.empty() ? "" : missing.front()));
                INFO("ours, not Capirca's (" << extra.size() << "): " << (extra.empty() ? "" : extra.front()));
                CHECK(missing.empty());
                CHECK(extra.empty());
            }
        }
    }
}
