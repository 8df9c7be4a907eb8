#include "random_site.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

namespace wardgate::testing {

namespace {

using Rng = std::mt19937;

uint32_t uniform(Rng& rng, uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); }
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
template <typename T>
const T& one_of(Rng& rng, const std::vector<T>& v) {
    return v[uniform(rng, 0, static_cast<uint32_t>(v.size() - 1))];
}

IpAddress v6_address(uint64_t high, uint64_t low) {
    IpAddress a;
    a.family = Family::v6;
    for (int i = 0; i < 8; ++i) {
        a.bytes[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
        a.bytes[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
    }
    return a;
}

uint64_t high_of(const IpAddress& a) {
    uint64_t h = 0;
    for (int i = 0; i < 8; ++i) h = h << 8 | a.bytes[i];
    return h;
}

uint64_t random64(Rng& rng) { return (uint64_t(rng()) << 32) | rng(); }

// A host of the prefix, never its network or (IPv4) broadcast address. IPv6 prefixes are /64 or
// wider here: the host part is drawn from the low 64 bits, the rest from the bits the prefix leaves.
IpAddress random_host(Rng& rng, const Prefix& p) {
    if (p.family() == Family::v4) {
        uint32_t size = p.length == 0 ? 0 : uint32_t(1) << (32 - p.length);
        uint32_t base = p.address.v4_value();
        if (p.length >= 31) return p.address;
        uint32_t offset = size == 0 ? uniform(rng, 1, 0xfffffffe) : uniform(rng, 1, size - 2);
        return IpAddress::v4(base + offset);
    }
    uint64_t high = high_of(p.address);
    if (p.length < 64) high |= random64(rng) & (~uint64_t(0) >> p.length);
    uint64_t low = random64(rng);
    if (low == 0) low = 1;
    if (p.length > 64) return p.address;  // not drawn from by the generator
    return v6_address(high, low);
}

// 0/8, 10/8 (the sites), loopback, 169/8 (link-local among it), multicast and above, and 100.64/10 (the test links).
bool is_special4(uint32_t a) {
    uint32_t first = a >> 24;
    return first == 0 || first == 10 || first == 127 || first == 169 || first >= 224 || (a >> 22) == (100u << 2 | 1);
}

// An address outside every site the generator writes (and outside the test gateway's links).
IpAddress outside_address(Rng& rng, Family f) {
    if (f == Family::v4) {
        for (;;) {
            uint32_t a = rng();
            if (!is_special4(a) && (a & 0xff) != 0 && (a & 0xff) != 255)
                return IpAddress::v4(a);
        }
    }
    for (;;) {
        uint64_t high = (uint64_t(uniform(rng, 0x2000, 0x3fff)) << 48) | (random64(rng) >> 16);
        if ((high >> 16) == 0x20010db8ffffULL) continue;
        return v6_address(high, random64(rng) | 1);
    }
}

Family family_of(const IpAddress& a) { return a.family; }
Family family_of(const Prefix& p) { return p.family(); }

template <typename T>
std::vector<T> of_family(const std::vector<T>& v, Family f) {
    std::vector<T> out;
    for (const auto& x : v)
        if (family_of(x) == f) out.push_back(x);
    return out;
}

const std::vector<std::string> kSegmentNames = {"icu", "radiology", "lab", "pharmacy", "servers", "biomed", "or", "ward-3"};
const std::vector<std::string> kSegmentKinds = {"devices", "servers", "workstations", "management", "external"};
const std::vector<std::string> kRoles = {"infusion-pump", "patient-monitor", "ct-scanner", "workstation",
                                         "lab-analyzer", "dispensing-cabinet"};
const std::vector<std::string> kServerKinds = {"pacs", "ehr", "interface-engine", "drug-library", "ntp", "dns", "server"};
const std::vector<std::string> kLifecycles = {"support", "limited-support", "end-of-support"};
const std::vector<uint16_t> kCommonPorts = {22, 23, 53, 69, 80, 104, 123, 161, 443, 445, 2575, 3389, 8080, 8443, 11112};

std::string quoted_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
    return out + "]";
}

struct SegmentDraft {
    std::string name;
    std::vector<Prefix> v4, v6;
};

struct EndpointDraft {
    std::string name;
    std::string kind;
    std::vector<Prefix> prefixes;
};

struct DeviceDraft {
    std::string name;
    size_t segment = 0;
    std::vector<IpAddress> addresses;
    std::string role;
};

class Generator {
public:
    explicit Generator(Rng& rng) : rng_(rng) {}

    RandomSite run() {
        segments();
        endpoints();
        devices();
        flows();
        out_.files["site.toml"] = site_toml_;
        out_.files["devices.toml"] = devices_toml_;
        profiles();
        policy();
        std::sort(out_.ports.begin(), out_.ports.end());
        out_.ports.erase(std::unique(out_.ports.begin(), out_.ports.end()), out_.ports.end());
        return std::move(out_);
    }

private:
    IpAddress fresh_host(const Prefix& p) {
        for (;;) {
            IpAddress a = random_host(rng_, p);
            if (used_.insert(a).second) return a;
        }
    }

    bool taken(const Prefix& p) const {
        return std::any_of(out_.segment_subnets.begin(), out_.segment_subnets.end(),
                           [&](const Prefix& q) { return q.contains(p) || p.contains(q); });
    }

    // A /24 or /25 in 10/8: anywhere, or often right next to one already taken, where the
    // kernel's interval sets and maps must keep neighbours apart.
    Prefix fresh_subnet4() {
        for (;;) {
            uint8_t length = chance(rng_, 0.5) ? 24 : 25;
            uint32_t size = uint32_t(1) << (32 - length);
            uint32_t base;
            std::vector<Prefix> v4 = of_family(out_.segment_subnets, Family::v4);
            if (!v4.empty() && chance(rng_, 0.5)) {
                const Prefix& near = one_of(rng_, v4);
                base = chance(rng_, 0.5) ? near.last().v4_value() + 1 : near.address.v4_value() - size;
            } else {
                base = (10u << 24) | (uniform(rng_, 0, 0xffff) << 8) | (chance(rng_, 0.5) ? 128 : 0);
            }
            base &= ~(size - 1);
            Prefix p{IpAddress::v4(base), length};
            if ((base >> 24) != 10 || taken(p)) continue;
            out_.segment_subnets.push_back(p);
            return p;
        }
    }

    Prefix fresh_subnet6() {
        for (;;) {
            uint64_t high = (0xfdULL << 56) | (random64(rng_) >> 8);
            std::vector<Prefix> v6 = of_family(out_.segment_subnets, Family::v6);
            if (!v6.empty() && chance(rng_, 0.5)) high = high_of(one_of(rng_, v6).address) + (chance(rng_, 0.5) ? 1 : -1);
            Prefix p{v6_address(high, 0), 64};
            if ((high >> 56) != 0xfd || taken(p)) continue;
            out_.segment_subnets.push_back(p);
            return p;
        }
    }

    void segments() {
        site_toml_ = "[site]\nname = \"Random site\"\ndevices = [\"devices.toml\"]\nflows = [\"flows/observed.csv\"]\nlog_group = 7\n";
        if (chance(rng_, 0.1)) site_toml_ += "mode = \"monitor\"\n";
        if (chance(rng_, 0.2)) site_toml_ += "log_drops = false\n";
        std::vector<std::string> names = kSegmentNames;
        std::shuffle(names.begin(), names.end(), rng_);
        size_t n = uniform(rng_, 2, 5);
        for (size_t i = 0; i < n; ++i) {
            SegmentDraft s{names[i], {}, {}};
            size_t v4_count = chance(rng_, 0.2) ? 2 : 1;
            while (s.v4.size() < v4_count) s.v4.push_back(fresh_subnet4());
            if (chance(rng_, 0.8)) s.v6.push_back(fresh_subnet6());
            std::vector<std::string> v4, v6;
            for (const auto& p : s.v4) v4.push_back(p.to_string());
            for (const auto& p : s.v6) v6.push_back(p.to_string());
            site_toml_ += fmt::format("\n[[segment]]\nname = \"{}\"\nkind = \"{}\"\nipv4 = {}\n", s.name,
                                      one_of(rng_, kSegmentKinds), quoted_list(v4));
            if (!v6.empty()) site_toml_ += fmt::format("ipv6 = {}\n", quoted_list(v6));
            if (chance(rng_, 0.1)) site_toml_ += "monitor = true\n";
            segments_.push_back(std::move(s));
        }
    }

    void endpoint(EndpointDraft e, const std::string& extra = "") {
        std::vector<std::string> addrs;
        for (const auto& p : e.prefixes) {
            addrs.push_back(p.to_string());
            if (p.is_host()) {
                out_.endpoint_hosts.push_back(p.address);
            } else if (p.length >= (p.family() == Family::v4 ? 16 : 32)) {
                out_.endpoint_networks.push_back(p);
            }
        }
        site_toml_ += fmt::format("\n[[endpoint]]\nname = \"{}\"\nkind = \"{}\"\naddresses = {}\n{}", e.name, e.kind,
                                  quoted_list(addrs), extra);
        roles_.insert(e.kind);
        endpoints_.push_back(std::move(e));
    }

    void endpoints() {
        for (size_t i = 0, n = uniform(rng_, 1, 3); i < n; ++i) {
            const auto& seg = one_of(rng_, segments_);
            EndpointDraft e{fmt::format("server{}", i), one_of(rng_, kServerKinds), {}};
            if (chance(rng_, 0.2)) {
                IpAddress a = random_host(rng_, one_of(rng_, seg.v4));
                e.prefixes.push_back({IpAddress::v4(a.v4_value() & ~7u), 29});  // a small server farm
            } else {
                e.prefixes.push_back(Prefix::host(fresh_host(one_of(rng_, seg.v4))));
            }
            if (!seg.v6.empty() && chance(rng_, 0.5)) e.prefixes.push_back(Prefix::host(fresh_host(seg.v6.front())));
            endpoint(std::move(e));
        }
        for (size_t i = 0, n = uniform(rng_, 1, 2); i < n; ++i) {
            EndpointDraft e{fmt::format("vendor{}", i), "vendor-support", {}};
            IpAddress a = outside_address(rng_, Family::v4);
            if (chance(rng_, 0.3)) {
                e.prefixes.push_back(Prefix::host(a));
            } else {
                e.prefixes.push_back({IpAddress::v4(a.v4_value() & 0xffffff00u), 24});
            }
            if (chance(rng_, 0.5)) {
                IpAddress b = outside_address(rng_, Family::v6);
                e.prefixes.push_back({v6_address(high_of(b) & ~0xffffULL, 0), 48});
            }
            endpoint(std::move(e), fmt::format("vendor = \"V{}\"\n", i));
        }
        // Endpoints known by DNS name: their addresses come from the site's resolution cache.
        std::string cache;
        for (size_t i = 0, n = uniform(rng_, 0, 2); i < n; ++i) {
            std::string name = fmt::format("update{}.vendor.example", i);
            std::vector<std::string> answers;
            for (size_t k = 0, m = uniform(rng_, 1, 3); k < m; ++k) {
                Family f = chance(rng_, 0.6) ? Family::v4 : Family::v6;
                IpAddress a = outside_address(rng_, f);
                // Split-horizon DNS: a name may resolve inside the site, even to a device.
                std::vector<Prefix> inside = of_family(out_.segment_subnets, f);
                if (!inside.empty() && chance(rng_, 0.2)) a = random_host(rng_, one_of(rng_, inside));
                answers.push_back(a.to_string());
                out_.endpoint_hosts.push_back(a);
            }
            cache += fmt::format("{}\"{}\": {{\"addresses\": [", cache.empty() ? "" : ", ", name);
            for (size_t k = 0; k < answers.size(); ++k) cache += fmt::format("{}\"{}\"", k ? ", " : "", answers[k]);
            cache += "], \"ttl\": 300, \"resolved\": \"2026-11-22T10:15:07Z\"}";
            site_toml_ += fmt::format("\n[[endpoint]]\nname = \"cloud{}\"\nkind = \"vendor-support\"\nvendor = \"C{}\"\n"
                                      "dns_names = [\"{}\"]\n", i, i, name);
            roles_.insert("vendor-support");
            endpoints_.push_back({fmt::format("cloud{}", i), "vendor-support", {}});
        }
        if (!cache.empty()) out_.files[".wardgate/dns.json"] = "{\"names\": {" + cache + "}}\n";
        if (chance(rng_, 0.9)) endpoint({"internet", "internet", {*Prefix::parse("0.0.0.0/0"), *Prefix::parse("::/0")}});
        // A wide network next to the site (an endpoint covering a segment is refused by the loader;
        // wide cidr: peers that cover segments come from random_network()).
        if (chance(rng_, 0.25)) endpoint({"campus", "server", {*Prefix::parse("172.16.0.0/12"), *Prefix::parse("fc00::/8")}});
    }

    void devices() {
        size_t model_count = uniform(rng_, 2, 4);
        for (size_t m = 0; m < model_count; ++m) models_.push_back({fmt::format("Model {}", m), one_of(rng_, kRoles)});
        for (size_t i = 0, n = uniform(rng_, 3, chance(rng_, 0.2) ? 40 : 12); i < n; ++i) {
            DeviceDraft d;
            d.name = fmt::format("dev-{:02}", i);
            d.segment = uniform(rng_, 0, static_cast<uint32_t>(segments_.size() - 1));
            const auto& seg = segments_[d.segment];
            size_t model = uniform(rng_, 0, static_cast<uint32_t>(model_count - 1));
            d.role = chance(rng_, 0.8) ? models_[model].second : one_of(rng_, kRoles);
            bool v6_only = !seg.v6.empty() && chance(rng_, 0.1);
            if (!v6_only) d.addresses.push_back(fresh_host(one_of(rng_, seg.v4)));
            if (!seg.v6.empty() && (v6_only || chance(rng_, 0.5))) d.addresses.push_back(fresh_host(seg.v6.front()));
            std::vector<std::string> addrs;
            for (const auto& a : d.addresses) addrs.push_back(a.to_string());
            devices_toml_ += fmt::format(
                "[[device]]\nname = \"{}\"\naddresses = {}\nrole = \"{}\"\nvendor = \"Acme\"\nmodel = \"{}\"\n"
                "segment = \"{}\"\nlifecycle = \"{}\"\n\n",
                d.name, quoted_list(addrs), d.role, models_[model].first, seg.name, one_of(rng_, kLifecycles));
            out_.device_addresses.insert(out_.device_addresses.end(), d.addresses.begin(), d.addresses.end());
            roles_.insert(d.role);
            devices_.push_back(std::move(d));
        }
    }

    // Observed flows between devices and named endpoints; the baseline of a supported device
    // keeps those with evidence enough (pinholes), the rest are refused.
    void flows() {
        std::string csv = "initiator,responder,protocol,port,start,established,connections\n";
        std::vector<IpAddress> peers = out_.device_addresses;
        peers.insert(peers.end(), out_.endpoint_hosts.begin(), out_.endpoint_hosts.end());
        for (size_t i = 0, n = uniform(rng_, 0, 16); i < n && !out_.device_addresses.empty(); ++i) {
            const IpAddress& from = one_of(rng_, out_.device_addresses);
            std::vector<IpAddress> to;
            for (const auto& a : peers)
                if (a.family == from.family && a != from) to.push_back(a);
            if (to.empty()) continue;
            bool device_first = chance(rng_, 0.7);
            IpAddress responder = one_of(rng_, to);
            uint32_t k = uniform(rng_, 0, 99);
            std::string proto = k < 15 ? "icmp" : k < 19 ? "esp" : k < 21 ? "gre" : k < 60 ? "tcp" : "udp";
            uint16_t port = proto == "icmp" || proto == "esp" || proto == "gre" ? 0
                            : chance(rng_, 0.6)                               ? one_of(rng_, kCommonPorts)
                                                                              : static_cast<uint16_t>(uniform(rng_, 1, 65535));
            if (port) out_.ports.push_back(port);
            csv += fmt::format("{},{},{},{},2026-11-{:02}T10:00:00Z,{},{}\n", (device_first ? from : responder).to_string(),
                               (device_first ? responder : from).to_string(), proto, port, uniform(rng_, 10, 21),
                               chance(rng_, 0.85) ? "true" : "false", chance(rng_, 0.8) ? 5 : 1);
        }
        out_.files["flows/observed.csv"] = csv;
    }

    // A network for a cidr: peer: part of a segment, a vendor-like network outside, the
    // private range that covers every segment, a single host, or everything.
    std::string random_network() {
        const auto& seg = one_of(rng_, segments_);
        switch (uniform(rng_, 0, 6)) {
            case 0:
            case 1: {
                const Prefix& p = one_of(rng_, seg.v4);
                uint8_t length = static_cast<uint8_t>(uniform(rng_, p.length, 28));
                IpAddress a = random_host(rng_, p);
                uint32_t mask = ~uint32_t(0) << (32 - length);
                return Prefix{IpAddress::v4(a.v4_value() & mask), length}.to_string();
            }
            case 2:
                if (!seg.v6.empty()) {
                    IpAddress a = random_host(rng_, seg.v6.front());
                    return Prefix{v6_address(high_of(a), 0), 64}.to_string();
                }
                return "fd00::/8";
            case 3: {
                IpAddress a = outside_address(rng_, Family::v4);
                return Prefix{IpAddress::v4(a.v4_value() & 0xffff0000u), 16}.to_string();
            }
            case 4: return chance(rng_, 0.5) ? "10.0.0.0/8" : "0.0.0.0/0";
            case 5: return random_host(rng_, one_of(rng_, seg.v4)).to_string();
            default: return chance(rng_, 0.5) ? "::/0" : Prefix{v6_address(high_of(outside_address(rng_, Family::v6)) & ~0xffffffffULL, 0), 32}.to_string();
        }
    }

    std::string random_peer(bool internet_likely) {
        if (internet_likely && chance(rng_, 0.3) && roles_.count("internet")) return "endpoint:internet";
        switch (uniform(rng_, 0, 9)) {
            case 0:
            case 1: {
                std::vector<std::string> roles(roles_.begin(), roles_.end());
                return "role:" + one_of(rng_, roles);
            }
            case 2:
            case 3: return "endpoint:" + one_of(rng_, endpoints_).name;
            case 4: return "segment:" + one_of(rng_, segments_).name;
            case 5: return "device:" + one_of(rng_, devices_).name;
            case 6: return "any";
            case 7: return random_network();
            default: return "cidr:" + random_network();
        }
    }

    std::string protocol_and_ports() {
        uint32_t p = uniform(rng_, 0, 99);
        if (p < 10) return "protocol = \"icmp\"\n";
        if (p < 20) return icmp_types();
        if (p < 24) return "protocol = \"esp\"\n";
        if (p < 27) return "protocol = \"gre\"\n";
        std::string proto = p < 62 ? "tcp" : "udp";
        std::vector<std::string> items;
        for (size_t i = 0, n = uniform(rng_, 1, 3); i < n; ++i) {
            uint32_t k = uniform(rng_, 0, 9);
            if (k < 5) {
                uint16_t port = one_of(rng_, kCommonPorts);
                items.push_back(std::to_string(port));
                out_.ports.push_back(port);
            } else if (k < 7) {
                uint16_t port = static_cast<uint16_t>(uniform(rng_, 1, 65535));
                items.push_back(std::to_string(port));
                out_.ports.push_back(port);
            } else {
                uint32_t first = uniform(rng_, 1, 65000);
                uint32_t last = std::min<uint32_t>(65535, first + uniform(rng_, 1, 400));
                items.push_back(fmt::format("\"{}-{}\"", first, last));
                for (uint32_t edge : {first - 1, first, last, last + 1})
                    if (edge >= 1 && edge <= 65535) out_.ports.push_back(static_cast<uint16_t>(edge));
            }
        }
        std::string list = "[";
        for (size_t i = 0; i < items.size(); ++i) list += (i ? ", " : "") + items[i];
        return fmt::format("protocol = \"{}\"\nports = {}]\n", proto, list);
    }

    // Requests (which start connections) and replies and errors (which never do), named or by
    // number, in either family.
    std::string icmp_types() {
        static const std::vector<std::string> kIcmp = {"\"echo-request\"", "\"echo-reply\"", "\"timestamp-request\"",
                                                       "17", "\"destination-unreachable:port-unreachable\"",
                                                       "\"time-exceeded\"", "\"router-advertisement\""};
        static const std::vector<std::string> kIcmp6 = {"\"echo-request\"", "139", "\"echo-reply\"", "\"packet-too-big\"",
                                                        "\"destination-unreachable:4\""};
        bool v6 = chance(rng_, 0.3);
        std::vector<std::string> items;
        for (size_t i = 0, n = uniform(rng_, 1, 3); i < n; ++i) {
            std::string t = one_of(rng_, v6 ? kIcmp6 : kIcmp);
            if (std::find(items.begin(), items.end(), t) == items.end()) items.push_back(t);
        }
        std::string list;
        for (const auto& t : items) list += (list.empty() ? "" : ", ") + t;
        return fmt::format("protocol = \"{}\"\nicmp_types = [{}]\n", v6 ? "icmpv6" : "icmp", list);
    }

    void profiles() {
        for (size_t m = 0; m < models_.size(); ++m) {
            if (chance(rng_, 0.1)) continue;  // a model without a profile
            std::string text = fmt::format("vendor = \"Acme\"\nmodel = \"{}\"\nsource = \"Acme port table\"\n", models_[m].first);
            for (size_t i = 0, n = uniform(rng_, 1, 5); i < n; ++i) {
                bool device_initiated = chance(rng_, 0.6);
                text += fmt::format("\n[[flow]]\ndirection = \"{}\"\npeer = \"{}\"\n{}purpose = \"Flow {}\"\nrequired = {}\n",
                                    device_initiated ? "device-initiated" : "peer-initiated",
                                    random_peer(device_initiated), protocol_and_ports(), i, chance(rng_, 0.7));
            }
            out_.files[fmt::format("profiles/acme-model-{}.toml", m)] = text;
        }
    }

    void policy() {
        std::string text = R"([stance.support]
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
)";
        const std::vector<std::string> expiries = {"", "", "", "", "2026-06-30", "2026-11-21", "2026-11-22", "2027-03-31"};
        for (size_t i = 0, n = uniform(rng_, 0, 5); i < n; ++i) {
            std::string expires = one_of(rng_, expiries);
            text += fmt::format("\n[[approval]]\nid = \"CHG-{}\"\nfrom = \"{}\"\nto = \"{}\"\n{}by = \"IT\"\nreason = \"Test\"\n{}",
                                1000 + i, random_peer(false), random_peer(true), protocol_and_ports(),
                                expires.empty() ? "" : "expires = " + expires + "\n");
        }
        for (size_t i = 0, n = uniform(rng_, 0, 3); i < n; ++i) {
            text += fmt::format("\n[[deny]]\nid = \"deny-{}\"\nfrom = \"{}\"\nto = \"{}\"\n{}reason = \"Test\"\n", i,
                                random_peer(false), random_peer(false), chance(rng_, 0.7) ? protocol_and_ports() : "");
        }
        out_.files["policy.toml"] = text;
    }

    Rng& rng_;
    RandomSite out_;
    std::string site_toml_, devices_toml_;
    std::vector<SegmentDraft> segments_;
    std::vector<EndpointDraft> endpoints_;
    std::vector<DeviceDraft> devices_;
    std::vector<std::pair<std::string, std::string>> models_;  // model, its usual role
    std::set<std::string> roles_;
    std::set<IpAddress> used_;
};

IpAddress step(IpAddress a, int delta) {
    int width = a.family == Family::v4 ? 4 : 16;
    for (int i = width - 1; i >= 0; --i) {
        int v = a.bytes[i] + delta;
        a.bytes[i] = static_cast<uint8_t>(v);
        if (v >= 0 && v <= 255) break;
    }
    return a;
}

// Whether a packet with this address (as source or destination) can cross the test gateway.
bool sendable(const IpAddress& a) {
    if (a.family == Family::v4) {
        uint32_t v = a.v4_value();
        return !is_special4(v) || (v >> 24) == 10 || ((v >> 24) == 169 && (v >> 16 & 0xff) != 254);
    }
    if (a.bytes[0] == 0xff || a.bytes[0] == 0 || (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80)) return false;
    static const uint8_t kLink6[6] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff};
    return std::memcmp(a.bytes.data(), kLink6, 6) != 0;
}

