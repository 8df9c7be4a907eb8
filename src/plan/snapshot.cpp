#include "wardgate/plan/snapshot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <sstream>
#include <system_error>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/core/text.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/render/nft.hpp"

namespace wardgate {

static std::string services_text(const std::vector<Service>& services) {
    if (services.empty()) return "all traffic";
    std::string out;
    for (const auto& s : services) out += (out.empty() ? "" : " ") + s.to_string();
    return out;
}

PolicySnapshot snapshot_of(const Policy& policy) {
    PolicySnapshot s = readable_snapshot(policy);
    s.ruleset = render_nft(policy);
    return s;
}

PolicySnapshot readable_snapshot(const Policy& policy) {
    PolicySnapshot s;
    s.site = policy.site;
    for (const auto& r : policy.rules) {
        const auto& src = policy.groups[r.src];
        const auto& dst = policy.groups[r.dst];
        ReadableRule rr{rule_id(policy, r), r.action == Rule::Action::allow ? "allow" : "deny", src.label, dst.label,
                        src.members, dst.members, services_text(r.services), {}, r.services, r.why,
                        std::string(to_string(src.kind)), std::string(to_string(dst.kind)), r.trial()};
        for (const auto& w : r.why) {
            std::string line = std::string(to_string(w.kind)) + ": " + w.source_and_document();
            if (!w.detail.empty()) line += " - " + w.detail;
            if (w.expires) line += " (expires " + to_string(*w.expires) + ")";
            if (!w.ticket.empty()) line += " (ticket " + w.ticket + ")";
            if (!w.owner.empty()) line += " (owner " + w.owner + ")";
            if (!w.origin.empty()) line += " [" + w.origin + "]";
            if (r.services.size() > 1 || r.why.size() > 1) line += " {" + w.service.to_string() + "}";
            rr.why.push_back(line);
        }
        s.rules.push_back(std::move(rr));
    }
    for (const auto& h : policy.pinholes) {
        s.pinholes.push_back({h.src_name, h.dst_name, h.src.to_string(), h.dst.to_string(),
                              flow_service_text(h.protocol, h.port, h.src.family),
                              h.why.source + " - " + h.why.detail});
    }
    auto mode = [](bool monitor) { return std::string(monitor ? "monitor" : "enforce"); };
    s.modes["site"] = mode(policy.mode == EnforcementMode::monitor);
    for (const auto& seg : policy.segments) s.modes["segment " + seg.name] = mode(policy.monitor(seg));
    for (const auto& d : policy.monitored)
        if (!d.cause.by_segment()) s.modes["device " + d.device] = mode(true);
    s.ir = policy;
    return s;
}

void to_json(nlohmann::json& j, const PolicySnapshot& s) {
    j = nlohmann::json{{"format", 1}, {"site", s.site}, {"saved_at", s.saved_at}, {"ruleset", s.ruleset},
                       {"modes", s.modes}};
    if (s.ir) j["ir"] = policy_document(*s.ir);
    auto& rules = j["rules"] = nlohmann::json::array();
    for (const auto& r : s.rules) {
        rules.push_back({{"id", r.id}, {"action", r.action}, {"src", r.src}, {"dst", r.dst}, {"src_members", r.src_members},
                         {"dst_members", r.dst_members}, {"services", r.services}, {"why", r.why}});
        if (r.trial) rules.back()["trial"] = true;
    }
    auto& pins = j["pinholes"] = nlohmann::json::array();
    for (const auto& p : s.pinholes)
        pins.push_back({{"src", p.src}, {"dst", p.dst}, {"src_ip", p.src_ip}, {"dst_ip", p.dst_ip},
                        {"service", p.service}, {"why", p.why}});
}

void from_json(const nlohmann::json& j, PolicySnapshot& s) {
    j.at("site").get_to(s.site);
    s.saved_at = j.value("saved_at", "");
    s.ruleset = j.value("ruleset", "");
    if (j.contains("modes")) j.at("modes").get_to(s.modes);
    if (j.contains("ir")) s.ir = policy_from_document(j.at("ir"));
    for (const auto& r : j.at("rules"))
        s.rules.push_back({r.value("id", ""), r.at("action"), r.at("src"), r.at("dst"), r.at("src_members"),
                           r.at("dst_members"), r.at("services"), r.at("why"), {}, {}, "", "", r.value("trial", false)});
    for (const auto& p : j.at("pinholes"))
        s.pinholes.push_back({p.at("src"), p.at("dst"), p.at("src_ip"), p.at("dst_ip"), p.at("service"), p.at("why")});
}

std::filesystem::path default_state_path(const std::filesystem::path& site_dir, const std::string& gateway) {
    return site_dir / ".wardgate" / (gateway.empty() ? "state.json" : "state-" + gateway + ".json");
}

static constexpr const char* kDamagedStateAdvice =
    ": move it aside to compare with nothing (every rule then shows as new), or restore it from a backup";

std::optional<PolicySnapshot> load_state(const std::filesystem::path& path) {
    auto text = read_input_file_if_present(path);
    if (!text) return std::nullopt;
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::parse_error& e) {
        size_t at = std::min<size_t>(e.byte ? e.byte - 1 : 0, text->size());
        auto line = 1 + std::count(text->begin(), text->begin() + static_cast<long>(at), '\n');
        throw InputError(Diagnostic{path.string(), static_cast<int>(line), 0, "",
                                    "damaged state file, not valid JSON: " + json_error_text(e.what()) + kDamagedStateAdvice});
    } catch (const nlohmann::json::exception& e) {
        throw InputError(Diagnostic{path.string(), 0, 0, "",
                                    "damaged state file, not valid JSON: " + json_error_text(e.what()) + kDamagedStateAdvice});
    }
    try {
        return doc.get<PolicySnapshot>();
    } catch (const nlohmann::json::exception& e) {
        throw InputError(Diagnostic{path.string(), 0, 0, "",
                                    "not a wardgate state file: " + json_error_text(e.what()) + kDamagedStateAdvice});
    } catch (const std::invalid_argument& e) {
        throw InputError(Diagnostic{path.string(), 0, 0, "ir",
                                    std::string("not a wardgate state file: ") + e.what() + kDamagedStateAdvice});
    }
}

static void fsync_or_throw(int fd, const std::filesystem::path& what) {
    if (::fsync(fd) != 0) throw std::system_error(errno, std::generic_category(), "fsync " + what.string());
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::filesystem::create_directories(dir);
    auto tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + tmp.string());
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::system_error(err, std::generic_category(), "write " + tmp.string());
        }
        done += static_cast<size_t>(n);
    }
    fsync_or_throw(fd, tmp);
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw std::system_error(err, std::generic_category(), "rename to " + path.string());
    }
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void save_state(const std::filesystem::path& path, const PolicySnapshot& snapshot) {
    nlohmann::json j = snapshot;
    write_file_atomically(path, j.dump(1) + "\n");
}

}  // namespace wardgate
