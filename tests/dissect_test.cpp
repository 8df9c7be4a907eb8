// Applications recognised by content: against nDPI's verdicts on real captures, and on
// hand-built DICOM, HL7, DHCP and SNMP payloads, malformed and cut short.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "support/application_payloads.hpp"
#include "support/capture_writer.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_site.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "wardgate/flows/dissect.hpp"
#include "wardgate/flows/pcap.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/ingest.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

PayloadClues clues_of(uint8_t proto, const Bytes& payload, uint16_t sport = 40000, uint16_t dport = 4006) {
    PayloadClues c;
    inspect_payload(proto, sport, dport, payload, c);
    return c;
}

std::optional<Recognition> one_side(uint8_t proto, const Bytes& payload, uint16_t sport = 40000, uint16_t dport = 4006) {
    return recognise(clues_of(proto, payload, sport, dport), PayloadClues{});
}

const std::vector<std::string> kCtSyntaxes = {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.1", "1.2.3.4.5"};

}  // namespace

TEST_CASE("dissect: a DICOM association on any port, its AE titles and SOP classes", "[dissect]") {
    auto rq = associate(1, "PACS", "CT01", kCtSyntaxes);
    auto r = one_side(6, rq);
    REQUIRE(r);
    CHECK(r->application == Application::dicom);
    CHECK(r->detail ==
          "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\": CT Image Storage, Verification, 1.2.3.4.5");

    SECTION("more than four SOP classes are counted, not listed") {
        std::vector<std::string> many;
        for (int i = 1; i <= 7; ++i) many.push_back("1.2.840.10008.5.1.4.1.1." + std::to_string(i));
        auto d = one_side(6, associate(1, "PACS", "MR7", many));
        REQUIRE(d);
        CHECK(d->detail.ends_with("(+3 more)"));
    }
    SECTION("an accept answers for the other side when the request was not captured") {
        auto ac = one_side(6, associate(2, "PACS", "CT01", {}));
        REQUIRE(ac);
        CHECK(ac->application == Application::dicom);
        CHECK(ac->detail.starts_with("A-ASSOCIATE-AC"));
    }
    SECTION("cut short by the snapshot length: the header and application context are enough") {
        Bytes cut(rq.begin(), rq.begin() + 110);
        auto c = one_side(6, cut);
        REQUIRE(c);
        CHECK(c->detail == "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\"");
        Bytes header_only(rq.begin(), rq.begin() + 80);
        CHECK_FALSE(one_side(6, header_only));
    }
    SECTION("what is not a DICOM association") {
        CHECK_FALSE(one_side(6, associate(1, "PACS", "CT01", kCtSyntaxes, "1.2.3.4")));  // other application context
        CHECK_FALSE(one_side(6, associate(1, "PACS", "", kCtSyntaxes)));                 // blank AE title
        auto control = associate(1, "PACS", "CT01", kCtSyntaxes);
        control[27] = 0x07;  // a control character in the calling AE title
        CHECK_FALSE(one_side(6, control));
        auto version = rq;
        version[7] = 0;  // no protocol version
        CHECK_FALSE(one_side(6, version));
        auto huge = rq;
        huge[2] = 0x7f;  // a PDU length no association has
        CHECK_FALSE(one_side(6, huge));
        CHECK_FALSE(one_side(17, rq));  // DICOM is TCP only
    }
    SECTION("item lengths that point past the payload are not followed") {
        auto lying = rq;
        lying[74 + 2] = 0xff;  // the application context's length
        CHECK_FALSE(one_side(6, lying));
        auto pc = rq;
        pc[74 + 25 + 2] = 0xff;  // the first presentation context claims 65 kB
        auto d = one_side(6, pc);  // read up to the payload's end, no further
        REQUIRE(d);
        CHECK(d->detail == "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\": CT Image Storage");
    }
}

