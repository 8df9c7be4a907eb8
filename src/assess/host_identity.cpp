#include "host_identity.hpp"

#include <algorithm>

namespace wardgate {

bool HostIdentity::empty() const {
    return mac.empty() && hostname.empty() && vendor_class.empty() && mud_url.empty() && dhcp_parameters.empty() &&
           ae_titles.empty() && hl7_applications.empty();
}

}  // namespace wardgate

namespace wardgate::assess_internal {

namespace {

// The text after `key` up to the next space: "client=00:1b:21:aa:bb:cc".
std::string word_after(std::string_view detail, std::string_view key) {
    for (size_t at = detail.find(key); at != std::string_view::npos; at = detail.find(key, at + 1)) {
        if (at != 0 && detail[at - 1] != ' ') continue;
        auto rest = detail.substr(at + key.size());
        return std::string(rest.substr(0, rest.find(' ')));
    }
    return {};
}

// The quoted text after `key`: hostname="pump-07", calling "CT01". The dissectors never put a
// quote inside a value, so the next quote ends it.
std::string quoted_after(std::string_view detail, std::string_view key) {
    for (size_t at = detail.find(key); at != std::string_view::npos; at = detail.find(key, at + 1)) {
        if (at != 0 && detail[at - 1] != ' ') continue;
        auto rest = detail.substr(at + key.size());
        if (rest.empty() || rest[0] != '"') continue;
        auto end = rest.find('"', 1);
        if (end == std::string_view::npos) return {};
        return std::string(rest.substr(1, end - 1));
    }
    return {};
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
    if (item.empty() || std::find(list.begin(), list.end(), item) != list.end()) return;
    list.insert(std::upper_bound(list.begin(), list.end(), item), item);
}

IdentityClue dhcp_clue(const ApplicationSighting& s) {
    IdentityClue c;
    c.first_seen = s.first_seen;
    const std::string_view d = s.detail;
    c.identity.mac = word_after(d, "client=");
    // A server's reply names the client's address; the rest of what it carries (a vendor
    // class, a host name) may be the server's or its relay's, not the client's.
    const bool from_client = !d.starts_with("DHCPOFFER") && !d.starts_with("DHCPACK") && !d.starts_with("DHCPNAK") &&
                             !d.starts_with("BOOTREPLY") && !d.starts_with("DHCPv6 ADVERTISE") &&
                             !d.starts_with("DHCPv6 REPLY") && !d.starts_with("DHCPv6 RECONFIGURE");
    if (from_client) {
        c.identity.hostname = quoted_after(d, "hostname=");
        c.identity.vendor_class = quoted_after(d, "vendor-class=");
        c.identity.mud_url = quoted_after(d, "mud-url=");
        c.identity.dhcp_parameters = word_after(d, "parameters=");
    }
    for (const char* key : {"address=", "requested="}) {
        if (auto a = IpAddress::parse(word_after(d, key)); a && !is_unrouted(*a)) {
            c.address = a;
            c.asked = key == std::string_view("requested=");
            c.granted = d.starts_with("DHCPACK");
            return c;
        }
    }
    // A client that already has its address sends from it (renewing, informing).
    if (d.starts_with("DHCPREQUEST") || d.starts_with("DHCPINFORM") || d.starts_with("BOOTREQUEST") ||
        d.starts_with("DHCPRELEASE") || d.starts_with("DHCPDECLINE")) {
        if (!is_unrouted(s.key.initiator)) c.address = s.key.initiator;
    }
    return c;
}

}  // namespace

std::vector<IdentityClue> identity_clues(const ApplicationSighting& s) {
    std::vector<IdentityClue> out;
    switch (s.application) {
        case Application::dhcp: {
            auto c = dhcp_clue(s);
            if (!c.identity.empty()) out.push_back(std::move(c));
            break;
        }
        case Application::dicom:
            for (auto [key, address] : {std::pair{"calling ", s.key.initiator}, std::pair{"called ", s.key.responder}}) {
                IdentityClue c{address, {}, s.first_seen};
                if (address == s.key.responder) c.needs_answer = s.key;
                add_unique(c.identity.ae_titles, quoted_after(s.detail, key));
                if (!c.identity.empty()) out.push_back(std::move(c));
            }
            break;
        case Application::hl7:
            if (s.detail.starts_with("MSH ")) {
                std::string_view rest = std::string_view(s.detail).substr(4);
                IdentityClue c{s.key.initiator, {}, s.first_seen};
                add_unique(c.identity.hl7_applications, std::string(rest.substr(0, rest.find(' '))));
                if (!c.identity.empty()) out.push_back(std::move(c));
            }
            break;
        default: break;
    }
    return out;
}

void merge_identity(HostIdentity& into, const HostIdentity& from) {
    for (auto [field, value] : {std::pair{&into.mac, &from.mac}, std::pair{&into.mac_vendor, &from.mac_vendor},
                                std::pair{&into.hostname, &from.hostname},
                                std::pair{&into.vendor_class, &from.vendor_class},
                                std::pair{&into.mud_url, &from.mud_url},
                                std::pair{&into.dhcp_parameters, &from.dhcp_parameters}})
        if (field->empty()) *field = *value;
    for (const auto& t : from.ae_titles) add_unique(into.ae_titles, t);
    for (const auto& a : from.hl7_applications) add_unique(into.hl7_applications, a);
}

}  // namespace wardgate::assess_internal