// An address of the prefix, its edges more often than not, or the one just outside an edge.
IpAddress near_prefix(Rng& rng, const Prefix& p) {
    switch (uniform(rng, 0, 5)) {
        case 0: return p.address;
        case 1: return p.last();
        case 2: return step(p.address, -1);
        case 3: return step(p.last(), +1);
        default: return random_host(rng, p);
    }
}

}  // namespace

RandomSite random_site(std::mt19937& rng) { return Generator(rng).run(); }

std::string Probe::text() const { return src.to_string() + " -> " + dst.to_string() + " " + flow_service_text(proto, port, src.family); }

namespace {

// ICMP messages a probe carries: requests that start connections, replies and errors that never do.
uint16_t random_icmp_message(std::mt19937& rng, Family f) {
    static const std::vector<std::pair<uint8_t, uint8_t>> kV4 = {{8, 0}, {8, 0}, {0, 0}, {13, 0}, {17, 0},
                                                                 {15, 0}, {3, 3}, {11, 0}, {9, 0}};
    static const std::vector<std::pair<uint8_t, uint8_t>> kV6 = {{128, 0}, {128, 0}, {129, 0}, {139, 0}, {2, 0}, {1, 4}, {3, 0}};
    auto [type, code] = one_of(rng, f == Family::v4 ? kV4 : kV6);
    return icmp_port(type, code);
}

}  // namespace

