#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "wardgate/site/profile_toml.hpp"
#include "support/test_paths.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/site/load.hpp"
#include "wardgate/site/mud.hpp"

using namespace wardgate;
using wardgate::testing::read_text;
using wardgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kLuminaireUrl = "https://luminaire.example.com/Luminaire_150";

std::string shared_mud(const std::string& name) { return wardgate::testing::kSharedData + "/mud/" + name; }
fs::path source_data(const std::string& name) { return fs::path(wardgate::testing::kSourceDir) / "tests" / "data" / name; }

PeerRef peer(const char* text) { return *PeerRef::parse(text); }

MudMapping mapping(std::initializer_list<std::pair<const char*, const char*>> abstractions,
                   std::initializer_list<std::pair<const char*, const char*>> dns = {}) {
    MudMapping m;
    for (auto [k, v] : abstractions) m.abstractions[k].push_back(peer(v));
    for (auto [k, v] : dns) m.dns[k].push_back(peer(v));
    return m;
}

MudFile parse_ok(const std::string& text, const std::string& file = "test.json") {
    Diagnostics diags;
    auto mud = parse_mud(text, file, diags);
    for (const auto& d : diags.items()) INFO(d.to_string());
    REQUIRE(diags.empty());
    REQUIRE(mud);
    return *mud;
}

MudTranslation translate_ok(const MudFile& mud, MudMapping map, std::string vendor = "V", std::string model = "M") {
    Diagnostics diags;
    auto t = translate_mud(mud, {"test.json", vendor, model, std::move(map)}, diags);
    for (const auto& d : diags.items()) UNSCOPED_INFO(d.to_string());
    REQUIRE(diags.empty());
    return t;
}

MudTranslation translate_file(const std::string& name, MudMapping map, std::string vendor = "", std::string model = "") {
    Diagnostics diags;
    auto mud = read_mud(shared_mud(name), name, diags);
    REQUIRE(diags.empty());
    REQUIRE(mud);
    return translate_ok(*mud, std::move(map), vendor, model);
}

const DeclaredFlow* find_declared_flow(const Profile& p, Direction dir, const std::string& peer_text, const std::string& svc) {
    for (const auto& f : p.flows)
        if (f.direction == dir && f.peer.to_string() == peer_text && f.service.to_string() == svc) return &f;
    return nullptr;
}

size_t refusals(const MudTranslation& t) {
    return std::count_if(t.aces.begin(), t.aces.end(), [](const MudAceResult& a) { return a.flows.empty(); });
}

// Every ACE either contributed to a flow or carries a named refusal, never both, never neither.
void require_every_ace_accounted(const MudTranslation& t) {
    for (const auto& a : t.aces) {
        INFO(a.ace << " " << a.pointer);
        CHECK(a.flows.empty() == !a.refusal.empty());
        for (size_t i : a.flows) CHECK(i < t.profile.flows.size());
    }
}

// A from-device ACL "fr" and a to-device ACL "to", each holding the given ACE JSON.
std::string mud_json(const std::string& from_aces, const std::string& to_aces = "", const std::string& extra_acls = "") {
    return R"({"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://t.example/m", "last-update": "2024-01-02T03:04:05Z",
      "mfg-name": "T", "model-name": "M",
      "from-device-policy": {"access-lists": {"access-list": [{"name": "fr"}]}},
      "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}}},
     "ietf-access-control-list:acls": {"acl": [
       {"name": "fr", "aces": {"ace": [)" + from_aces + R"(]}},
       {"name": "to", "aces": {"ace": [)" + to_aces + "]}}" + extra_acls + "]}}";
}

std::string tcp_ace(const std::string& name, const std::string& tcp, const std::string& forwarding = "accept") {
    return R"({"name": ")" + name + R"(", "matches": {"ipv4": {"protocol": 6, "destination-ipv4-network": "192.0.2.0/24"},
      "tcp": )" + tcp + R"(}, "actions": {"forwarding": ")" + forwarding + R"("}})";
}

// The service the single from-device ACE with this tcp match translates to.
std::string tcp_service(const std::string& tcp) {
    auto t = translate_ok(parse_ok(mud_json(tcp_ace("a", tcp))), {});
    REQUIRE(t.profile.flows.size() == 1);
    return t.profile.flows[0].service.to_string();
}

}  // namespace

