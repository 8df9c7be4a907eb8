#include "internet_site.hpp"

#include "temp_site.hpp"
#include "test_paths.hpp"

namespace wardgate::testing {

std::map<std::string, std::string> gateway_site_with_internet() {
    std::map<std::string, std::string> files;
    for (const char* f : {"site.toml", "devices.toml", "policy.toml", "profiles/acme-vitals-1.toml"})
        files[f] = read_text(kGatewaySite + "/" + f);
    files["site.toml"] += R"(
[[endpoint]]
name = "internet"
kind = "internet"
addresses = ["0.0.0.0/0", "::/0"]
)";
    files["devices.toml"] += R"(
[[device]]
name = "pump-eos"
addresses = ["10.50.0.77", "fd00:50::77"]
role = "infusion-pump"
vendor = "Old"
model = "Pump"
segment = "servers"
fda_class = "II"
lifecycle = "end-of-support"

[[device]]
name = "pc-lab"
addresses = ["10.50.0.78"]
role = "workstation"
vendor = "PC"
model = "Desk"
segment = "servers"
lifecycle = "support"
)";
    auto& policy = files["policy.toml"];
    policy.replace(policy.find("internet = false"), 16, "internet = true");
    policy += R"(
[[approval]]
id = "CHG-WEB"
from = "device:monitor-icu-01"
to = "endpoint:internet"
protocol = "tcp"
ports = [443]
by = "Biomed"
reason = "Vendor cloud"
)";
    files["profiles/acme-vitals-1.toml"] += R"(
[[flow]]
direction = "device-initiated"
peer = "endpoint:internet"
protocol = "tcp"
ports = [8443]
purpose = "Telemetry upload"
)";
    return files;
}

}  // namespace wardgate::testing
