// DICOM as real software speaks it: DCMTK's echoscu and findscu in one namespace talk to
// storescp in another over a veth pair, on tcp/4006 (no port list calls that DICOM);
// dumpcap captures the exchange and the capture goes through the pcap reader.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "support/netns.hpp"
#include "support/temp_dir.hpp"
#include "wardgate/flows/pcap.hpp"

using namespace wardgate;
using namespace wardgate::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Stops a child started with spawn_in: the signal, then SIGKILL if it lingers; reaped either way.
void stop(pid_t pid, int sig) {
    kill(pid, sig);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
        if (waitpid(pid, &status, WNOHANG) == pid) return;
        std::this_thread::sleep_for(50ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

}  // namespace

TEST_CASE("dissect: DCMTK's associations on tcp/4006 are DICOM, with their AE titles and SOP classes", "[dissect][kernel]") {
    TempDir dir("dicom-live");
    Netns modality("ct"), archive("pacs");
    veth(modality, "wgct", archive, "wgpacs");
    add_address(modality, "wgct", "10.77.0.11/24");
    add_address(archive, "wgpacs", "10.77.0.10/24");
    fs::create_directories(dir.path / "received");
    const auto capture = dir.path / "dicom.pcapng";
    pid_t server = spawn_in(archive, {"/usr/bin/storescp", "-aet", "PACS", "-od", (dir.path / "received").string(), "4006"},
                            (dir.path / "storescp.log").string());
    pid_t dumper = spawn_in(archive, {"/usr/bin/dumpcap", "-q", "-i", "wgpacs", "-f", "tcp port 4006", "-w", capture.string()},
                            (dir.path / "dumpcap.log").string());
    // dumpcap writes the section header once it captures; storescp listens within moments.
    for (int i = 0; i < 100 && (!fs::exists(capture) || fs::file_size(capture) == 0); ++i) std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(300ms);
    std::string out;
    const int echo = modality.exec_status("echoscu -aet CT01 -aec PACS 10.77.0.10 4006", &out);
    // storescp offers no worklist: the association is answered, its worklist context rejected.
    modality.exec_status("findscu -W -aet CT01 -aec PACS -k PatientName='*' 10.77.0.10 4006", &out);
    std::this_thread::sleep_for(500ms);
    stop(dumper, SIGINT);
    stop(server, SIGTERM);
    REQUIRE(echo == 0);

    std::vector<PcapFlow> flows;
    read_pcap(capture, [&](const PcapFlow& f) { flows.push_back(f); });
    REQUIRE(flows.size() == 2);
    std::vector<std::string> details;
    for (const auto& f : flows) {
        CHECK(f.record.responder_port == 4006);
        CHECK(f.record.established);
        CHECK(f.application == Application::dicom);
        CHECK(f.record.applications == application_bit(Application::dicom));
        details.push_back(f.application_detail);
    }
    CHECK(details[0] == "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\": Verification");
    CHECK(details[1] == "A-ASSOCIATE-RQ calling \"CT01\" called \"PACS\": Modality Worklist - FIND");
}
