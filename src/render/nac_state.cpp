#include "wardgate/render/nac_state.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/core/text.hpp"

namespace wardgate {

namespace {

constexpr const char* kNacStateFormat = "wardgate-nac-state/1";
constexpr const char* kNacStateAdvice = ": delete it to start again (the next run then sends no change of authorisation)";

std::string nac_answer_text(const NacAssignment* a) {
    if (!a) return "unknown device";
    return "VLAN " + std::to_string(a->vlan) + (a->filter_id.empty() ? "" : ", " + a->filter_id);
}

}  // namespace

std::filesystem::path nac_state_path(const std::filesystem::path& out_dir) { return out_dir / ".wardgate-nac.json"; }

std::optional<NacState> read_nac_state(const std::filesystem::path& path) {
    auto text = read_input_file_if_present(path);
    if (!text) return std::nullopt;
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(Diagnostic{path.string(), 0, 0, "", "damaged NAC state, not valid JSON: " +
                                                                   json_error_text(e.what()) + kNacStateAdvice});
    }
    auto bad = [&](const std::string& field, const std::string& what) {
        return InputError(Diagnostic{path.string(), 0, 0, field, "damaged NAC state: " + what + kNacStateAdvice});
    };
    if (!doc.is_object() || doc.value("format", nlohmann::json()) != kNacStateFormat)
        throw bad("format", std::string("expected \"") + kNacStateFormat + "\"");
    NacState s;
    if (!doc.contains("target") || !doc["target"].is_string()) throw bad("target", "expected a string");
    s.target = doc["target"].get<std::string>();
    if (!doc.contains("devices") || !doc["devices"].is_array()) throw bad("devices", "expected a list");
    for (size_t i = 0; i < doc["devices"].size(); ++i) {
        const auto& d = doc["devices"][i];
        const std::string at = "devices[" + std::to_string(i) + "]";
        NacAssignment a;
        for (const char* key : {"mac", "device", "filter_id"})
            if (!d.is_object() || !d.contains(key) || !d[key].is_string()) throw bad(at + "." + key, "expected a string");
        if (!d.contains("vlan") || !d["vlan"].is_number_unsigned() || d["vlan"].get<uint64_t>() < 1 ||
            d["vlan"].get<uint64_t>() > 4094)
            throw bad(at + ".vlan", "expected a VLAN 1-4094");
        a.mac = d["mac"].get<std::string>();
        a.device = d["device"].get<std::string>();
        a.filter_id = d["filter_id"].get<std::string>();
        a.vlan = static_cast<uint16_t>(d["vlan"].get<uint64_t>());
        s.devices.push_back(std::move(a));
    }
    if (doc.contains("coa_pending")) {
        if (!doc["coa_pending"].is_array()) throw bad("coa_pending", "expected a list");
        for (size_t i = 0; i < doc["coa_pending"].size(); ++i) {
            const auto& p = doc["coa_pending"][i];
            const std::string at = "coa_pending[" + std::to_string(i) + "]";
            for (const char* key : {"mac", "device"})
                if (!p.is_object() || !p.contains(key) || !p[key].is_string()) throw bad(at + "." + key, "expected a string");
            if (!p.contains("vlan_changed") || !p["vlan_changed"].is_boolean())
                throw bad(at + ".vlan_changed", "expected true or false");
            s.coa_pending.push_back({p["mac"].get<std::string>(), p["device"].get<std::string>(), p["vlan_changed"].get<bool>()});
        }
    }
    std::sort(s.coa_pending.begin(), s.coa_pending.end(), [](const auto& a, const auto& b) { return a.mac < b.mac; });
    return s;
}

std::string nac_state_text(const NacState& state) {
    nlohmann::ordered_json doc;
    doc["format"] = kNacStateFormat;
    doc["target"] = state.target;
    doc["devices"] = nlohmann::ordered_json::array();
    auto devices = state.devices;
    std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.mac < b.mac; });
    for (const auto& a : devices)
        doc["devices"].push_back({{"mac", a.mac}, {"device", a.device}, {"vlan", a.vlan}, {"filter_id", a.filter_id}});
    auto pending = state.coa_pending;
    std::sort(pending.begin(), pending.end(), [](const auto& a, const auto& b) { return a.mac < b.mac; });
    doc["coa_pending"] = nlohmann::ordered_json::array();
    for (const auto& p : pending)
        doc["coa_pending"].push_back({{"mac", p.mac}, {"device", p.device}, {"vlan_changed", p.vlan_changed}});
    return doc.dump(2) + "\n";
}

std::string_view to_string(NacChange::Kind k) {
    switch (k) {
        case NacChange::Kind::changed: return "changed";
        case NacChange::Kind::added: return "added";
        case NacChange::Kind::removed: return "removed";
        case NacChange::Kind::retry: return "retry";
    }
    return "?";
}

std::vector<NacChange> nac_changes(const NacState& before, const std::vector<NacAssignment>& now) {
    std::map<std::string, const NacAssignment*> old_by_mac, new_by_mac;
    std::map<std::string, const NacPending*> pending;
    for (const auto& a : before.devices) old_by_mac[a.mac] = &a;
    for (const auto& a : now) new_by_mac[a.mac] = &a;
    for (const auto& p : before.coa_pending) pending[p.mac] = &p;
    std::vector<NacChange> out;
    auto add = [&](NacChange::Kind kind, const std::string& mac, const NacAssignment* was, const NacAssignment* is) {
        out.push_back({kind, mac, (is ? is : was)->device, nac_answer_text(was), nac_answer_text(is),
                       !was || !is || was->vlan != is->vlan});
    };
    for (const auto& [mac, is] : new_by_mac) {
        auto old = old_by_mac.find(mac);
        if (old == old_by_mac.end()) {
            add(NacChange::Kind::added, mac, nullptr, is);
        } else if (old->second->vlan != is->vlan || old->second->filter_id != is->filter_id) {
            add(NacChange::Kind::changed, mac, old->second, is);
        } else if (auto p = pending.find(mac); p != pending.end()) {
            add(NacChange::Kind::retry, mac, old->second, is);
            out.back().vlan_changed = p->second->vlan_changed;
        }
    }
    for (const auto& [mac, was] : old_by_mac)
        if (!new_by_mac.count(mac)) add(NacChange::Kind::removed, mac, was, nullptr);
    // Removed earlier, and no switch confirmed it then.
    for (const auto& p : before.coa_pending)
        if (!new_by_mac.count(p.mac) && !old_by_mac.count(p.mac))
            out.push_back({NacChange::Kind::retry, p.mac, p.device, "unknown device", "unknown device", p.vlan_changed});
    std::sort(out.begin(), out.end(), [](const NacChange& a, const NacChange& b) {
        return std::tie(a.device, a.mac) < std::tie(b.device, b.mac);
    });
    return out;
}

}  // namespace wardgate
