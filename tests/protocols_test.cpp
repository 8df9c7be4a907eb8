// IP protocols beyond TCP and UDP, and ICMP by message type: how they are written, what they
// compile to, and what the kernel then lets through (tests/data/protocol-site).
#include <catch2/catch.hpp>
#include <netinet/in.h>

#include <algorithm>

#include "support/export_readers.hpp"
#include "support/gateway_fixture.hpp"
#include "support/netns.hpp"
#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/render/export.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

const std::string kProtocolSite = kSourceDir + "/tests/data/protocol-site";

Policy protocol_policy() { return pipeline_for(kProtocolSite).policy; }

std::string marked(char mark) { return std::string(32, mark); }

}  // namespace

TEST_CASE("protocols by name, number and the system's list, extension headers are no protocol", "[net][protocols]") {
    CHECK(parse_protocol("esp") == Protocol::esp);
    CHECK(parse_protocol("ESP") == Protocol::esp);
    CHECK(parse_protocol("50") == Protocol::esp);
    CHECK(parse_protocol("gre") == Protocol::gre);
    CHECK(parse_protocol("sctp") == Protocol::sctp);
    CHECK(parse_protocol("ospf") == static_cast<Protocol>(89));
    CHECK(parse_protocol("vrrp") == static_cast<Protocol>(112));
    CHECK(parse_protocol("ipv6-icmp") == Protocol::icmp);
    CHECK(parse_protocol("icmpv6") == Protocol::icmp);
    CHECK(parse_protocol("58") == Protocol::icmp);
    CHECK(parse_protocol("OSPFIGP") == static_cast<Protocol>(89));  // an alias only /etc/protocols knows
    for (const char* no : {"0", "hopopt", "44", "ipv6-frag", "60", "255", "256", "-1", "", "espx"})
        CHECK_FALSE(parse_protocol(no));
    CHECK(to_string(static_cast<Protocol>(200)) == "200");
    CHECK(has_ports(Protocol::sctp));
    CHECK_FALSE(has_ports(Protocol::esp));
    CHECK_FALSE(has_ports(Protocol::icmp));
}

TEST_CASE("ICMP types by name or number, per family, with codes", "[net][protocols]") {
    std::string why;
    auto echo = parse_icmp_type("echo-request", false, &why);
    REQUIRE(echo);
    REQUIRE(echo->size() == 2);  // ICMP 8 and ICMPv6 128
    CHECK(echo->at(0).family == Family::v4);
    CHECK(echo->at(0).type == 8);
    CHECK(echo->at(1).type == 128);
    auto ptb = parse_icmp_type("packet-too-big", false, &why);
    REQUIRE(ptb);
    REQUIRE(ptb->size() == 1);  // ICMPv6 only
    CHECK(ptb->front().family == Family::v6);
    auto eight = parse_icmp_type("8", false, &why);
    REQUIRE(eight);
    CHECK(eight->front().family == Family::v4);
    auto v6_number = parse_icmp_type("128", true, &why);
    REQUIRE(v6_number);
    CHECK(v6_number->front().family == Family::v6);
    auto frag = parse_icmp_type("destination-unreachable:frag-needed", false, &why);
    REQUIRE(frag);
    REQUIRE(frag->size() == 1);  // the code name exists in ICMP only
    CHECK(frag->front().code == 4);
    auto port = parse_icmp_type("destination-unreachable:port-unreachable", false, &why);
    REQUIRE(port);
    REQUIRE(port->size() == 2);  // code 3 in ICMP, 4 in ICMPv6
    CHECK(port->at(0).code == 3);
    CHECK(port->at(1).code == 4);
    // A number means different codes in the two families: refused, with the way out.
    CHECK_FALSE(parse_icmp_type("destination-unreachable:4", false, &why));
    CHECK_THAT(why, Catch::Contains("means different things in ICMP and ICMPv6"));
    CHECK_FALSE(parse_icmp_type("echo-requst", false, &why));
    CHECK_THAT(why, Catch::Contains("is not an ICMP or ICMPv6 type name"));
    CHECK_FALSE(parse_icmp_type("timestamp-request", true, &why));  // no such ICMPv6 message
    CHECK_FALSE(parse_icmp_type("256", false, &why));

    // The text form reads back as the same messages.
    for (const char* text : {"icmp/echo-request", "icmp/8", "icmpv6/packet-too-big", "icmp/echo-request icmpv6/packet-too-big",
                             "icmp/destination-unreachable:frag-needed,timestamp-request"}) {
        Service s{Protocol::icmp, {}, {}};
        std::string t = text;
        for (size_t at = 0; at < t.size();) {
            auto space = std::min(t.find(' ', at), t.size());
            std::string part = t.substr(at, space - at);
            auto slash = part.find('/');
            bool v6 = part.substr(0, slash) == "icmpv6";
            std::string list = part.substr(slash + 1);
            for (size_t i = 0; i <= list.size();) {
                auto comma = std::min(list.find(',', i), list.size());
                auto parsed = parse_icmp_type(list.substr(i, comma - i), v6, &why);
                REQUIRE(parsed);
                s.icmp_types.insert(s.icmp_types.end(), parsed->begin(), parsed->end());
                i = comma + 1;
            }
            at = space + 1;
        }
        std::sort(s.icmp_types.begin(), s.icmp_types.end());
        CHECK(s.to_string() == text);
    }
}