std::vector<Probe> rule_probes(const Policy& policy, std::mt19937& rng, size_t n) {
    std::vector<Probe> out;
    auto address = [&](const AddressGroup& g, Family f) -> std::optional<IpAddress> {
        std::vector<Prefix> prefixes;
        for (const auto& p : g.prefixes)
            if (p.family() == f) prefixes.push_back(p);
        if (g.any || prefixes.empty()) return outside_address(rng, f);
        for (int tries = 0; tries < 8; ++tries) {
            IpAddress a = near_prefix(rng, one_of(rng, prefixes));
            if (sendable(a)) return a;
        }
        return std::nullopt;
    };
    for (size_t tries = 0; out.size() < n && tries < 20 * n; ++tries) {
        Probe p;
        if (!policy.pinholes.empty() && chance(rng, 0.2)) {
            const Pinhole& h = one_of(rng, policy.pinholes);
            p = {h.src, h.dst, h.protocol, h.port};
            if (h.protocol == Protocol::icmp) {
                p.port = random_icmp_message(rng, h.src.family);
            } else if (has_ports(h.protocol) && chance(rng, 0.3)) {
                p.port = static_cast<uint16_t>(p.port + (chance(rng, 0.5) ? 1 : -1));
            }
            if (chance(rng, 0.2)) p.dst = step(p.dst, 1);
        } else if (!policy.rules.empty()) {
            const Rule& r = one_of(rng, policy.rules);
            Family f = chance(rng, 0.5) ? Family::v4 : Family::v6;
            const auto& src = policy.group(r.src);
            const auto& dst = policy.group(r.dst);
            if (!src.has(f) || !dst.has(f)) f = f == Family::v4 ? Family::v6 : Family::v4;
            auto s = address(src, f);
            auto d = address(dst, f);
            if (!s || !d) continue;
            p.src = *s;
            p.dst = *d;
            if (r.services.empty()) {
                p.proto = chance(rng, 0.5) ? Protocol::tcp : Protocol::udp;
                p.port = one_of(rng, kCommonPorts);
            } else {
                const Service& svc = one_of(rng, r.services);
                p.proto = svc.protocol;
                std::vector<IcmpType> named;
                for (const auto& t : svc.icmp_types)
                    if (t.family == f) named.push_back(t);
                if (p.proto == Protocol::icmp) {
                    if (!named.empty() && chance(rng, 0.7)) {
                        const IcmpType& t = one_of(rng, named);
                        p.port = icmp_port(t.type, static_cast<uint8_t>(t.code < 0 ? 0 : t.code));
                    } else {
                        p.port = random_icmp_message(rng, f);
                    }
                } else if (!has_ports(p.proto)) {
                    p.port = 0;
                } else if (!svc.ports.empty()) {
                    const PortRange& range = one_of(rng, svc.ports);
                    switch (uniform(rng, 0, 4)) {
                        case 0: p.port = range.first; break;
                        case 1: p.port = range.last; break;
                        case 2: p.port = static_cast<uint16_t>(range.first - 1); break;
                        case 3: p.port = static_cast<uint16_t>(range.last + 1); break;
                        default: p.port = static_cast<uint16_t>(uniform(rng, range.first, range.last)); break;
                    }
                } else {
                    p.port = static_cast<uint16_t>(uniform(rng, 1, 65535));
                }
            }
        } else {
            break;
        }
        if (p.src.family != p.dst.family || p.src == p.dst || !sendable(p.src) || !sendable(p.dst)) continue;
        out.push_back(p);
    }
    return out;
}