TEST_CASE("dissect: HL7 v2 messages, MLLP framed or bare", "[dissect]") {
    std::string msh = "MSH|^~\\&|RIS|RADIOLOGY|LIS|LAB|20260301120000||ORU^R01|123|P|2.5\rPID|1||42\r";
    auto framed = bytes_of("\x0b" + msh + "\x1c\r");
    auto r = one_side(6, framed, 40000, 6661);
    REQUIRE(r);
    CHECK(r->application == Application::hl7);
    CHECK(r->detail == "MSH RIS@RADIOLOGY -> LIS@LAB ORU^R01 v2.5");

    auto bare = one_side(6, bytes_of(msh));
    REQUIRE(bare);
    CHECK(bare->detail == "MSH RIS@RADIOLOGY -> LIS@LAB ORU^R01 v2.5 (no MLLP framing)");

    SECTION("other separators are read from the segment itself") {
        auto other = one_side(6, bytes_of("\x0bMSH#*~\\&#PUMPGW##EMR##2026##RDE*O11###2.6\r"));
        REQUIRE(other);
        CHECK(other->detail == "MSH PUMPGW -> EMR RDE^O11 v2.6");
    }
    SECTION("not HL7") {
        CHECK_FALSE(one_side(6, bytes_of("\x0bMSH|^~\\&|RIS\r")));          // no message type
        CHECK_FALSE(one_side(6, bytes_of("\x0bMSG|^~\\&|A|B|C|D|E||F|1\r")));  // not MSH
        CHECK_FALSE(one_side(6, bytes_of("\x0bMSH\x01^~\\&\x01" "A\x01" "B\x01" "C\x01" "D\x01" "E\x01\x01" "F\x01")));
    }
}

TEST_CASE("dissect: DHCP names the device and its MUD URL", "[dissect]") {
    auto request = dhcp(1, {option(53, {3}), option(12, bytes_of("pump-icu-07")), option(55, {1, 3, 6, 15, 42}),
                            option(60, bytes_of("BD Alaris 8015")),
                            option(161, bytes_of("https://mud.example.com/alaris-8015.json"))});
    auto r = one_side(17, request, 68, 67);
    REQUIRE(r);
    CHECK(r->application == Application::dhcp);
    CHECK(r->detail ==
          "DHCPREQUEST client=00:1b:21:aa:bb:cc hostname=\"pump-icu-07\" parameters=1,3,6,15,42 "
          "vendor-class=\"BD Alaris 8015\" mud-url=\"https://mud.example.com/alaris-8015.json\"");

    SECTION("an option cut short by the capture ends the list, not the message") {
        Bytes cut(request.begin(), request.end() - 20);
        auto c = one_side(17, cut, 68, 67);
        REQUIRE(c);
        CHECK(c->detail.find("mud-url") == std::string::npos);
        CHECK(c->detail.find("hostname=\"pump-icu-07\"") != std::string::npos);
    }
    SECTION("DHCPv6 with a MUD URL (option 112), only on the DHCPv6 ports") {
        Bytes v6{1, 0x12, 0x34, 0x56};  // SOLICIT
        for (auto [code, value] : std::vector<std::pair<uint16_t, Bytes>>{
                 {1, Bytes{0, 3, 0, 1, 0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}},
                 {112, bytes_of("https://mud.example.com/monitor.json")}}) {
            put_be16(v6, code);
            put_be16(v6, value.size());
            v6.insert(v6.end(), value.begin(), value.end());
        }
        auto d = one_side(17, v6, 546, 547);
        REQUIRE(d);
        CHECK(d->detail == "DHCPv6 SOLICIT duid=00030001001b21aabbcc mud-url=\"https://mud.example.com/monitor.json\"");
        CHECK_FALSE(one_side(17, v6, 40000, 4000));
    }
    SECTION("no magic cookie, no DHCP") {
        auto broken = request;
        broken[236] = 0;
        CHECK_FALSE(one_side(17, broken, 68, 67));
    }
}