TEST_CASE("a ward's protocols compile to rules nft accepts, and explain agrees", "[compile][protocols]") {
    Policy p = protocol_policy();
    std::string text = render_nft(p);
    for (const char* line : {"meta l4proto 50 counter jump accepted", "meta l4proto 47 counter jump accepted",
                             "icmp type echo-request counter", "icmpv6 type echo-request counter",
                             "icmp type destination-unreachable icmp code 4 counter", "icmpv6 type packet-too-big counter",
                             "sctp dport { 2905, 3868-3869 } counter", "ip saddr . ip daddr . meta l4proto @baseline_proto_v4",
                             "10.110.0.21 . 10.50.0.10 . 50", "ip saddr . ip daddr . icmp type @baseline_icmp_type_v4",
                             "10.110.0.21 . 10.50.0.10 . 8", "ip6 saddr . ip6 daddr . icmpv6 type @baseline_icmp_type_v6",
                             "fd00:110::21 . fd00:50::10 . 128"})
        CHECK_THAT(text, Catch::Contains(line));
    std::string err;
    CHECK(nft_check(text, err) == 0);
    INFO(err);
    // ICMP errors allowed as messages of their own open nothing: said, for the approval and the profile.
    std::vector<std::string> errors_notes;
    for (const auto& n : p.notes)
        if (n.code == "icmp-error-allowed") errors_notes.push_back(n.message);
    REQUIRE(errors_notes.size() == 2);
    CHECK_THAT(errors_notes[0] + errors_notes[1], Catch::Contains("approval CHG-7001") &&
                                                      Catch::Contains("icmp destination-unreachable:frag-needed") &&
                                                      Catch::Contains("icmpv6 packet-too-big") &&
                                                      Catch::Contains("drops all others as invalid"));
    // So do replies: echo-reply passes only as the answer to an echo request the gateway allowed.
    std::vector<std::string> reply_notes;
    for (const auto& n : p.notes)
        if (n.code == "icmp-reply-allowed") reply_notes.push_back(n.message);
    REQUIRE(reply_notes.size() == 1);
    CHECK_THAT(reply_notes[0], Catch::Contains("approval CHG-7001") && Catch::Contains("icmp echo-reply, icmpv6 echo-reply") &&
                                   Catch::Contains("cannot start a connection"));

    const std::string dev = "10.110.0.21", pacs = "10.50.0.10", vpn = "10.50.0.5";
    CHECK(verdict_of(p, dev, vpn, Protocol::esp, 0).allowed);
    CHECK(verdict_of(p, dev, vpn, Protocol::udp, 4500).allowed);
    CHECK_FALSE(verdict_of(p, dev, vpn, Protocol::ah, 0).allowed);
    CHECK_FALSE(verdict_of(p, vpn, dev, Protocol::esp, 0).allowed);  // the device opens the tunnel, not the VPN
    CHECK(verdict_of(p, dev, pacs, Protocol::esp, 0).by == Verdict::By::pinhole);  // observed on two days, answered
    // Pings answered on two days keep echo requests to the PACS, and only them.
    CHECK(verdict_of(p, dev, pacs, Protocol::icmp, icmp_port(8, 0)).by == Verdict::By::pinhole);
    CHECK_FALSE(verdict_of(p, dev, pacs, Protocol::icmp, icmp_port(13, 0)).allowed);
    CHECK(verdict_of(p, "fd00:110::21", "fd00:50::10", Protocol::icmp, icmp_port(128, 0)).by == Verdict::By::pinhole);
    CHECK_FALSE(verdict_of(p, "fd00:110::21", "fd00:50::10", Protocol::icmp, icmp_port(139, 0)).allowed);
    CHECK(verdict_of(p, dev, pacs, Protocol::gre, 0).allowed);
    CHECK_FALSE(verdict_of(p, dev, vpn, Protocol::gre, 0).allowed);
    CHECK(verdict_of(p, dev, pacs, Protocol::sctp, 3869).allowed);
    CHECK_FALSE(verdict_of(p, dev, pacs, Protocol::sctp, 3870).allowed);
    CHECK_FALSE(verdict_of(p, dev, pacs, Protocol::udp, 2905).allowed);
    CHECK(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(8, 0)).allowed);
    CHECK_FALSE(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(13, 0)).allowed);  // timestamp
    CHECK_FALSE(verdict_of(p, pacs, dev, Protocol::icmp, 0).allowed);                 // message not known
    CHECK_FALSE(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(3, 1)).allowed);
    // Allowed by the approval, yet never a connection of its own: explain says what the kernel does.
    CHECK(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(0, 0)).by == Verdict::By::not_new);
    CHECK_FALSE(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(0, 0)).allowed);
    CHECK(verdict_of(p, pacs, dev, Protocol::icmp, icmp_port(3, 4)).by == Verdict::By::not_new);
    CHECK(verdict_of(p, "fd00:50::10", "fd00:110::21", Protocol::icmp, icmp_port(128, 0)).allowed);
    CHECK_FALSE(verdict_of(p, "fd00:50::10", "fd00:110::21", Protocol::icmp, icmp_port(8, 0)).allowed);
    CHECK_FALSE(verdict_of(p, "fd00:50::10", "fd00:110::21", Protocol::icmp, icmp_port(3, 4)).allowed);

    auto run = [](const std::string& args) { return run_wardgate("explain " + kProtocolSite + " --today 2026-11-22 " + args); };
    auto echo = run("pacs monitor-icu-01 icmp/echo-request");
    CHECK(echo.exit_code == 0);
    CHECK_THAT(echo.out, Catch::Contains("icmp/echo-request: ALLOWED"));
    CHECK_THAT(echo.out, Catch::Contains("approval CHG-7001"));
    auto stamp = run("pacs monitor-icu-01 icmp/timestamp-request");
    CHECK(stamp.exit_code == 2);
    auto reply = run("pacs monitor-icu-01 icmp/echo-reply");
    CHECK(reply.exit_code == 2);
    CHECK_THAT(reply.out, Catch::Contains("icmp/echo-reply: DENIED") && Catch::Contains("cannot start a connection"));
    auto reply_json = run("pacs monitor-icu-01 icmp/echo-reply --format json");
    CHECK_THAT(reply_json.out, Catch::Contains("\"by\": \"not-new\""));
    auto esp = run("monitor-icu-01 remote-support esp");
    CHECK(esp.exit_code == 0);
    CHECK_THAT(esp.out, Catch::Contains("esp: ALLOWED"));
    CHECK_THAT(esp.out, Catch::Contains("Vendor remote support: IPsec ESP"));
    auto v6 = run("fd00:50::10 fd00:110::21 icmpv6/128");
    CHECK(v6.exit_code == 0);
    auto wrong_family = run("fd00:50::10 fd00:110::21 icmp/8");
    CHECK(wrong_family.exit_code == 1);
    CHECK_THAT(wrong_family.err, Catch::Contains("write icmpv6/TYPE"));
    auto plan = run_wardgate("plan " + kProtocolSite + " --today 2026-11-22");
    CHECK_THAT(plan.out, Catch::Contains("-> pacs (10.50.0.10) icmp/echo-request  observed baseline") &&
                             Catch::Contains("-> pacs (fd00:50::10) icmpv6/echo-request  observed baseline"));
    auto esp_port = run("monitor-icu-01 remote-support esp/500");
    CHECK(esp_port.exit_code == 1);
    CHECK_THAT(esp_port.err, Catch::Contains("esp has no ports"));
}