TEST_CASE("cisco-luminaire.json: six ACEs become three conversations", "[mud]") {
    auto t = translate_file("cisco-luminaire.json",
                            mapping({{"my-controller", "endpoint:lighting-controller"}, {"local-networks", "segment:lighting"}},
                                    {{"fw-update.luminaire.example.com", "endpoint:luminaire-cloud"}}),
                            "Cisco", "Luminaire");
    require_every_ace_accounted(t);
    CHECK(t.aces.size() == 6);
    CHECK(t.profile.flows.size() == 3);
    CHECK(refusals(t) == 0);
    CHECK(t.profile.notes.empty());
    CHECK(t.profile.vendor == "Cisco");
    CHECK(t.profile.model == "Luminaire");
    CHECK(t.profile.source == "MUD " + kLuminaireUrl + " (last-update 2018-06-29T19:50:19+02:00)");

    // cl0-frdev (dst-dnsname, tcp dst 443, initiated from-device) and its reply half cl0-todev (src 443).
    auto* update = find_declared_flow(t.profile, Direction::device_initiated, "endpoint:luminaire-cloud", "tcp/443");
    REQUIRE(update);
    CHECK(update->dns_name == "fw-update.luminaire.example.com");
    CHECK(update->purpose ==
          "cl0-todev, cl0-frdev (dns fw-update.luminaire.example.com) per MUD " + kLuminaireUrl);
    CHECK(update->origin.file == "test.json");
    CHECK(update->origin.line == 35);  // the first ACE of the pair, cl0-todev
    // udp without direction: the controller's port 5684 is pinned, so the device initiates (CoAP over DTLS).
    auto* ctl = find_declared_flow(t.profile, Direction::device_initiated, "endpoint:lighting-controller", "udp/5684");
    REQUIRE(ctl);
    CHECK(ctl->dns_name.empty());
    CHECK(ctl->purpose == "myctl0-todev, myctl0-frdev (my-controller) per MUD " + kLuminaireUrl);
    auto* local = find_declared_flow(t.profile, Direction::device_initiated, "segment:lighting", "udp/5683");
    REQUIRE(local);
    CHECK(local->purpose.find("loc0-frdev") != std::string::npos);

    auto ace = [&](const std::string& name) {
        return *std::find_if(t.aces.begin(), t.aces.end(), [&](const MudAceResult& a) { return a.ace == name; });
    };
    CHECK(ace("cl0-todev").flows == ace("cl0-frdev").flows);
    CHECK(ace("myctl0-todev").pointer == "/ietf-access-control-list:acls/acl/0/aces/ace/1");
    CHECK(ace("loc0-frdev").acl == "mud-21966-v4fr");
}

TEST_CASE("every shared MUD file translates: ACE count -> flows / refusals", "[mud]") {
    struct Case {
        std::string file;
        MudMapping map;
        size_t aces, flows, refused;
        Direction dir;
        std::string peer, service;  // one flow each file must hold
    };
    std::vector<Case> cases = {
        {"cisco-luminaire.json",
         mapping({{"my-controller", "role:light-controller"}, {"local-networks", "segment:lighting"}},
                 {{"fw-update.luminaire.example.com", "endpoint:luminaire-cloud"}}),
         6, 3, 0, Direction::device_initiated, "role:light-controller", "udp/5684"},
        {"nist-mudfile-controllerclass-test.json",
         mapping({{"controller:https://controller.nist.local", "role:nist-controller"}}), 2, 1, 0,
         Direction::device_initiated, "role:nist-controller", "tcp/80"},
        {"nist-mudfile-dns-test.json", mapping({}, {{"www.nist.local", "endpoint:nist-web"}}), 2, 1, 0,
         Direction::device_initiated, "endpoint:nist-web", "tcp/80"},
        // loc0: tcp initiated to-device; in the from-device ACL the device's packets come from port 80.
        {"nist-mudfile-local-networks-test.json",
         mapping({{"local-networks", "segment:icu"}}, {{"www.nist.local", "endpoint:nist-web"}}), 4, 2, 0,
         Direction::peer_initiated, "segment:icu", "tcp/80"},
        {"nist-mudfile-mfg-test.json",
         mapping({{"manufacturer:toothbrush.nist.local", "role:toothbrush"},
                  {"manufacturer:hairbrush.nist.local", "role:hairbrush"}}),
         4, 2, 0, Direction::device_initiated, "role:toothbrush", "udp/8008"},
        {"nist-mudfile-model-test.json",
         mapping({{"model:https://toothbrush.nist.local/super1", "role:toothbrush"},
                  {"model:https://hairbrush.nist.local/super1", "role:hairbrush"}}),
         4, 2, 0, Direction::device_initiated, "role:hairbrush", "tcp/8010"},
    };
    for (const auto& c : cases) {
        SECTION(c.file) {
            auto t = translate_file(c.file, c.map, "V", "M");
            require_every_ace_accounted(t);
            CHECK(t.aces.size() == c.aces);
            CHECK(t.profile.flows.size() == c.flows);
            CHECK(refusals(t) == c.refused);
            CHECK(find_declared_flow(t.profile, c.dir, c.peer, c.service));
            CHECK(t.profile.source.starts_with("MUD https://"));
            for (const auto& f : t.profile.flows) CHECK(f.purpose.find(" per MUD https://") != std::string::npos);
        }
    }
}