TEST_CASE("dissect: cleartext protocols on ports nobody expects", "[dissect]") {
    SECTION("telnet negotiation on 2323") {
        auto r = one_side(6, Bytes{0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20}, 40000, 2323);
        REQUIRE(r);
        CHECK(r->application == Application::telnet);
        CHECK_FALSE(one_side(6, Bytes{0xff, 0xfd, 0x18, 0xff, 0x00}));  // the second command is no command
    }
    SECTION("HTTP request: the path without its query, host and agent") {
        auto r = one_side(6, bytes_of("GET /status?patient=12345 HTTP/1.1\r\nHost: 10.1.2.3:8000\r\nUser-Agent: Pump/2.1\r\n\r\n"));
        REQUIRE(r);
        CHECK(r->application == Application::http);
        CHECK(r->detail == "HTTP GET /status host \"10.1.2.3:8000\" agent \"Pump/2.1\"");
        CHECK_FALSE(one_side(6, bytes_of("GET /status HTTP/2\r\n\r\n")));
    }
    SECTION("FTP needs the greeting and a login command") {
        auto greeting = clues_of(6, bytes_of("220 Service ready\r\n"));
        auto user = clues_of(6, bytes_of("USER biomed\r\n"));
        REQUIRE(recognise(user, greeting));
        CHECK(recognise(user, greeting)->application == Application::ftp);
        CHECK_FALSE(recognise(greeting, PayloadClues{}));  // an SMTP server greets the same way
        CHECK_FALSE(recognise(clues_of(6, bytes_of("EHLO pump\r\n")), greeting));
    }
    SECTION("VNC, RDP, SMBv1 but not SMB2") {
        CHECK(one_side(6, bytes_of("RFB 003.008\n"))->application == Application::vnc);
        Bytes x224{3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0};
        CHECK(one_side(6, x224)->application == Application::rdp);
        Bytes s7{3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 9};  // ISO-TSAP (S7comm)
        CHECK_FALSE(one_side(6, s7));
        Bytes smb1{0, 0, 0, 0x85, 0xff, 'S', 'M', 'B', 0x72};
        Bytes smb2{0, 0, 0, 0x85, 0xfe, 'S', 'M', 'B', 0x00};
        CHECK(one_side(6, smb1)->application == Application::smb1);
        // A client offers SMB1 dialects and the server answers in SMB2: SMB2 is in use.
        CHECK_FALSE(recognise(clues_of(6, smb1), clues_of(6, smb2)));
    }
    SECTION("SNMP: v1 and v2c, never the community itself; v3 is not insecure") {
        Bytes v2c{0x30, 0x19, 0x02, 0x01, 0x01, 0x04, 0x06, 's', 'e', 'c', 'r', 'e', 't',
                  0xa0, 0x0c, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x00, 0x00};
        v2c[1] = static_cast<uint8_t>(v2c.size() - 2);
        auto r = one_side(17, v2c, 40000, 1161);
        REQUIRE(r);
        CHECK(r->application == Application::snmp);
        CHECK(r->detail == "SNMPv2c GetRequest (community string in clear)");
        auto v3 = v2c;
        v3[4] = 3;
        CHECK_FALSE(one_side(17, v3));
    }
    SECTION("TFTP request, and a transfer seen only by its DATA and ACK") {
        auto r = one_side(17, bytes_of(std::string("\x00\x01pump-fw-2.1.bin\x00octet\x00", 24)), 40000, 69);
        REQUIRE(r);
        CHECK(r->detail == "TFTP read \"pump-fw-2.1.bin\" octet");
        auto data = clues_of(17, Bytes{0, 3, 0, 1, 'x', 'y'});
        auto ack = clues_of(17, Bytes{0, 4, 0, 1});
        CHECK(recognise(data, ack)->application == Application::tftp);
        CHECK_FALSE(recognise(data, PayloadClues{}));
        auto oack = one_side(17, bytes_of(std::string("\x00\x06" "blksize\x00" "1468\x00" "tsize\x00" "100\x00", 25)));
        REQUIRE(oack);
        CHECK(oack->detail == "TFTP option acknowledgement (blksize, tsize)");
        CHECK_FALSE(one_side(17, bytes_of(std::string("\x00\x06" "colour\x00" "red\x00", 13))));
        CHECK_FALSE(one_side(17, bytes_of(std::string("\x00\x01name\x00binary\x00", 14))));
    }
}