TEST_CASE("protocol and ICMP mistakes are located errors", "[errors][protocols]") {
    auto files = small_site_files();
    auto profile_with = [](const std::string& flow) {
        return "vendor = \"X\"\nmodel = \"Y\"\nsource = \"t\"\n\n[[flow]]\ndirection = \"device-initiated\"\npeer = \"any\"\n" + flow +
               "purpose = \"p\"\nrequired = true\n";
    };
    struct Case {
        std::string flow, message;
    };
    for (const auto& c : std::vector<Case>{
             {"protocol = \"esp\"\nports = [500]\n", "flow.ports: esp has no ports"},
             {"protocol = \"tcp\"\nports = [80]\nicmp_types = [\"echo-request\"]\n", "only icmp and icmpv6 have message types"},
             {"protocol = \"icmp\"\nicmp_types = [\"echo-requst\"]\n", "is not an ICMP or ICMPv6 type name"},
             {"protocol = \"icmp\"\nicmp_types = [300]\n", "expected an ICMP type 0-255 or a name"},
             {"protocol = \"icmp\"\nicmp_types = []\n", "expected a non-empty array of ICMP message types"},
             {"protocol = \"icmpv6\"\n", "icmpv6 without icmp_types allows ICMP and ICMPv6 alike"},
             {"protocol = \"icmp\"\nicmp_types = [\"destination-unreachable:4\"]\n", "means different things"},
             {"protocol = \"hopopt\"\n", "expected tcp, udp, icmp, icmpv6, an IP protocol name"},
             {"protocol = \"sctp\"\n", "flow.ports: missing (required for sctp)"},
         }) {
        auto site_files = files;
        site_files["profiles/x-y.toml"] = profile_with(c.flow);
        TempSite site(site_files);
        auto r = run_wardgate("check " + site.dir().string());
        INFO(c.flow);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("x-y.toml:") && Catch::Contains(c.message));
    }
    // A deny naming ICMP types without a protocol is not a deny of everything.
    auto site_files = files;
    site_files["policy.toml"] += "\n[[deny]]\nid = \"d\"\nfrom = \"any\"\nto = \"any\"\nicmp_types = [\"echo-request\"]\nreason = \"r\"\n";
    TempSite site(site_files);
    auto r = run_wardgate("check " + site.dir().string());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("icmp_types without a protocol"));
}

