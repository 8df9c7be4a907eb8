#pragma once
// What the NAC files last written to a directory say for each MAC, kept beside them, so that
// the next run knows which devices' answers changed and asks their switches to authenticate
// them again (change of authorisation).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wardgate {

// One managed device's answer: its VLAN and its role's access list.
struct NacAssignment {
    std::string mac;  // "00:1a:2b:3c:4d:5e", as the site spells it
    std::string device;
    uint16_t vlan = 0;
    std::string filter_id;

    bool operator==(const NacAssignment&) const = default;
};

// A change no switch has confirmed yet: sent again by the next run.
struct NacPending {
    std::string mac;
    std::string device;
    bool vlan_changed = false;

    bool operator==(const NacPending&) const = default;
};

struct NacState {
    std::string target;
    std::vector<NacAssignment> devices;   // by MAC
    std::vector<NacPending> coa_pending;  // by MAC
};

// DIR/.wardgate-nac.json
std::filesystem::path nac_state_path(const std::filesystem::path& out_dir);
// Nothing when the file does not exist; InputError naming the file and field when it is damaged.
std::optional<NacState> read_nac_state(const std::filesystem::path& path);
std::string nac_state_text(const NacState& state);

struct NacChange {
    enum class Kind { changed, added, removed, retry };
    Kind kind = Kind::changed;
    std::string mac;
    std::string device;
    std::string before;  // "VLAN 110, wg-infusion-pump", "unknown device"
    std::string after;
    bool vlan_changed = false;  // the device needs a new address: its port is best bounced
};
std::string_view to_string(NacChange::Kind k);

// Devices whose answer differs between the two (a MAC that only one lists was or becomes an
// unknown device), and the pending ones whose answer did not change; by device, then MAC.
std::vector<NacChange> nac_changes(const NacState& before, const std::vector<NacAssignment>& now);

}  // namespace wardgate
