#include "wardgate/resolve/cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/core/text.hpp"

namespace wardgate {

std::filesystem::path default_dns_cache(const std::filesystem::path& site_dir) {
    return site_dir / ".wardgate" / "dns.json";
}

DnsAnswers read_dns_cache(const std::filesystem::path& file) {
    auto text = read_input_file_if_present(file);
    if (!text) return {};
    const std::string name = file.string();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::parse_error& e) {
        throw InputError(Diagnostic{name, 0, 0, "",
                                    "not JSON at byte " + std::to_string(e.byte) + ": " + json_error_text(e.what())});
    } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double
        throw InputError(Diagnostic{name, 0, 0, "", "not usable JSON: " + json_error_text(e.what())});
    }
    Diagnostics diags;
    DnsAnswers out;
    if (!doc.is_object() || !doc.contains("names") || !doc["names"].is_object()) {
        diags.add(name, 0, 0, "names", "expected {\"names\": {NAME: {addresses, ttl, resolved}}}");
        diags.throw_if_any();
    }
    for (const auto& [key, entry] : doc["names"].items()) {
        std::string field = "names." + key;
        if (!entry.is_object()) {
            diags.add(name, 0, 0, field, "expected an object with addresses, ttl and resolved");
            continue;
        }
        DnsAnswer a;
        auto addresses = entry.find("addresses");
        if (addresses == entry.end() || !addresses->is_array()) {
            diags.add(name, 0, 0, field + ".addresses", "expected an array of addresses");
            continue;
        }
        bool bad = false;
        for (const auto& text : *addresses) {
            auto ip = text.is_string() ? IpAddress::parse(text.get<std::string>()) : std::nullopt;
            if (!ip) {
                diags.add(name, 0, 0, field + ".addresses", "not an IP address: " + text.dump());
                bad = true;
                continue;
            }
            a.addresses.push_back(*ip);
        }
        auto ttl = entry.find("ttl");
        if (ttl == entry.end() || !ttl->is_number_unsigned() || ttl->get<uint64_t>() > UINT32_MAX) {
            diags.add(name, 0, 0, field + ".ttl", "expected seconds (a non-negative integer)");
            bad = true;
        } else {
            a.ttl = ttl->get<uint32_t>();
        }
        auto resolved = entry.find("resolved");
        auto when = resolved != entry.end() && resolved->is_string() ? parse_resolution_time(resolved->get<std::string>())
                                                                      : std::nullopt;
        if (!when) {
            diags.add(name, 0, 0, field + ".resolved", "expected a UTC time like 2026-11-22T10:15:07Z");
            bad = true;
        } else {
            a.resolved = *when;
        }
        if (bad) continue;
        std::sort(a.addresses.begin(), a.addresses.end());
        a.addresses.erase(std::unique(a.addresses.begin(), a.addresses.end()), a.addresses.end());
        out[normalize_dns_name(key)] = std::move(a);
    }
    diags.throw_if_any();
    return out;
}

void write_dns_cache(const std::filesystem::path& file, const DnsAnswers& answers) {
    nlohmann::json names = nlohmann::json::object();
    for (const auto& [name, a] : answers) {
        nlohmann::json addresses = nlohmann::json::array();
        for (const auto& ip : a.addresses) addresses.push_back(ip.to_string());
        names[name] = {{"addresses", addresses}, {"ttl", a.ttl}, {"resolved", resolution_time(a.resolved)}};
    }
    std::string text = nlohmann::json{{"names", names}}.dump(2) + "\n";
    std::filesystem::create_directories(file.parent_path());
    auto tmp = file;
    tmp += ".tmp." + std::to_string(getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + tmp.string());
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::system_error(err, std::generic_category(), "cannot write " + tmp.string());
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0 || std::rename(tmp.c_str(), file.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw std::system_error(err, std::generic_category(), "cannot replace " + file.string());
    }
}

}  // namespace wardgate