TEST_CASE("exports carry protocols, SCTP ports and ICMP messages in each target's syntax", "[export][protocols]") {
    Policy p = protocol_policy();
    auto ipt = render_export(p, "iptables", default_template_dir());
    std::string all = ipt.combined();
    CHECK_THAT(all, Catch::Contains("-p 50 "));
    CHECK_THAT(all, Catch::Contains("-p 47 "));
    CHECK_THAT(all, Catch::Contains("-p icmp --icmp-type 8 "));
    CHECK_THAT(all, Catch::Contains("-p icmp --icmp-type 3/4 "));
    CHECK_THAT(all, Catch::Contains("-p ipv6-icmp --icmpv6-type 128 "));
    CHECK_THAT(all, Catch::Contains("-p ipv6-icmp --icmpv6-type 2 "));
    CHECK_THAT(all, Catch::Contains("-p sctp -m multiport --dports 2905,3868:3869"));
    CHECK_THAT(all, Catch::Contains("-p 50 ") && Catch::Contains("10.50.0.10"));  // the ESP baseline
    CHECK_FALSE(all.find("-p icmp -m") != std::string::npos);

    // Each target's own words for the same things.
    struct Expect {
        const char* target;
        std::vector<std::string> lines;
    };
    for (const auto& e : std::vector<Expect>{
             {"asa",
              {"extended permit esp object-group wg-sup_patient_monitor-v4 object-group wg-ep_remote_support-v4",
               "extended permit sctp object-group wg-sup_patient_monitor-v4 object-group wg-ep_pacs-v4 range 3868 3869",
               "extended permit icmp object-group wg-ep_pacs-v4 object-group wg-role_patient_monitor-v4 3 4",
               "extended permit icmp6 object-group wg-ep_pacs-v6 object-group wg-role_patient_monitor-v6 128",
               "extended permit gre object-group wg-dev_monitor_icu_01-v4", "extended permit esp host 10.110.0.21 host 10.50.0.10"}},
             {"panos",
              {"set service wg-sctp-2905_3868-3869 protocol sctp port 2905,3868-3869",
               "set application wg-esp default ident-by-ip-protocol 50",
               "set application wg-icmp-3-4 default ident-by-icmp-type type 3 code 4",
               "set application wg-icmp6-128 default ident-by-icmp6-type type 128",
               "application [ wg-icmp-0 wg-icmp-3-4 wg-icmp-8 wg-icmp6-128 wg-icmp6-129 ]"}},
             {"fortios",
              {"set sctp-portrange 2905 3868-3869", "set protocol IP\n        set protocol-number 50",
               "set protocol ICMP\n        set icmptype 3\n        set icmpcode 4", "set protocol ICMP6\n        set icmptype 128"}},
         }) {
        INFO(e.target);
        auto r = render_export(p, e.target, default_template_dir());
        for (const auto& line : e.lines) CHECK_THAT(r.combined(), Catch::Contains(line));
        // The approval's ticket travels with it, where the platform keeps comments.
        CHECK_THAT(r.combined(), Catch::Contains("CHG-7001 by N. Okafor (ticket https://changes.example/CHG-7001)"));
        // Read back, the export allows exactly what the policy does, message by message.
        auto expected = expected_tuples(p);
        auto got = parsed_tuples(read_export(e.target, r));
        CHECK(got == expected);
    }

    // IOS access lists and Junos applications take no SCTP ports: refused, naming the rule,
    // never widened to all of SCTP or dropped.
    for (const char* target : {"ios", "srx"}) {
        INFO(target);
        CHECK_THROWS_AS(render_export(p, target, default_template_dir()), ExportLimit);
    }
    auto cli = run_wardgate("export " + kProtocolSite + " --today 2026-11-22 --target srx");
    CHECK(cli.exit_code == 1);
    CHECK_THAT(cli.err, Catch::Contains("the srx export cannot express SCTP ports") && Catch::Contains("patient-monitor") &&
                            Catch::Contains("The nft, iptables, asa, panos and fortios exports can"));
    CHECK(cli.out.empty());
}

