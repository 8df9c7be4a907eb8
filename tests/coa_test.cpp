// Change of authorisation: the RADIUS packet encoding, which devices' answers changed between
// two runs of `wardgate nac --out`, and the CoA-Requests a real FreeRADIUS server receives
// (acting as the switch: it checks both authenticators with the shared secret, and answers
// CoA-ACK or CoA-NAK as its recv-coa section says) after its files were reloaded.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "support/freeradius_server.hpp"
#include "support/temp_dir.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/radius/coa.hpp"
#include "wardgate/render/nac.hpp"
#include "wardgate/render/nac_state.hpp"
#include "wardgate/site/load.hpp"

using namespace wardgate;
using namespace wardgate::testing;
namespace fs = std::filesystem;

namespace {

std::string coa_device(const std::string& name, const std::string& address, const std::string& mac,
                       const std::string& role, const std::string& segment) {
    return "[[device]]\nname = \"" + name + "\"\naddresses = [\"" + address + "\"]\nmac = \"" + mac + "\"\nrole = \"" +
           role + "\"\nvendor = \"Acme\"\nmodel = \"M1\"\nsegment = \"" + segment + "\"\nlifecycle = \"support\"\n\n";
}

std::map<std::string, std::string> coa_site_files(const std::string& devices) {
    auto files = small_site_files();
    files["site.toml"] += "\n[nac]\nquarantine_vlan = 999\n";
    files["policy.toml"] = "";
    files["devices.toml"] = devices;
    return files;
}

const std::string kCoaPump1 = coa_device("pump-01", "10.110.0.21", "00:0a:f7:41:80:01", "infusion-pump", "icu");
const std::string kCoaPump2 = coa_device("pump-02", "10.110.0.22", "00:0a:f7:41:80:02", "infusion-pump", "icu");
const std::string kCoaCt = coa_device("ct-01", "10.120.0.11", "00:0b:00:00:00:11", "ct-scanner", "radiology");
const std::string kCoaLab = coa_device("lab-01", "10.120.0.12", "00:0b:00:00:00:12", "lab-analyzer", "radiology");

// The requests the server's debug log shows it accepted: one map of attribute -> value per
// CoA-Request, leaving out those it dropped (a wrong secret).
std::vector<std::map<std::string, std::string>> coa_requests_in(const std::string& log) {
    std::vector<std::map<std::string, std::string>> out;
    std::regex received(R"(^\(\d+\) Received CoA-Request Id \d+ from 127\.0\.0\.1)");
    std::regex attribute(R"(^\(\d+\)\s+([A-Za-z-]+) = (.*)$)");
    std::istringstream in(log);
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        std::smatch m;
        if (inside && line.find("Dropping packet without response") != std::string::npos) {
            out.pop_back();
            inside = false;
        } else if (std::regex_search(line, received)) {
            out.emplace_back();
            inside = true;
        } else if (inside && std::regex_match(line, m, attribute)) {
            out.back()[m[1]] = m[2];
        } else {
            inside = false;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("CoA-Requests carry the MAC, the command and a Message-Authenticator, and parse back", "[coa]") {
    CHECK(radius::calling_station_id("00:0a:f7:41:80:01") == "00-0A-F7-41-80-01");
    auto request = radius::coa_request("00:0a:f7:41:80:01", radius::CoaCommand::bounce_host_port, 7, 1764800000);
    std::string wire = radius::encode_request(request, "s3cret");
    REQUIRE(wire.size() == 20 + 19 + 43 + 6 + 18);
    CHECK(static_cast<uint8_t>(wire[0]) == 43);
    CHECK(static_cast<uint8_t>(wire[1]) == 7);
    CHECK(((static_cast<uint8_t>(wire[2]) << 8) | static_cast<uint8_t>(wire[3])) == static_cast<int>(wire.size()));
    auto back = radius::decode(wire);
    REQUIRE(back);
    CHECK(back->code == radius::Code::coa_request);
    CHECK(std::equal(back->authenticator.begin(), back->authenticator.end(), request.authenticator.begin()));
    REQUIRE(back->attributes.size() == 4);
    CHECK(back->find(radius::attr::calling_station_id)->value == "00-0A-F7-41-80-01");
    CHECK(back->find(radius::attr::vendor_specific)->value.substr(6) == "subscriber:command=bounce-host-port");
    CHECK(back->find(radius::attr::event_timestamp)->as_integer() == 1764800000u);
    CHECK(back->find(radius::attr::message_authenticator)->value.size() == 16);
    // Another secret signs differently; the same inputs sign the same.
    auto again = radius::coa_request("00:0a:f7:41:80:01", radius::CoaCommand::bounce_host_port, 7, 1764800000);
    CHECK(radius::encode_request(again, "s3cret") == wire);
    CHECK(radius::encode_request(again, "other") != wire);
    // An answer is accepted only when it is signed for this request with the secret: our own
    // request bytes are no valid answer to it.
    CHECK_FALSE(radius::verify_response(wire, request, "s3cret"));

    std::string error;
    CHECK_FALSE(radius::decode(wire.substr(0, 19), &error));
    CHECK(error == "shorter than a RADIUS header (19 octets)");
    std::string cut = wire;
    cut[3] = static_cast<char>(cut[3] + 1);
    CHECK_FALSE(radius::decode(cut, &error));
    CHECK_THAT(error, Catch::Contains("beyond the"));
    std::string zero_length = wire;
    zero_length[21] = 0;
    CHECK_FALSE(radius::decode(zero_length, &error));
    CHECK(error == "attribute 31 at octet 20 has length 0");
}

TEST_CASE("answers signed independently (Python's hashlib and hmac) verify, and a changed octet does not", "[coa]") {
    // fuzz/corpus/radius-answer/ holds answers to this request with the secret "fuzz-secret".
    auto request = radius::coa_request("00:0a:f7:41:80:01", radius::CoaCommand::reauthenticate, 0, 1764800000);
    radius::encode_request(request, "fuzz-secret");
    const fs::path dir = fs::path(kSourceDir) / "fuzz" / "corpus" / "radius-answer";
    for (const char* name : {"coa-ack", "coa-ack-with-message-authenticator", "coa-nak-session-not-found", "coa-nak-prohibited"}) {
        INFO(name);
        std::string answer = read_text(dir / name);
        CHECK(radius::verify_response(answer, request, "fuzz-secret"));
        CHECK_FALSE(radius::verify_response(answer, request, "fuzz-secreT"));
        std::string tampered = answer;
        tampered.back() = static_cast<char>(tampered.back() ^ 1);
        CHECK_FALSE(radius::verify_response(tampered, request, "fuzz-secret"));
    }
    auto nak = radius::decode(read_text(dir / "coa-nak-session-not-found"));
    REQUIRE(nak);
    CHECK(nak->code == radius::Code::coa_nak);
    CHECK(radius::error_cause_name(*nak->find(radius::attr::error_cause)->as_integer()) == "Session-Context-Not-Found");
}

TEST_CASE("nac changes: changed, added, removed, and pending ones again", "[coa]") {
    NacState before{"freeradius",
                    {{"00:00:00:00:00:01", "a", 110, "wg-pump"},
                     {"00:00:00:00:00:02", "b", 110, "wg-pump"},
                     {"00:00:00:00:00:03", "c", 120, "wg-ct"},
                     {"00:00:00:00:00:04", "d", 120, "wg-lab"},
                     {"00:00:00:00:00:05", "e", 130, "wg-lab"}},
                    {{"00:00:00:00:00:04", "d", false}, {"00:00:00:00:00:09", "gone", true}}};
    std::vector<NacAssignment> now{{"00:00:00:00:00:01", "a", 200, "wg-pump"},
                                   {"00:00:00:00:00:02", "b", 110, "wg-monitor"},
                                   {"00:00:00:00:00:04", "d", 120, "wg-lab"},
                                   {"00:00:00:00:00:05", "e", 130, "wg-lab"},
                                   {"00:00:00:00:00:06", "f", 130, "wg-lab"}};
    auto changes = nac_changes(before, now);
    REQUIRE(changes.size() == 6);
    CHECK(changes[5].mac == "00:00:00:00:00:09");  // removed earlier, still pending
    CHECK(changes[5].kind == NacChange::Kind::retry);
    CHECK(changes[5].vlan_changed);
    CHECK(changes[0].device == "a");
    CHECK(changes[0].kind == NacChange::Kind::changed);
    CHECK(changes[0].before == "VLAN 110, wg-pump");
    CHECK(changes[0].after == "VLAN 200, wg-pump");
    CHECK(changes[0].vlan_changed);
    CHECK(changes[1].device == "b");
    CHECK_FALSE(changes[1].vlan_changed);
    CHECK(changes[2].device == "c");
    CHECK(changes[2].kind == NacChange::Kind::removed);
    CHECK(changes[2].after == "unknown device");
    CHECK(changes[3].device == "d");
    CHECK(changes[3].kind == NacChange::Kind::retry);
    CHECK(changes[4].device == "f");
    CHECK(changes[4].kind == NacChange::Kind::added);
    CHECK(changes[4].before == "unknown device");
}

TEST_CASE("a damaged NAC state stops the run before anything is written, naming the file and field", "[coa]") {
    TempDir tmp("nac-state");
    auto path = nac_state_path(tmp.path);
    auto first_error = [&](const std::string& text) {
        std::ofstream(path) << text;
        try {
            read_nac_state(path);
        } catch (const InputError& e) {
            return e.diagnostics().front();
        }
        FAIL("read");
        return Diagnostic{};
    };
    CHECK_THAT(first_error("{").message, Catch::Contains("damaged NAC state, not valid JSON"));
    CHECK(first_error(R"({"format":"x"})").field == "format");
    auto vlan = first_error(
        R"({"format":"wardgate-nac-state/1","target":"freeradius","devices":[{"mac":"m","device":"d","filter_id":"f","vlan":5000}]})");
    CHECK(vlan.file == path.string());
    CHECK(vlan.field == "devices[0].vlan");
    CHECK(vlan.message == "damaged NAC state: expected a VLAN 1-4094: delete it to start again (the next run then "
                          "sends no change of authorisation)");
    // Through the command: exit 1, and the authorize file is not written.
    TempSite site(coa_site_files(kCoaPump1));
    auto run = run_wardgate("nac " + site.dir().string() + " --target freeradius --out " + tmp.path.string());
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains(".wardgate-nac.json") && Catch::Contains("devices[0].vlan"));
    CHECK_FALSE(fs::exists(tmp.path / "mods-config" / "files" / "authorize"));
    // --coa-to needs --out and a secret.
    auto no_out = run_wardgate("nac " + site.dir().string() + " --target freeradius --coa-to 127.0.0.1:3799");
    CHECK(no_out.exit_code == 1);
    CHECK_THAT(no_out.err, Catch::Contains("--coa-to") && Catch::Contains("needs --out"));
    auto empty_secret = tmp.write("secret", "\n");
    fs::remove(path);
    auto no_secret = run_wardgate("nac " + site.dir().string() + " --target freeradius --out " + tmp.path.string() +
                                  " --coa-to 127.0.0.1:3799 --secret-file " + empty_secret);
    CHECK(no_secret.exit_code == 1);
    CHECK_THAT(no_secret.err, Catch::Contains("secret:1") && Catch::Contains("the file's first line holds no secret"));
    CHECK_FALSE(fs::exists(tmp.path / "mods-config" / "files" / "authorize"));
}

TEST_CASE("changed devices get a CoA-Request the switch accepts, after the RADIUS server reloaded", "[coa][freeradius]") {
    REQUIRE(std::system("command -v freeradius >/dev/null && command -v radclient >/dev/null") == 0);
    TempDir tmp("nac-coa");
    auto config = tmp.path / "raddb";
    int port = free_udp_ports(6);
    const int coa_port = port + 5;
    TempSite first(coa_site_files(kCoaPump1 + kCoaPump2 + kCoaCt + kCoaLab));
    write_radius_config(config, {}, port);
    // The same server plays the switch: a CoA listener that checks the secret, answers
    // not-online for pump-03 and refuses ct-01.
    std::ofstream(config / "sites-enabled" / "coa-switch") << "server coa-switch {\n"
        "\tlisten {\n\t\ttype = coa\n\t\tipaddr = 127.0.0.1\n\t\tport = " << coa_port << "\n\t}\n"
        "\trecv-coa {\n"
        "\t\tif (&Calling-Station-Id == \"00-0A-F7-41-80-03\") {\n"
        "\t\t\tupdate reply {\n\t\t\t\t&Error-Cause := Session-Context-Not-Found\n\t\t\t}\n\t\t\treject\n\t\t}\n"
        "\t\tif (&Calling-Station-Id == \"00-0B-00-00-00-11\") {\n"
        "\t\t\tupdate reply {\n\t\t\t\t&Error-Cause := Administratively-Prohibited\n\t\t\t}\n\t\t\treject\n\t\t}\n"
        "\t\tok\n\t}\n"
        "\tsend-coa {\n\t\tok\n\t}\n}\n";
    auto secret = tmp.write("coa-secret", std::string(kRadiusTestSecret) + "\n");
    fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
    const std::string coa = " --coa-to 127.0.0.1:" + std::to_string(coa_port) + " --secret-file " + secret;

    // First run: nothing to compare with, so no CoA; the files and the state are written.
    auto initial = run_wardgate("nac " + first.dir().string() + " --target freeradius --out " + config.string() + coa);
    INFO(initial.out << initial.err);
    REQUIRE(initial.exit_code == 0);
    CHECK_THAT(initial.err, Catch::Contains("does not exist (first run)"));
    REQUIRE(fs::exists(nac_state_path(config)));

    FreeRadiusServer server(config, tmp.path / "radiusd.log");
    INFO(server.log());
    REQUIRE(server.ready());
    CHECK(radclient_mab(tmp.path, port, "00-0A-F7-41-80-01").find("\"110\"") != std::string::npos);

    // pump-01 moves to the workstations, pump-02 changes role, ct-01 leaves, pump-03 arrives,
    // lab-01 stays as it was.
    std::string pump1_moved = coa_device("pump-01", "10.200.0.21", "00:0a:f7:41:80:01", "infusion-pump", "workstations");
    std::string pump2_role = coa_device("pump-02", "10.110.0.22", "00:0a:f7:41:80:02", "patient-monitor", "icu");
    std::string pump3 = coa_device("pump-03", "10.110.0.23", "00:0a:f7:41:80:03", "infusion-pump", "icu");
    TempSite second(coa_site_files(pump1_moved + pump2_role + pump3 + kCoaLab));
    // FreeRADIUS ignores a SIGHUP within 5 s of the last one or of its start (and one it
    // ignores counts as the last), and notices a changed file by its modification time.
    std::this_thread::sleep_for(std::chrono::milliseconds(5500));
    // The reload returns once the server says it has read the authorize file again.
    const std::string reload = " --reload-command 'kill -HUP " + std::to_string(server.pid()) +
                               "; for i in $(seq 40); do grep -q \"Reloaded module \\\"files\\\"\" " +
                               (tmp.path / "radiusd.log").string() + " && exit 0; sleep 0.25; done; exit 1'";
    auto changed = run_wardgate("nac " + second.dir().string() + " --target freeradius --out " + config.string() + coa +
                                " --coa-timeout 2" + reload);
    INFO(changed.out << changed.err);
    CHECK(changed.exit_code == 2);
    const std::string to = "127.0.0.1:" + std::to_string(coa_port);
    CHECK(changed.out ==
          "coa: ct-01 (00:0b:00:00:00:11) removed: VLAN 120, wg-ct-scanner.in -> unknown device; reauthenticate: " + to +
              " refused (Administratively-Prohibited); kept pending for the next run\n"
              "coa: pump-01 (00:0a:f7:41:80:01) changed: VLAN 110, wg-infusion-pump.in -> VLAN 200, wg-infusion-pump.in; "
              "reauthenticate: " + to + " done\n"
              "coa: pump-02 (00:0a:f7:41:80:02) changed: VLAN 110, wg-infusion-pump.in -> VLAN 110, wg-patient-monitor.in; "
              "reauthenticate: " + to + " done\n"
              "coa: pump-03 (00:0a:f7:41:80:03) added: unknown device -> VLAN 110, wg-infusion-pump.in; reauthenticate: " +
              to + " not online (Session-Context-Not-Found)\n");
    CHECK_THAT(changed.err, Catch::Contains("1 devices' changes not confirmed"));
    CHECK_THAT(changed.err, !Catch::Contains("readable by every user"));
    auto state = read_nac_state(nac_state_path(config));
    REQUIRE(state);
    REQUIRE(state->coa_pending.size() == 1);
    CHECK(state->coa_pending[0] == NacPending{"00:0b:00:00:00:11", "ct-01", true});

    // What the switch received: one request per change (none for lab-01), signed, with the
    // command Cisco switches act on.
    auto requests = coa_requests_in(server.log());
    REQUIRE(requests.size() == 4);
    std::vector<std::string> macs;
    for (auto& r : requests) {
        macs.push_back(r["Calling-Station-Id"]);
        CHECK(r["Cisco-AVPair"] == "\"subscriber:command=reauthenticate\"");
        CHECK(r.count("Event-Timestamp") == 1);
        CHECK(r.count("Message-Authenticator") == 1);
    }
    CHECK(macs == std::vector<std::string>{"\"00-0B-00-00-00-11\"", "\"00-0A-F7-41-80-01\"", "\"00-0A-F7-41-80-02\"",
                                           "\"00-0A-F7-41-80-03\""});
    // The re-authentication the switch now does gets the new answers.
    CHECK(radclient_mab(tmp.path, port, "00-0A-F7-41-80-01") == "Access-Accept\n"
                                                                 "Tunnel-Type:0 = VLAN\n"
                                                                 "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                                 "Tunnel-Private-Group-Id:0 = \"200\"\n"
                                                                 "Filter-Id = \"wg-infusion-pump.in\"\n");
    CHECK(radclient_mab(tmp.path, port, "00:0b:00:00:00:11") == "Access-Accept\n"
                                                                 "Tunnel-Type:0 = VLAN\n"
                                                                 "Tunnel-Medium-Type:0 = IEEE-802\n"
                                                                 "Tunnel-Private-Group-Id:0 = \"999\"\n");

    // A wrong secret: the switch drops the requests unanswered, and they stay pending.
    auto wrong = tmp.write("wrong-secret", "not-the-secret\n");
    std::string pump2_moved = coa_device("pump-02", "10.120.0.22", "00:0a:f7:41:80:02", "patient-monitor", "radiology");
    TempSite third(coa_site_files(pump1_moved + pump2_moved + pump3 + kCoaLab));
    auto dropped = run_wardgate("nac " + third.dir().string() + " --target freeradius --out " + config.string() +
                                " --coa-to " + to + " --secret-file " + wrong + " --coa-timeout 0.2");
    CHECK(dropped.exit_code == 2);
    CHECK_THAT(dropped.err, Catch::Contains("wrong-secret is readable by every user"));
    CHECK_THAT(dropped.out, Catch::Contains("pump-02 (00:0a:f7:41:80:02) changed: VLAN 110, wg-patient-monitor.in -> VLAN "
                                            "120, wg-patient-monitor.in; reauthenticate: " + to +
                                            " no answer (3 tries, 200 ms each); kept pending"));
    // The switch checked the Message-Authenticator with its secret and dropped them.
    CHECK_THAT(server.log(), Catch::Contains("invalid Message-Authenticator!  (Shared secret is incorrect.)"));
    CHECK(coa_requests_in(server.log()).size() == 4);
    // With the right secret, both pending devices again; a VLAN change bounces the port.
    auto retried = run_wardgate("nac " + third.dir().string() + " --target freeradius --out " + config.string() + coa +
                                " --bounce-on-vlan-change");
    CHECK(retried.exit_code == 2);  // ct-01 is still refused
    CHECK_THAT(retried.out, Catch::Contains("pump-02 (00:0a:f7:41:80:02) retry: VLAN 120, wg-patient-monitor.in; "
                                            "bounce-host-port: " + to + " done"));
    CHECK_THAT(retried.out, Catch::Contains("ct-01 (00:0b:00:00:00:11) retry"));
    auto last = coa_requests_in(server.log());
    REQUIRE(last.size() == 6);
    CHECK(last[4]["Cisco-AVPair"] == "\"subscriber:command=bounce-host-port\"");
}