TEST_CASE("nist files: every translated flow", "[mud]") {
    auto local = translate_file("nist-mudfile-local-networks-test.json",
                                mapping({{"local-networks", "segment:icu"}}, {{"www.nist.local", "endpoint:nist-web"}}));
    CHECK(find_declared_flow(local.profile, Direction::device_initiated, "endpoint:nist-web", "tcp/800"));
    CHECK(find_declared_flow(local.profile, Direction::peer_initiated, "segment:icu", "tcp/80"));
    CHECK(local.profile.vendor == "NIST");
    CHECK(local.profile.model == "super1");
    auto mfg = translate_file("nist-mudfile-mfg-test.json",
                              mapping({{"manufacturer:toothbrush.nist.local", "role:toothbrush"},
                                       {"manufacturer:hairbrush.nist.local", "role:hairbrush"}}),
                              "NIST", "super1");
    CHECK(find_declared_flow(mfg.profile, Direction::device_initiated, "role:toothbrush", "udp/8008"));
    CHECK(find_declared_flow(mfg.profile, Direction::device_initiated, "role:hairbrush", "tcp/8010"));
}

TEST_CASE("an abstraction mapped to several peers gives one flow per peer", "[mud]") {
    MudMapping map = mapping({{"my-controller", "role:ctl"}}, {{"fw-update.luminaire.example.com", "cidr:203.0.113.0/28"}});
    map.abstractions["local-networks"] = {peer("segment:a"), peer("segment:b")};
    auto t = translate_file("cisco-luminaire.json", map, "Cisco", "Luminaire");
    CHECK(t.profile.flows.size() == 4);
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "segment:a", "udp/5683"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "segment:b", "udp/5683"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:203.0.113.0/28", "tcp/443"));
}

TEST_CASE("older draft names: access-lists, access-list-entries, acl-name, rule-name", "[mud]") {
    auto mud = parse_ok(read_text(source_data("mud/draft-names.json")), "draft-names.json");
    CHECK(mud.url == "https://infusion.example.com/pump-x");
    REQUIRE(mud.aces.size() == 4);
    CHECK(mud.aces[0].name == "druglib-fr");
    CHECK(mud.aces[0].acl == "pump-fr");
    CHECK(mud.aces[0].pointer == "/ietf-access-control-list:access-lists/access-list/0/access-list-entries/ace/0");
    auto t = translate_ok(mud, mapping({{"same-manufacturer", "role:infusion-pump"}}), "", "");
    require_every_ace_accounted(t);
    CHECK(t.profile.vendor == "Example Medical");
    CHECK(t.profile.model == "Pump X");
    CHECK(t.profile.flows.size() == 2);
    CHECK(refusals(t) == 1);
    auto* druglib = find_declared_flow(t.profile, Direction::device_initiated, "cidr:198.51.100.0/24", "tcp/443");
    REQUIRE(druglib);
    CHECK(druglib->purpose == "druglib-fr, druglib-to (198.51.100.0/24) per MUD https://infusion.example.com/pump-x");
    CHECK(find_declared_flow(t.profile, Direction::peer_initiated, "role:infusion-pump", "tcp/8000-8010"));
    // The drop ACE is a named refusal, not an allow.
    REQUIRE(t.profile.notes.size() == 1);
    CHECK(t.profile.notes[0].find("telnet-fr") != std::string::npos);
    CHECK(t.profile.notes[0].find("forwarding drop") != std::string::npos);
}

TEST_CASE("port operators become destination port ranges", "[mud]") {
    auto dst = [](const std::string& ports) {
        return tcp_service(R"({"ietf-mud:direction-initiated": "from-device", "destination-port": )" + ports + "}");
    };
    CHECK(dst(R"({"operator": "eq", "port": 443})") == "tcp/443");
    CHECK(dst(R"({"port": 443})") == "tcp/443");  // eq is the YANG default
    CHECK(dst(R"({"lower-port": 8000, "upper-port": 8080})") == "tcp/8000-8080");
    CHECK(dst(R"({"operator": "lt", "port": 1024})") == "tcp/0-1023");
    CHECK(dst(R"({"operator": "gt", "port": 1023})") == "tcp/1024-65535");
    CHECK(dst(R"({"operator": "lte", "port": 10})") == "tcp/0-10");
    CHECK(dst(R"({"operator": "gte", "port": 60000})") == "tcp/60000-65535");
    CHECK(dst(R"({"operator": "neq", "port": 23})") == "tcp/0-22,24-65535");
    CHECK(tcp_service(R"({"ietf-mud:direction-initiated": "from-device"})") == "tcp/0-65535");
}