TEST_CASE("ESP, GRE and ICMP types in the kernel: encoded like nft -f, and real packets", "[kernel][protocols]") {
    Policy p = protocol_policy();
    auto rs = nft::lower_policy(p);
    Netns ours("pr-nl"), theirs("pr-nft");
    std::string applied = ours.run([&] { return std::to_string(netlink::apply_ruleset(rs).committed); });
    CHECK(applied == "1");
    TempDir dir("protocols");
    theirs.exec("nft -f " + dir.write("ruleset.nft", nft::print_ruleset(rs)));
    CHECK(ours.nft_list("wardgate", true) == theirs.nft_list("wardgate", true));
    CHECK(live_state(ours) == live_state(theirs));

    GatewayTopology t;
    apply_in(t.gw, p);
    // Nothing opens ESP towards the device (checked first: once the device has a tunnel, the
    // answer of the other side is rightly a reply).
    CHECK_FALSE(raw_exchange(t.srv, "10.50.0.10", t.dev, "10.110.0.21", IPPROTO_ESP, marked('k'), false));
    // Declared: ESP from the device to the vendor's concentrator, and its answer.
    CHECK(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.5", IPPROTO_ESP, marked('e'), true));
    CHECK(raw_exchange(t.dev, "fd00:110::21", t.srv, "fd00:50::5", IPPROTO_ESP, marked('f'), true));
    // Observed on two days and answered: the ESP baseline to the PACS (IPv4 only).
    CHECK(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.10", IPPROTO_ESP, marked('g'), true));
    // Approved: GRE to the PACS; not to the concentrator.
    CHECK(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.10", IPPROTO_GRE, marked('h'), true));
    CHECK_FALSE(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.5", IPPROTO_GRE, marked('i'), false));
    // AH was declared by nobody.
    CHECK_FALSE(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.5", IPPROTO_AH, marked('j'), false));
    // ICMP by type: the PACS may ping the monitor, not ask it for timestamps.
    CHECK(raw_exchange(t.srv, "10.50.0.10", t.dev, "10.110.0.21", IPPROTO_ICMP, icmp_message_bytes(8, 0, 'l'), false));
    CHECK_FALSE(raw_exchange(t.srv, "10.50.0.10", t.dev, "10.110.0.21", IPPROTO_ICMP, icmp_message_bytes(13, 0, 'm'), false));
    CHECK(raw_exchange(t.srv, "fd00:50::10", t.dev, "fd00:110::21", IPPROTO_ICMP, icmp_message_bytes(128, 0, 'n'), false));
    CHECK_FALSE(raw_exchange(t.srv, "fd00:50::10", t.dev, "fd00:110::21", IPPROTO_ICMP, icmp_message_bytes(139, 0, 'o'), false));
    // The observed baseline keeps the monitor's pings to the PACS, not its timestamp requests.
    CHECK_FALSE(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.10", IPPROTO_ICMP, icmp_message_bytes(13, 0, 'q'), false));
    CHECK(raw_exchange(t.dev, "10.110.0.21", t.srv, "10.50.0.10", IPPROTO_ICMP, icmp_message_bytes(8, 0, 'r'), false));
    CHECK(raw_exchange(t.dev, "fd00:110::21", t.srv, "fd00:50::10", IPPROTO_ICMP, icmp_message_bytes(128, 0, 's'), false));
    // Echo replies are approved too, but no reply starts a connection: the gateway drops an
    // unsolicited one as invalid, as explain says.
    CHECK_FALSE(raw_exchange(t.srv, "10.50.0.10", t.dev, "10.110.0.21", IPPROTO_ICMP, icmp_message_bytes(0, 0, 'p'), false));
}
