#include "temp_site.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wardgate::testing {

std::map<std::string, std::string> small_site_files() {
    return {
        {"site.toml", R"([site]
name = "Small Clinic"
devices = ["devices.toml"]
flows = ["flows/conn.log"]
log_group = 5

[[segment]]
name = "icu"
kind = "devices"
vlan = 110
ipv4 = ["10.110.0.0/24"]
ipv6 = ["fd00:110::/64"]
gateway4 = "10.110.0.1"

[[segment]]
name = "radiology"
kind = "devices"
vlan = 120
ipv4 = ["10.120.0.0/24"]

[[segment]]
name = "servers"
kind = "servers"
vlan = 150
ipv4 = ["10.50.0.0/24"]
ipv6 = ["fd00:50::/64"]

[[segment]]
name = "workstations"
kind = "workstations"
vlan = 200
ipv4 = ["10.200.0.0/24"]

[[endpoint]]
name = "pacs"
kind = "pacs"
addresses = ["10.50.0.10"]

[[endpoint]]
name = "drug-library"
kind = "drug-library"
addresses = ["10.50.0.20", "fd00:50::20"]

[[endpoint]]
name = "ntp"
kind = "ntp"
addresses = ["10.50.0.5"]

[[endpoint]]
name = "vendor-support"
kind = "vendor-support"
addresses = ["198.51.100.0/24"]

[[endpoint]]
name = "internet"
kind = "internet"
addresses = ["0.0.0.0/0", "::/0"]
)"},
        {"devices.toml", R"([[device]]
name = "pump-01"
addresses = ["10.110.0.21", "fd00:110::21"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
fda_class = "II"
lifecycle = "end-of-support"
eos = 2024-06-30

[[device]]
name = "pump-02"
addresses = ["10.110.0.22"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
fda_class = "II"
lifecycle = "end-of-support"

[[device]]
name = "pump-03"
addresses = ["10.110.0.23"]
role = "infusion-pump"
vendor = "Acme"
model = "Pump 1"
segment = "icu"
fda_class = "II"
lifecycle = "support"

[[device]]
name = "ct-01"
addresses = ["10.120.0.11"]
role = "ct-scanner"
vendor = "Imaging Co"
model = "CT 9"
segment = "radiology"
fda_class = "II"
lifecycle = "limited-support"

[[device]]
name = "ws-01"
addresses = ["10.200.0.31"]
role = "workstation"
vendor = "PC Co"
model = "Desk"
segment = "workstations"
lifecycle = "support"
)"},
        {"profiles/acme-pump-1.toml", R"(vendor = "Acme"
model = "Pump 1"
source = "Acme Pump 1 port table"

[[flow]]
direction = "device-initiated"
peer = "endpoint:drug-library"
protocol = "tcp"
ports = [443]
purpose = "Drug library"

[[flow]]
direction = "device-initiated"
peer = "role:ntp"
protocol = "udp"
ports = [123]
purpose = "Time"

[[flow]]
direction = "peer-initiated"
peer = "endpoint:vendor-support"
protocol = "tcp"
ports = [22]
purpose = "Remote support"
required = false

[[flow]]
direction = "device-initiated"
peer = "endpoint:internet"
protocol = "tcp"
ports = [443]
purpose = "Cloud telemetry"
required = false
)"},
        {"profiles/imaging-ct-9.toml", R"(vendor = "Imaging Co"
model = "CT 9"

[[flow]]
direction = "device-initiated"
peer = "role:pacs"
protocol = "tcp"
ports = [104, "11112-11113"]
purpose = "DICOM store"
)"},
        {"policy.toml", R"([stance.support]
baseline = true
approvals = true
internet = true

[stance.limited-support]
baseline = false
approvals = true
internet = false

[stance.end-of-support]
baseline = false
approvals = false
internet = false

[[approval]]
id = "CHG-1"
from = "device:ws-01"
to = "role:infusion-pump"
protocol = "tcp"
ports = [8080]
by = "Biomed"
reason = "Log download"
expires = 2027-01-31

[[approval]]
id = "CHG-OLD"
from = "device:ws-01"
to = "role:ct-scanner"
protocol = "tcp"
ports = [445]
by = "Radiology IT"
reason = "Old share"
expires = 2026-06-30

[[deny]]
id = "no-telnet"
from = "any"
to = "role:infusion-pump"
protocol = "tcp"
ports = [23]
reason = "Never telnet to pumps"
)"},
        {"flows/conn.log", "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n"
                           "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n"
                           "1763683200.000000\tC1\t10.110.0.21\t40001\t10.50.0.20\t443\ttcp\tssl\t1.5\t100\t2000\tSF\n"
                           "1763683300.000000\tC2\t10.110.0.21\t40002\t10.50.0.20\t443\ttcp\tssl\t1.5\t100\t2000\tSF\n"
                           "1763683400.000000\tC3\t10.110.0.23\t40003\t10.50.0.99\t8080\ttcp\t-\t2.0\t300\t400\tSF\n"
                           "1763683500.000000\tC4\t10.200.0.31\t40004\t10.110.0.21\t23\ttcp\t-\t3.0\t10\t20\tSF\n"
                           "1763683600.000000\tC5\t10.110.0.22\t40005\t192.0.2.44\t443\ttcp\tssl\t4.0\t500\t600\tSF\n"
                           "1763683700.000000\tC6\t10.200.0.31\t40006\t10.120.0.11\t445\ttcp\t-\t1.0\t50\t60\tSF\n"
                           "1763683800.000000\tC7\t10.120.0.11\t40007\t10.50.0.10\t104\ttcp\tdicom\t9.0\t90000\t100\tSF\n"
                           "1763683900.000000\tC8\t10.200.0.31\t40008\t10.110.0.23\t8080\ttcp\t-\t1.0\t10\t10\tS0\n"},
    };
}

static std::filesystem::path fresh_dir() {
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("wardgate-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

TempSite::TempSite(const std::map<std::string, std::string>& files, bool with_defaults) : dir_(fresh_dir()) {
    auto all = with_defaults ? small_site_files() : std::map<std::string, std::string>{};
    for (const auto& [name, content] : files) all[name] = content;
    for (const auto& [name, content] : all) write(name, content);
}

TempSite::~TempSite() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void TempSite::write(const std::string& relative, const std::string& content) const {
    auto path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::map<std::string, std::string> TempSite::snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_))
        if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir_).string()] = read_text(e.path());
    return out;
}

CommandResult run_wardgate(const std::string& args) {
    auto base = fresh_dir();
    auto out = base / "out", err = base / "err";
    std::string cmd = std::string(WARDGATE_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
    int status = std::system(cmd.c_str());
    CommandResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out), read_text(err)};
    std::filesystem::remove_all(base);
    return r;
}

}  // namespace wardgate::testing