TEST_CASE("who initiates: direction-initiated, the ACL's side and the pinned port", "[mud]") {
    auto only_flow = [](const std::string& from, const std::string& to) {
        auto t = translate_ok(parse_ok(mud_json(from, to)), {});
        REQUIRE(t.profile.flows.size() == 1);
        const DeclaredFlow& f = t.profile.flows[0];
        return (f.direction == Direction::device_initiated ? "device " : "peer ") + f.service.to_string();
    };
    // From-device ACL, initiated to-device: the device's packets are replies from its port 80.
    CHECK(only_flow(tcp_ace("a", R"({"ietf-mud:direction-initiated": "to-device", "source-port": {"port": 80}})"), "") ==
          "peer tcp/80");
    auto udp = [](const std::string& net_key, const std::string& udp) {
        return R"({"name": "u", "matches": {"ipv4": {"protocol": 17, ")" + net_key +
               R"(": "192.0.2.0/24"}, "udp": )" + udp + R"(}, "actions": {"forwarding": "accept"}})";
    };
    // To-device ACL, no direction: the device's port is pinned, so the peer initiates.
    CHECK(only_flow("", udp("source-ipv4-network", R"({"destination-port": {"port": 5683}})")) == "peer udp/5683");
    // To-device ACL, only the peer's port pinned: replies to the device's requests.
    CHECK(only_flow("", udp("source-ipv4-network", R"({"source-port": {"port": 53}})")) == "device udp/53");
    // Both pinned (NTP): the ACL's side decides; the initiator's source port is noted, not enforced.
    auto ntp = translate_ok(
        parse_ok(mud_json(udp("destination-ipv4-network", R"({"source-port": {"port": 123}, "destination-port": {"port": 123}})"))),
        {});
    REQUIRE(ntp.profile.flows.size() == 1);
    CHECK(ntp.profile.flows[0].direction == Direction::device_initiated);
    CHECK(ntp.profile.flows[0].service.to_string() == "udp/123");
    REQUIRE(ntp.profile.notes.size() == 1);
    CHECK(ntp.profile.notes[0].find("source port 123 is not enforced") != std::string::npos);
}

TEST_CASE("what wardgate cannot express is a named refusal, never a wider allow", "[mud]") {
    std::string from =
        tcp_ace("rejected", R"({"destination-port": {"port": 22}})", "reject") + "," +
        R"({"name": "hop", "matches": {"ipv4": {"protocol": 0}}, "actions": {"forwarding": "accept"}},)" +
        R"({"name": "flags", "matches": {"ipv4": {"protocol": 6}, "tcp": {"flags": "syn", "destination-port": {"port": 1}}},
            "actions": {"forwarding": "accept"}},)" +
        R"({"name": "mac", "matches": {"eth": {"destination-mac-address": "00:00:5e:00:53:01"}}, "actions": {"forwarding": "accept"}},)" +
        tcp_ace("srcport-only", R"({"ietf-mud:direction-initiated": "from-device", "source-port": {"port": 5000}})");
    std::string unused = R"(, {"name": "unused", "aces": {"ace": [)" + tcp_ace("orphan", "{}") + "]}}";
    auto t = translate_ok(parse_ok(mud_json(from, "", unused)), {});
    require_every_ace_accounted(t);
    CHECK(t.aces.size() == 6);
    CHECK(t.profile.flows.empty());
    CHECK(refusals(t) == 6);
    auto refusal = [&](const std::string& name) {
        auto it = std::find_if(t.aces.begin(), t.aces.end(), [&](const MudAceResult& a) { return a.ace == name; });
        REQUIRE(it != t.aces.end());
        return it->refusal;
    };
    CHECK(refusal("rejected").find("forwarding reject") != std::string::npos);
    CHECK(refusal("hop").find("IP protocol 0: not a transport protocol") != std::string::npos);
    CHECK(refusal("flags").find("/ietf-access-control-list:acls/acl/0/aces/ace/2/matches/tcp/flags") != std::string::npos);
    CHECK(refusal("mac").find("/matches/eth") != std::string::npos);
    CHECK(refusal("srcport-only").find("initiator's source port") != std::string::npos);
    CHECK(refusal("orphan").find("neither from-device-policy nor to-device-policy") != std::string::npos);
    CHECK(t.profile.notes.size() == 6);
}