TEST_CASE("dissect: the applications nDPI names in real captures, and nothing where it names none", "[dissect][pcap]") {
    const std::map<std::string, Application> ndpi = {
        {"HL7", Application::hl7},      {"FTP_CONTROL", Application::ftp}, {"Telnet", Application::telnet},
        {"TFTP", Application::tftp},    {"RDP", Application::rdp},         {"NetBIOS.SMBv1", Application::smb1},
        {"SNMP", Application::snmp},
    };
    std::regex line(R"(^\s+\d+\s+(TCP|UDP) \[?([0-9a-fA-F:.]+?)\]?:(\d+) (<->|->) \[?([0-9a-fA-F:.]+?)\]?:(\d+) .*\[proto: [0-9.]+/([A-Za-z0-9_.]+)\])");
    // SNMPv3 (tshark: msgVersion 3) authenticates its users: not one of the insecure versions.
    const std::set<std::string> snmpv3 = {"131.179.49.165", "35.95.158.217", "30.54.142.240",
                                           "205.83.36.228",  "113.19.156.111", "124.53.196.176"};
    std::map<Application, int> matched;
    for (const auto& entry : fs::directory_iterator(kSharedData + "/pcap")) {
        if (entry.path().extension() != ".pcap") continue;
        // Our flows by unordered endpoints.
        std::map<std::string, std::optional<Application>> ours;
        read_pcap(entry.path(), [&](const PcapFlow& f) {
            auto a = f.record.initiator.to_string(), b = f.record.responder.to_string();
            (void)b;
            ours[a + " " + f.record.responder.to_string() + " " + std::to_string(f.record.responder_port)] = f.application;
        });
        std::ifstream in(entry.path().string() + ".ndpi.out");
        std::set<std::string> seen;
        for (std::string text; std::getline(in, text);) {
            std::smatch m;
            if (!std::regex_search(text, m, line)) continue;
            const std::string forward = m[2].str() + " " + m[5].str() + " " + m[6].str();
            const std::string backward = m[5].str() + " " + m[2].str() + " " + m[3].str();
            if (!seen.insert(forward).second) continue;
            auto it = ours.count(forward) ? ours.find(forward) : ours.find(backward);
            INFO(entry.path().filename().string() << ": " << forward << " nDPI " << m[7].str());
            REQUIRE(it != ours.end());
            auto expected = ndpi.find(m[7].str());
            if (expected != ndpi.end() && expected->second == Application::snmp && snmpv3.count(m[2].str())) {
                CHECK_FALSE(it->second);
            } else if (expected == ndpi.end()) {
                CHECK_FALSE(it->second);
            } else {
                CHECK(it->second == expected->second);
                if (it->second == expected->second) ++matched[expected->second];
            }
        }
    }
    CHECK(matched[Application::hl7] == 1);
    CHECK(matched[Application::telnet] == 1);
    CHECK(matched[Application::ftp] == 1);
    CHECK(matched[Application::rdp] == 1);
    CHECK(matched[Application::smb1] == 1);
    CHECK(matched[Application::tftp] >= 3);
    CHECK(matched[Application::snmp] >= 3);
}

TEST_CASE("dissect: Zeek's DHCP capture names the client", "[dissect][pcap]") {
    std::vector<PcapFlow> dhcp;
    read_pcap(kSharedData + "/zeek/dhcp/dhcp.pcap", [&](const PcapFlow& f) {
        if (f.application == Application::dhcp) dhcp.push_back(f);
    });
    REQUIRE(!dhcp.empty());
    bool named = false;
    for (const auto& f : dhcp) named = named || f.application_detail.find("hostname=\"btest.is.cool\"") != std::string::npos;
    CHECK(named);
}