std::vector<Probe> random_probes(const RandomSite& site, std::mt19937& rng, size_t n) {
    struct Pools {
        std::vector<IpAddress> devices, hosts;
        std::vector<Prefix> subnets, networks;
    } pools[2];
    for (Family f : {Family::v4, Family::v6}) {
        auto& pool = pools[f == Family::v4 ? 0 : 1];
        pool.devices = of_family(site.device_addresses, f);
        pool.hosts = of_family(site.endpoint_hosts, f);
        pool.subnets = of_family(site.segment_subnets, f);
        pool.networks = of_family(site.endpoint_networks, f);
    }
    bool has_v6 = !pools[1].subnets.empty();
    auto address = [&](Family f) -> IpAddress {
        const auto& pool = pools[f == Family::v4 ? 0 : 1];
        switch (uniform(rng, 0, 9)) {
            case 0:
            case 1:
            case 2:
                if (!pool.devices.empty()) return one_of(rng, pool.devices);
                break;
            case 3:
                if (!pool.hosts.empty()) return one_of(rng, pool.hosts);
                break;
            case 4:
                if (!pool.networks.empty()) return random_host(rng, one_of(rng, pool.networks));
                break;
            case 5:
            case 6:
                if (!pool.subnets.empty()) return random_host(rng, one_of(rng, pool.subnets));
                break;
            case 7:  // private, but in no segment (or by chance in one)
                return f == Family::v4 ? random_host(rng, *Prefix::parse("10.0.0.0/8"))
                                       : v6_address((0xfdULL << 56) | (random64(rng) >> 8), random64(rng) | 1);
            default: break;
        }
        return outside_address(rng, f);
    };
    std::vector<Probe> out;
    while (out.size() < n) {
        Probe p;
        Family f = has_v6 && chance(rng, 0.4) ? Family::v6 : Family::v4;
        p.src = address(f);
        p.dst = address(f);
        if (p.src == p.dst) continue;
        uint32_t k = uniform(rng, 0, 99);
        p.proto = k < 15 ? Protocol::icmp : k < 19 ? Protocol::esp : k < 21 ? Protocol::gre : k < 60 ? Protocol::tcp : Protocol::udp;
        if (p.proto == Protocol::icmp) {
            p.port = random_icmp_message(rng, f);
        } else if (!has_ports(p.proto)) {
            p.port = 0;
        } else {
            uint32_t r = uniform(rng, 0, 9);
            if (r < 7 && !site.ports.empty()) {
                p.port = one_of(rng, site.ports);
            } else if (r < 8) {
                p.port = one_of(rng, kCommonPorts);
            } else {
                p.port = static_cast<uint16_t>(uniform(rng, 1, 65535));
            }
        }
        out.push_back(p);
    }
    return out;
}

}  // namespace wardgate::testing