TEST_CASE("unmapped abstractions and DNS names are errors that name them", "[mud]") {
    Diagnostics diags;
    auto mud = read_mud(shared_mud("cisco-luminaire.json"), "cisco-luminaire.json", diags);
    REQUIRE(mud);
    auto t = translate_mud(*mud, {"cisco-luminaire.json", "Cisco", "Luminaire", mapping({{"local-networks", "any"}})}, diags);
    // my-controller in both ACLs, the DNS name in both.
    REQUIRE(diags.items().size() == 4);
    const Diagnostic& d = diags.items()[1];
    CHECK(d.file == "cisco-luminaire.json");
    CHECK(d.line == 58);
    CHECK(d.field == "/ietf-access-control-list:acls/acl/0/aces/ace/1/matches/ietf-mud:mud/my-controller");
    CHECK(d.message.find("unmapped MUD abstraction my-controller") != std::string::npos);
    CHECK(d.message.find("[mud.map] my-controller = \"PEER\"") != std::string::npos);
    CHECK(d.message.find("--map my-controller=PEER") != std::string::npos);
    CHECK(diags.items()[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ipv4/ietf-acldns:src-dnsname");
    CHECK(diags.items()[0].line == 39);
    CHECK(diags.items()[0].message.find("\"fw-update.luminaire.example.com\"") != std::string::npos);
    CHECK(t.unmapped == std::vector<std::string>{"dns:fw-update.luminaire.example.com", "my-controller"});

    Diagnostics d2;
    auto ctl = read_mud(shared_mud("nist-mudfile-controllerclass-test.json"), "c.json", d2);
    translate_mud(*ctl, {"c.json", "", "", {}}, d2);
    REQUIRE(d2.items().size() == 2);
    CHECK(d2.items()[0].message.find("controller \"https://controller.nist.local\"") != std::string::npos);
    CHECK(d2.items()[0].message.find("controller.\"https://controller.nist.local\" = \"PEER\"") != std::string::npos);
}

TEST_CASE("a MUD file without mfg-name needs a vendor", "[mud]") {
    Diagnostics diags;
    auto mud = read_mud(shared_mud("cisco-luminaire.json"), "l.json", diags);
    translate_mud(*mud, {"l.json", "", "", mapping({{"my-controller", "any"}, {"local-networks", "any"}},
                                                   {{"fw-update.luminaire.example.com", "any"}})},
                  diags);
    REQUIRE(diags.items().size() == 2);
    CHECK(diags.items()[0].field == "/ietf-mud:mud/mfg-name");
    CHECK(diags.items()[1].field == "/ietf-mud:mud/model-name");
}

TEST_CASE("malformed MUD files: syntax errors with position, bad fields with their JSON pointer", "[mud]") {
    Diagnostics diags;
    CHECK_FALSE(parse_mud("{\n  \"ietf-mud:mud\": {\n    \"mud-url\": \"x\",,\n", "bad.json", diags));
    REQUIRE(diags.items().size() == 1);
    CHECK(diags.items()[0].file == "bad.json");
    CHECK(diags.items()[0].line == 3);
    CHECK(diags.items()[0].column == 20);
    CHECK(diags.items()[0].message.starts_with("JSON syntax error (byte 42): parse error at line 3, column 20"));

    Diagnostics ops;
    CHECK_FALSE(parse_mud(mud_json(tcp_ace("a", R"({"destination-port": {"operator": "le", "port": 70000}})")), "o.json", ops));
    REQUIRE(ops.items().size() == 1);
    CHECK(ops.items()[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port/port");

    Diagnostics op;
    CHECK_FALSE(parse_mud(mud_json(tcp_ace("a", R"({"destination-port": {"operator": "le", "port": 7}})")), "o.json", op));
    REQUIRE(op.items().size() == 1);
    CHECK(op.items()[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/tcp/destination-port/operator");
    CHECK(op.items()[0].message.find("\"le\"") != std::string::npos);

    Diagnostics abs;
    CHECK_FALSE(parse_mud(mud_json(R"({"name": "x", "matches": {"ietf-mud:mud": {"my-friends": [null]}}, "actions": {"forwarding": "accept"}})"),
                          "a.json", abs));
    REQUIRE(abs.items().size() == 1);
    CHECK(abs.items()[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/ietf-mud:mud/my-friends");

    Diagnostics missing;
    CHECK_FALSE(parse_mud(R"({"ietf-mud:mud": {"from-device-policy": {"access-lists": {"access-list": [{"name": "nope"}]}}}})",
                          "m.json", missing));
    REQUIRE(missing.items().size() == 2);
    CHECK(missing.items()[0].field == "/ietf-mud:mud/mud-url");
    CHECK(missing.items()[1].field == "/ietf-mud:mud/from-device-policy/access-lists/access-list/0");
    CHECK(missing.items()[1].message.find("\"nope\"") != std::string::npos);
}

namespace {

// tests/data/mud-site with the shared Cisco MUD file copied in as mud/luminaire.json.
struct MudSite {
    TempDir dir{"mud"};
    MudSite() {
        fs::copy(source_data("mud-site"), dir.path, fs::copy_options::recursive);
        fs::create_directories(dir.path / "mud");
        fs::copy_file(shared_mud("cisco-luminaire.json"), dir.path / "mud" / "luminaire.json");
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(dir.path / name, std::ios::binary) << text;
    }
    std::string site_toml() const { return read_text(dir.path / "site.toml"); }
};

std::vector<Diagnostic> load_errors(const fs::path& dir) {
    try {
        load_site(dir);
    } catch (const InputError& e) {
        return e.diagnostics();
    }
    return {};
}

}  // namespace

TEST_CASE("a site with [[mud]]: the MUD file becomes a profile and declared allow rules", "[mud]") {
    MudSite s;
    Site site = load_site(s.dir.path);
    REQUIRE(site.mud.size() == 1);
    CHECK(site.mud[0].file == "mud/luminaire.json");
    CHECK(site.mud[0].map.abstractions.at("local-networks").size() == 2);
    CHECK(site.find_endpoint("luminaire-cloud")->dns_names == std::vector<std::string>{"fw-update.luminaire.example.com"});
    const Profile* p = site.find_profile("Cisco", "Luminaire");
    REQUIRE(p);
    CHECK(p->source == "MUD " + kLuminaireUrl + " (last-update 2018-06-29T19:50:19+02:00)");
    CHECK(p->origin.file == "mud/luminaire.json");
    CHECK(p->flows.size() == 4);  // local-networks stands for two segments
    // The DNS name maps to the endpoint that lists it in dns_names.
    auto* update = find_declared_flow(*p, Direction::device_initiated, "endpoint:luminaire-cloud", "tcp/443");
    REQUIRE(update);
    CHECK(update->dns_name == "fw-update.luminaire.example.com");

    auto pipe = run_pipeline(s.dir.path, {*parse_date("2025-01-01"), {}, {}});
    const Rule* cloud = nullptr;
    for (const auto& r : pipe.policy.rules) {
        const auto& dst = pipe.policy.group(r.dst).members;
        if (r.action == Rule::Action::allow && std::find(dst.begin(), dst.end(), "luminaire-cloud") != dst.end())
            cloud = &r;
    }
    REQUIRE(cloud);
    CHECK(pipe.policy.group(cloud->src).members == std::vector<std::string>{"lum-01", "lum-02"});
    REQUIRE(cloud->why.size() == 1);
    const Provenance& why = cloud->why[0];
    CHECK(why.kind == Provenance::Kind::declared);
    CHECK(why.service.to_string() == "tcp/443");
    CHECK(why.source.find("Cisco Luminaire") != std::string::npos);
    CHECK(why.detail.find("per MUD " + kLuminaireUrl) != std::string::npos);
    CHECK(why.document == "MUD " + kLuminaireUrl + " (last-update 2018-06-29T19:50:19+02:00)");
    CHECK(why.origin.starts_with("mud/luminaire.json"));
}

TEST_CASE("a site with [[mud]]: mapping problems are located errors", "[mud]") {
    MudSite s;
    auto toml = s.site_toml();
    SECTION("an unmapped abstraction names the MUD file, the JSON pointer and the abstraction") {
        toml.replace(toml.find("my-controller = "), std::string("my-controller = ").size(), "same-manufacturer = ");
        s.write("site.toml", toml);
        auto errors = load_errors(s.dir.path);
        REQUIRE(errors.size() == 2);
        CHECK(errors[0].file == "mud/luminaire.json");
        CHECK(errors[0].line == 58);
        CHECK(errors[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/1/matches/ietf-mud:mud/my-controller");
        CHECK(errors[0].message.find("my-controller") != std::string::npos);
    }
    SECTION("a mapping to an unknown peer points at the [[mud]] entry in site.toml") {
        toml.replace(toml.find("endpoint:lighting-controller"), std::string("endpoint:lighting-controller").size(),
                     "role:no-such-role");
        s.write("site.toml", toml);
        auto errors = load_errors(s.dir.path);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].file == "site.toml");
        CHECK(errors[0].line == 34);
        CHECK(errors[0].field == "mud.map.my-controller");
        CHECK(errors[0].message.find("unknown role \"no-such-role\"") != std::string::npos);
    }
    SECTION("[mud.dns] wins over an endpoint's dns_names") {
        toml += "[mud.dns]\n\"fw-update.luminaire.example.com\" = \"cidr:198.51.100.7\"\n";
        s.write("site.toml", toml);
        Site site = load_site(s.dir.path);
        const Profile* p = site.find_profile("Cisco", "Luminaire");
        REQUIRE(p);
        CHECK(find_declared_flow(*p, Direction::device_initiated, "cidr:198.51.100.7", "tcp/443"));
        CHECK_FALSE(find_declared_flow(*p, Direction::device_initiated, "endpoint:luminaire-cloud", "tcp/443"));
    }
    SECTION("a malformed mapping value is reported where it is written") {
        toml += "[mud.dns]\n\"fw-update.luminaire.example.com\" = \"nowhere\"\n";
        s.write("site.toml", toml);
        auto errors = load_errors(s.dir.path);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].file == "site.toml");
        CHECK(errors[0].line == 42);
        CHECK(errors[0].field == "mud.dns.fw-update.luminaire.example.com");
    }
}

namespace {

int wardgate_exit_code(const std::string& args, const fs::path& err) {
    std::string cmd = std::string(WARDGATE_BINARY) + " " + args + " 2>" + err.string() + " >/dev/null";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("import-mud writes a profile that the site loader reads back to the same flows", "[mud]") {
    MudSite with_mud;
    const Site expected = load_site(with_mud.dir.path);
    const Profile& from_mud = *expected.find_profile("Cisco", "Luminaire");

    MudSite s;  // the same site with the [[mud]] entry replaced by an imported profile
    auto toml = s.site_toml();
    s.write("site.toml", toml.substr(0, toml.find("[[mud]]")));
    fs::create_directories(s.dir.path / "profiles");
    const fs::path out = s.dir.path / "profiles" / "cisco-luminaire.toml";
    const fs::path err = s.dir.path / "stderr.txt";
    std::string args = "import-mud " + shared_mud("cisco-luminaire.json") +
                       " --vendor Cisco --model Luminaire"
                       " --map my-controller=endpoint:lighting-controller"
                       " --map local-networks=segment:lighting --map local-networks=segment:facilities"
                       " --dns fw-update.luminaire.example.com=endpoint:luminaire-cloud -o " + out.string();

    SECTION("round trip") {
        REQUIRE(wardgate_exit_code(args, err) == 0);
        auto text = read_text(out);
        CHECK(text.starts_with("# Manufacturer profile generated by wardgate import-mud from "));
        CHECK(text.find("# mud-url: " + kLuminaireUrl + "\n") != std::string::npos);
        CHECK(text.find("# last-update: 2018-06-29T19:50:19+02:00\n") != std::string::npos);
        CHECK(text.find("# 6 ACEs: 4 declared flows, 0 not translated\n") != std::string::npos);
        CHECK(text.find("dns_name = \"fw-update.luminaire.example.com\"\n") != std::string::npos);

        Site site = load_site(s.dir.path);
        const Profile* imported = site.find_profile("Cisco", "Luminaire");
        REQUIRE(imported);
        CHECK(imported->origin.file == "profiles/cisco-luminaire.toml");
        CHECK(imported->source == from_mud.source);
        REQUIRE(imported->flows.size() == from_mud.flows.size());
        for (size_t i = 0; i < from_mud.flows.size(); ++i) {
            const auto &a = imported->flows[i], &b = from_mud.flows[i];
            CHECK(a.direction == b.direction);
            CHECK(a.peer == b.peer);
            CHECK(a.service == b.service);
            CHECK(a.purpose == b.purpose);
            CHECK(a.required == b.required);
            CHECK(a.dns_name == b.dns_name);
        }
    }
    SECTION("unmapped abstractions: exit 1, every missing mapping listed, nothing written") {
        std::string partial = "import-mud " + shared_mud("cisco-luminaire.json") + " --vendor Cisco --model Luminaire -o " +
                              out.string();
        CHECK(wardgate_exit_code(partial, err) == 1);
        CHECK_FALSE(fs::exists(out));
        auto text = read_text(err);
        CHECK(text.find("unmapped MUD abstraction my-controller") != std::string::npos);
        CHECK(text.find("unmapped MUD abstraction local-networks") != std::string::npos);
        CHECK(text.find("missing mappings: --dns fw-update.luminaire.example.com=PEER --map my-controller=PEER "
                        "--map local-networks=PEER\n") != std::string::npos);
    }
}

TEST_CASE("an ACL named by both policies is valid RFC 8520: its ACEs apply both ways", "[mud]") {
    std::string text = R"({"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://t.example/m", "mfg-name": "T", "model-name": "M",
      "from-device-policy": {"access-lists": {"access-list": [{"name": "both"}]}},
      "to-device-policy": {"access-lists": {"access-list": [{"name": "both"}]}}},
     "ietf-access-control-list:acls": {"acl": [{"name": "both", "aces": {"ace": [
       {"name": "ntp", "matches": {"ipv4": {"protocol": 17, "destination-ipv4-network": "192.0.2.0/24"},
        "udp": {"destination-port": {"operator": "eq", "port": 123}}}, "actions": {"forwarding": "accept"}}]}}]}})";
    auto mud = parse_ok(text);
    REQUIRE(mud.aces.size() == 2);
    CHECK(mud.aces[0].policy == MudSide::from_device);
    CHECK(mud.aces[1].policy == MudSide::to_device);
    auto t = translate_ok(mud, {});
    require_every_ace_accounted(t);
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:192.0.2.0/24", "udp/123"));
}

TEST_CASE("ICMP type and code become a declaration of that message, GRE and ESP of theirs", "[mud]") {
    std::string ace = R"({"name": "ping", "matches": {"ipv4": {"protocol": 1, "destination-ipv4-network": "192.0.2.0/24"},
      "icmp": {"type": 8, "code": 0}}, "actions": {"forwarding": "accept"}},
      {"name": "ping6", "matches": {"ipv6": {"protocol": 58, "destination-ipv6-network": "2001:db8::/64"},
      "icmp": {"type": 128}}, "actions": {"forwarding": "accept"}},
      {"name": "bare", "matches": {"icmp": {"type": 8}}, "actions": {"forwarding": "accept"}},
      {"name": "vpn", "matches": {"ipv4": {"protocol": 50, "destination-ipv4-network": "192.0.2.0/24"}},
       "actions": {"forwarding": "accept"}})";
    auto t = translate_ok(parse_ok(mud_json(ace)), {});
    require_every_ace_accounted(t);
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:192.0.2.0/24", "icmp/echo-request:0"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:2001:db8::/64", "icmpv6/echo-request"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:192.0.2.0/24", "esp"));
    CHECK_FALSE(find_declared_flow(t.profile, Direction::device_initiated, "cidr:192.0.2.0/24", "icmp"));
    // Without an address family the type number is ambiguous: refused, never widened to all ICMP.
    auto bare = std::find_if(t.aces.begin(), t.aces.end(), [](const MudAceResult& a) { return a.ace == "bare"; });
    REQUIRE(bare != t.aces.end());
    CHECK(bare->refusal.find("without an ipv4 or ipv6 match") != std::string::npos);
    // The profile written from it reads back with the same messages.
    auto text = profile_to_toml(t.profile, {});
    CHECK(text.find("protocol = \"icmp\"\nicmp_types = [\"echo-request:0\"]") != std::string::npos);
    CHECK(text.find("protocol = \"icmpv6\"\nicmp_types = [\"echo-request\"]") != std::string::npos);
    Diagnostics diags;
    parse_mud(mud_json(R"({"name": "bad", "matches": {"icmp": {"type": 300}}, "actions": {"forwarding": "accept"}})"),
              "t.json", diags);
    REQUIRE(diags.items().size() == 1);
    CHECK(diags.items()[0].field == "/ietf-access-control-list:acls/acl/0/aces/ace/0/matches/icmp/type");
}

TEST_CASE("draft-era match containers: ipv4-acl, ipv6-acl and ietf-mud:mud-acl", "[mud]") {
    std::string from = R"({"name": "v4", "matches": {"ipv4-acl": {"protocol": 6, "destination-ipv4-network": "192.0.2.0/24"},
        "tcp": {"destination-port": {"operator": "eq", "port": 443}}}, "actions": {"forwarding": "accept"}},
      {"name": "v6", "matches": {"ipv6-acl": {"protocol": 6, "destination-ipv6-network": "2001:db8::/32"},
        "tcp": {"destination-port": {"operator": "eq", "port": 443}}}, "actions": {"forwarding": "accept"}},
      {"name": "ctl", "matches": {"ietf-mud:mud-acl": {"my-controller": [null]}, "ipv4-acl": {"protocol": 17},
        "udp": {"destination-port": {"operator": "eq", "port": 5683}}}, "actions": {"forwarding": "accept"}})";
    auto t = translate_ok(parse_ok(mud_json(from)), mapping({{"my-controller", "role:ctl"}}));
    require_every_ace_accounted(t);
    CHECK(refusals(t) == 0);
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:192.0.2.0/24", "tcp/443"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "cidr:2001:db8::/32", "tcp/443"));
    CHECK(find_declared_flow(t.profile, Direction::device_initiated, "role:ctl", "udp/5683"));
}

TEST_CASE("a MUD file that yields no flow: import-mud fails, a site warns", "[mud]") {
    TempDir dir("mud-empty");
    auto file = dir.path / "drop-only.json";
    std::ofstream(file) << mud_json(tcp_ace("no-telnet", R"({"destination-port": {"port": 23}})", "drop"));
    auto out = dir.path / "profile.toml";
    auto r = wardgate::testing::run_wardgate("import-mud " + file.string() + " -o " + out.string());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("yields no declared flow"));
    CHECK_FALSE(fs::exists(out));
}