TEST_CASE("dissect: the capture's flows carry their application, and forged packets do not label an edge", "[dissect][pcap]") {
    TempDir dir("dissect");
    const Bytes negotiation{0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01};
    SECTION("telnet on tcp/2323, answered") {
        auto file = dir.path / "telnet.pcap";
        write_pcap(file, 1, tcp_exchange(2323, negotiation, negotiation, true));
        std::vector<PcapFlow> flows;
        read_pcap(file, [&](const PcapFlow& f) { flows.push_back(f); });
        REQUIRE(flows.size() == 1);
        CHECK(flows[0].application == Application::telnet);
        CHECK(flows[0].record.applications == application_bit(Application::telnet));
        CHECK(flows[0].record.established);
    }
    SECTION("the same bytes from one side only: seen, but no label on the edge") {
        auto file = dir.path / "forged.pcap";
        write_pcap(file, 1, tcp_exchange(2323, negotiation, {}, false));
        std::vector<PcapFlow> flows;
        read_pcap(file, [&](const PcapFlow& f) { flows.push_back(f); });
        REQUIRE(flows.size() == 1);
        CHECK(flows[0].application == Application::telnet);
        CHECK(flows[0].record.applications == 0);
    }
    SECTION("a DICOM association on tcp/4006, cut short by the snapshot length: still DICOM") {
        auto file = dir.path / "dicom.pcap";
        auto frames = tcp_exchange(4006, associate(1, "PACS", "CT01", kCtSyntaxes), associate(2, "PACS", "CT01", {}), true);
        for (auto& f : frames) f.data.resize(std::min<size_t>(f.data.size(), 14 + 20 + 20 + 120));
        write_pcap(file, 1, frames);
        std::vector<PcapFlow> flows;
        read_pcap(file, [&](const PcapFlow& f) { flows.push_back(f); });
        REQUIRE(flows.size() == 1);
        CHECK(flows[0].application == Application::dicom);
        CHECK(flows[0].application_detail == "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\"");
        CHECK(flows[0].record.responder_port == 4006);
    }
}

TEST_CASE("dissect: the store keeps each edge's applications and the first sighting of each", "[dissect][store]") {
    TempDir dir("dissect-store");
    BaselineStore store(dir.path / "baseline.db");
    const Bytes negotiation{0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01};
    auto dicom_rq = associate(1, "PACS", "CT01", kCtSyntaxes);
    auto dicom_ac = associate(2, "PACS", "CT01", {});
    // Day two: telnet on 2323 and a DICOM association on 4006 from CT02.
    auto later = tcp_exchange(2323, negotiation, negotiation, true, 2000);
    auto dicom_later = tcp_exchange(4006, associate(1, "PACS", "CT02", kCtSyntaxes), dicom_ac, true, 2100);
    later.insert(later.end(), dicom_later.begin(), dicom_later.end());
    write_pcap(dir.path / "later.pcap", 1, later);
    // Day one, ingested second: the same DICOM edge, from CT01, earlier.
    write_pcap(dir.path / "earlier.pcap", 1, tcp_exchange(4006, dicom_rq, dicom_ac, true, 1000));
    ingest_file(store, dir.path / "later.pcap");
    ingest_file(store, dir.path / "earlier.pcap");

    std::map<uint16_t, ApplicationSet> by_port;
    for (const auto& e : store.edges()) by_port[e.key.responder_port] = e.stats.applications;
    CHECK(by_port[2323] == application_bit(Application::telnet));
    CHECK(by_port[4006] == application_bit(Application::dicom));

    auto sightings = store.sightings({IpAddress::parse("10.1.0.9").value()});
    REQUIRE(sightings.size() == 2);
    CHECK(sightings[0].key.responder_port == 2323);
    CHECK(sightings[0].application == Application::telnet);
    CHECK(sightings[1].application == Application::dicom);
    CHECK(sightings[1].first_seen == Approx(1000));
    CHECK(sightings[1].detail.find("calling \"CT01\"") != std::string::npos);  // the earlier one won
    CHECK(store.sightings({IpAddress::parse("10.9.9.9").value()}).empty());

    // Retention drops the sightings of the edges it drops.
    store.age_out(1500);
    CHECK(store.sightings().size() == 2);  // both edges were seen after 1500
    store.age_out(3000);
    CHECK(store.sightings().empty());
}

TEST_CASE("dissect: what real captures' first packets say", "[dissect][pcap]") {
    auto detail_of = [](const std::string& name) {
        std::string out;
        read_pcap(kSharedData + "/pcap/" + name, [&](const PcapFlow& f) {
            if (f.application && out.empty()) out = f.application_detail;
        });
        return out;
    };
    CHECK(detail_of("hl7.pcap") ==
          "MSH SENDING_APPLICATION@SENDING_FACILITY -> RECEIVING_APPLICATION@RECEIVING_FACILITY ADT^A01 v2.3");
    CHECK(detail_of("rdp.pcap") == "RDP connection request, offers TLS, CredSSP, CredSSP with early authorisation");
    CHECK(detail_of("smbv1.pcap") == "SMBv1 NEGOTIATE");
    CHECK(detail_of("telnet.pcap") == "telnet option negotiation");
}

TEST_CASE("dissect: DICOM on a port the profile does not declare is a plan warning naming the declared ports", "[dissect][plan]") {
    // ct-01 declares DICOM to the PACS on tcp/104 and 11112-11113; it was set up on 4006.
    auto files = small_site_files();
    auto& site_toml = files["site.toml"];
    const std::string flows = "flows = [\"flows/conn.log\"]";
    site_toml.replace(site_toml.find(flows), flows.size(), "flows = [\"flows/conn.log\", \"flows/dicom.pcap\"]");
    TempSite site(files);
    auto frames = tcp_exchange(4006, associate(1, "PACS", "CT01", kCtSyntaxes), associate(2, "PACS", "CT01", {}), true,
                               1763683200, "10.120.0.11", "10.50.0.10");
    // And an HL7 feed from the workstation to the CT, which nothing declares.
    auto hl7 = tcp_exchange(2575, bytes_of("\x0bMSH|^~\\&|RIS|H|CT|H|2026||ORM^O01|1|P|2.3\r\x1c\r"), {0x06}, true,
                            1763683300, "10.200.0.31", "10.120.0.11");
    frames.insert(frames.end(), hl7.begin(), hl7.end());
    write_pcap(site.dir() / "flows/dicom.pcap", 1, frames);
    auto p = pipeline_for(site.dir());
    std::vector<std::string> warnings;
    for (const auto& n : p.policy.notes)
        if (n.code == "application-port") warnings.push_back(n.message);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] ==
          "ct-01 -> pacs: DICOM seen on tcp/4006, declared tcp/104,11112-11113: the device may be set up on another port "
          "than its profile says, and enforcement will block it");
    CHECK(warnings[1] == "ws-01 -> ct-01: HL7 seen on tcp/2575, which nothing declares or approves between them");
    // The warning is in the plan the engineer reads.
    auto text = render_plan_text(make_plan(p.policy, std::nullopt, p.edges, *p.book), false);
    CHECK(text.find("DICOM seen on tcp/4006, declared tcp/104,11112-11113") != std::string::npos);
    // explain says what the observed edge carried.
    auto r = run_wardgate("explain " + site.dir().string() + " --today 2026-11-22 ct-01 pacs tcp/4006");
    CHECK(r.out.find("carried dicom") != std::string::npos);
    auto j = run_wardgate("explain " + site.dir().string() + " --today 2026-11-22 ct-01 pacs tcp/4006 --format json");
    CHECK(nlohmann::json::parse(j.out)["observed"][0]["applications"] == nlohmann::json::array({"dicom"}));
}

TEST_CASE("dissect: the README's flows --application output is what the command prints", "[dissect][cli]") {
    TempDir dir("dissect-readme");
    const std::string db = (dir.path / "v.db").string();
    for (const char* capture : {"pcap/hl7.pcap", "pcap/rdp.pcap", "pcap/telnet.pcap", "zeek/dhcp/dhcp.pcap"})
        REQUIRE(run_wardgate("ingest --db " + db + " " + kSharedData + "/" + capture).exit_code == 0);
    std::ifstream in(kSourceDir + "/README.md");
    std::stringstream readme;
    readme << in.rdbuf();
    for (const char* application : {"hl7", "rdp", "dhcp"}) {
        auto r = run_wardgate("flows --db " + db + " --application " + application);
        REQUIRE(r.exit_code == 0);
        std::istringstream lines(r.out);
        int compared = 0;
        for (std::string line; std::getline(lines, line) && compared < 2; ++compared) {
            INFO(line);
            CHECK(readme.str().find("\n" + line + "\n") != std::string::npos);
        }
    }
    CHECK(run_wardgate("flows --db " + db + " --application telnet").out.find("app telnet") != std::string::npos);
    auto bad = run_wardgate("flows --db " + db + " --application dicomm");
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("--application") != std::string::npos);
}
