// wardgate-gen-site: writes a synthetic, deterministic site directory (docs/site-format.md)
// for benchmarks and scale tests.
//
//   wardgate-gen-site --devices N --rows M --out DIR [--seed S] [--noise F]
//
// The site has a servers segment with the named endpoints, /20 device segments per
// department (4000 devices each), N devices drawn from a fixed set of 12 device models
// plus workstations, one profile per model, a policy with stances, role-level approvals
// and a deny, and flows/conn.log: M rows in Zeek TSV form over one day (2026-11-21 UTC),
// mostly declared flows plus a fraction F (default 5%) of baseline and unexplained ones.
// Only the standard library, CLI11 and fmt; the same seed gives byte-identical output.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------- randomness
// xoshiro256** seeded by splitmix64: the same numbers on every platform and standard
// library (std:: distributions are implementation-defined).
class Rng {
public:
    explicit Rng(uint64_t seed) {
        for (auto& s : s_) {
            seed += 0x9E3779B97F4A7C15ULL;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            s = z ^ (z >> 31);
        }
    }
    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform in [0, n); n > 0. Lemire's multiply-shift (the tiny bias is irrelevant here).
    uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
    // Uniform in [lo, hi].
    uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return unit() < p; }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::array<uint64_t, 4> s_{};
};

// ------------------------------------------------------------------------- the fixed catalogue
struct FlowDecl {
    const char* direction;  // device-initiated | peer-initiated
    const char* peer;
    const char* protocol;
    std::vector<const char*> ports;
    const char* purpose;
    bool required;
    double weight;  // share of this model's generated traffic; 0: declared, never generated
};

struct Model {
    const char* tag;  // device name prefix and profile file name
    const char* vendor;
    const char* model;
    const char* role;
    const char* department;  // segment prefix
    const char* lifecycle;
    const char* eol;  // "" when none
    const char* eos;
    const char* fda_class;
    const char* phi;
    const char* downtime;
    double weight;  // share of the device population
    bool ipv6;
    uint32_t oui;
    bool has_profile;
    const char* source;
    std::vector<FlowDecl> flows;  // the profile (or, without one, the traffic it generates)
};

const FlowDecl kNtp{"device-initiated", "role:ntp", "udp", {"123"}, "Time synchronisation", true, 2};
const FlowDecl kDns{"device-initiated", "role:dns", "udp", {"53"}, "Name resolution", true, 2};
const FlowDecl kDnsTcp{"device-initiated", "role:dns", "tcp", {"53"}, "Name resolution (large responses)", true, 0.1};

const std::vector<Model>& catalogue() {
    static const std::vector<Model> models = {
        {"alaris", "BD", "Alaris 8015", "infusion-pump", "icu", "end-of-support", "2019-12-31", "2024-06-30", "II", "low",
         "high", 14, false, 0x000AF7, true, "BD Alaris System 8015 PC unit MDS2 (2019), network port table",
         {{"device-initiated", "endpoint:drug-library", "tcp", {"443"}, "Drug library, infusion status and event logs", true, 5},
          kNtp,
          kDns,
          {"device-initiated", "role:siem", "udp", {"514"}, "Event log forwarding (plain syslog)", false, 0}}},
        {"space", "B. Braun", "Space", "infusion-pump", "icu", "support", "", "", "II", "low", "high", 14, true, 0x001AD6, true,
         "B. Braun Space system MDS2 (2023), SpaceCom port table",
         {{"device-initiated", "endpoint:drug-library", "tcp", {"443", "8443-8444"}, "Space Online Suite: drug library, pump status, software update", true, 5},
          kNtp,
          kDns,
          kDnsTcp,
          {"device-initiated", "role:siem", "tcp", {"6514"}, "IHE ATNA audit trail over TLS syslog", true, 1.5}}},
        {"sigma", "Baxter", "Sigma Spectrum", "infusion-pump", "ward", "limited-support", "2023-12-31", "2027-12-31", "II", "low",
         "high", 12, false, 0x0015C5, true, "Baxter Sigma Spectrum MDS2 (2017), wireless battery module port list",
         {{"device-initiated", "endpoint:drug-library", "tcp", {"443"}, "Drug library and infusion status", true, 5}, kNtp}},
        {"mx450", "Philips", "IntelliVue MX450", "patient-monitor", "icu", "limited-support", "2024-12-31", "2028-12-31", "II",
         "medium", "high", 12, false, 0x0009FB, true, "Philips IntelliVue MX450 MDS2 (2018) and network port table",
         {{"device-initiated", "role:central-station", "udp", {"24105"}, "IntelliVue data export: waves, numerics and alarms", true, 6},
          {"peer-initiated", "role:central-station", "udp", {"24005"}, "Information Center connection and remote view", true, 4},
          kNtp}},
        {"picix", "Philips", "PIC iX", "central-station", "icu", "support", "", "", "II", "high", "high", 0.5, true, 0x0009FB, true,
         "Philips Patient Information Center iX MDS2 (2024), port and protocol list",
         {{"peer-initiated", "role:patient-monitor", "udp", {"24105"}, "IntelliVue data export from bedside monitors", true, 0},
          {"device-initiated", "role:patient-monitor", "udp", {"24005"}, "Connection to and remote view of bedside monitors", true, 0},
          {"device-initiated", "endpoint:interface-engine", "tcp", {"2575"}, "HL7 v2 ORU vitals to the EHR over MLLP", true, 40},
          kNtp,
          kDns,
          {"device-initiated", "role:siem", "tcp", {"6514"}, "IHE ATNA audit trail over TLS syslog", true, 10},
          {"peer-initiated", "role:workstation", "tcp", {"443"}, "Web client for clinical review", true, 30},
          {"peer-initiated", "endpoint:philips-remote", "tcp", {"443"}, "Philips Remote Services support session", false, 0}}},
        {"b450", "GE Healthcare", "CARESCAPE B450", "patient-monitor", "ward", "support", "", "", "II", "medium", "high", 10, true,
         0x0000E6, true, "GE CARESCAPE B450 MDS2 (2022), CARESCAPE Network port list",
         {{"device-initiated", "role:central-station", "udp", {"7000"}, "CARESCAPE Network discovery and patient data", true, 5},
          {"device-initiated", "role:central-station", "udp", {"2000"}, "CARESCAPE Network time synchronisation", true, 2},
          {"device-initiated", "role:siem", "udp", {"514"}, "Audit log forwarding (plain syslog)", false, 0.5}}},
        {"cic", "GE Healthcare", "CARESCAPE Central Station", "central-station", "ward", "support", "", "", "II", "high", "high", 0.5,
         true, 0x0000E6, true, "GE CARESCAPE Central Station MDS2 (2023), port list",
         {{"peer-initiated", "role:patient-monitor", "udp", {"2000", "7000"}, "CARESCAPE Network from bedside monitors", true, 0},
          {"device-initiated", "endpoint:interface-engine", "tcp", {"2575"}, "HL7 v2 vitals to the EHR over MLLP", true, 40},
          kNtp,
          kDns,
          {"device-initiated", "endpoint:ge-insite", "tcp", {"443"}, "InSite remote service connection", false, 3},
          {"peer-initiated", "endpoint:ge-insite", "tcp", {"22"}, "InSite interactive service session", false, 0}}},
        {"ct", "Siemens Healthineers", "SOMATOM go.Up", "imaging-modality", "radiology", "support", "", "", "II", "high", "high", 0.4,
         true, 0x001B1B, true, "Siemens SOMATOM go.Up MDS2 (2022) and DICOM conformance statement",
         {{"device-initiated", "endpoint:pacs", "tcp", {"104"}, "DICOM C-STORE of images to PACS", true, 6},
          {"device-initiated", "endpoint:pacs", "tcp", {"11112"}, "DICOM modality worklist and MPPS", true, 6},
          kNtp,
          kDns,
          {"device-initiated", "role:siem", "udp", {"514"}, "IHE ATNA audit trail (plain syslog)", true, 2},
          {"device-initiated", "endpoint:siemens-srs", "tcp", {"443"}, "Smart Remote Services: remote diagnostics", false, 0.5},
          {"peer-initiated", "endpoint:siemens-srs", "tcp", {"22"}, "Smart Remote Services interactive session", false, 0}}},
        {"drx", "Carestream", "DRX-Evolution Plus", "imaging-modality", "radiology", "limited-support", "2025-06-30", "2028-06-30",
         "II", "high", "medium", 1, false, 0x000CA0, true, "Carestream DRX-Evolution Plus MDS2 (2017) and DICOM conformance statement",
         {{"device-initiated", "endpoint:pacs", "tcp", {"104"}, "DICOM C-STORE of images to PACS", true, 6},
          {"device-initiated", "endpoint:pacs", "tcp", {"11112"}, "DICOM modality worklist", true, 6},
          kNtp,
          kDns}},
        {"cobas", "Roche", "cobas pro", "lab-analyzer", "lab", "support", "", "", "I", "medium", "medium", 1.5, true, 0x006035, true,
         "Roche cobas pro host interface manual and MDS2 (2021)",
         {{"device-initiated", "endpoint:interface-engine", "tcp", {"2575"}, "HL7 v2 over MLLP: orders and results", true, 6},
          kNtp,
          kDns}},
        {"xn", "Sysmex", "XN-1000", "lab-analyzer", "lab", "limited-support", "2025-03-31", "2027-12-31", "II", "medium", "medium",
         1.5, false, 0x001DE5, true, "Sysmex XN-1000 MDS2 (2016), host interface specification",
         {{"device-initiated", "endpoint:interface-engine", "tcp", {"6661"}, "HL7 v2 over MLLP: results to the LIS", true, 6}, kNtp}},
        {"xt", "Omnicell", "XT", "dispensing-cabinet", "pharmacy", "support", "", "", "I", "high", "high", 3, true, 0x00215A, true,
         "Omnicell XT automated dispensing cabinet network requirements (2022)",
         {{"device-initiated", "endpoint:pharmacy-server", "tcp", {"443"}, "Dispensing transactions, inventory and user sync", true, 6},
          kNtp,
          kDns}},
        // Workstations: no manufacturer profile; their traffic is baseline (support stance).
        {"ws", "HP", "EliteDesk 800 G6", "workstation", "workstations", "support", "", "", "none", "high", "medium", 6, true,
         0x3C5282, false, "",
         {{"device-initiated", "endpoint:ehr", "tcp", {"443"}, "EHR client", true, 6}, kNtp, kDns}},
    };
    return models;
}

struct EndpointDef {
    const char* name;
    const char* kind;
    const char* role;  // nullptr: same as kind
    std::vector<const char*> v4;  // hosts or prefixes
    std::vector<const char*> v6;
    const char* vendor;
    const char* description;
};

const std::vector<EndpointDef>& endpoints() {
    static const std::vector<EndpointDef> eps = {
        {"pacs", "pacs", nullptr, {"10.1.0.10"}, {"fd00:1::10"}, nullptr, "PACS archive and modality worklist"},
        {"interface-engine", "interface-engine", nullptr, {"10.1.0.20"}, {"fd00:1::20"}, nullptr, "HL7 interface engine"},
        {"ehr", "ehr", nullptr, {"10.1.0.25", "10.1.0.26"}, {"fd00:1::25"}, nullptr, "EHR application servers"},
        {"drug-library", "drug-library", nullptr, {"10.1.0.30"}, {"fd00:1::30"}, nullptr, "Infusion pump drug library server"},
        {"pharmacy-server", "server", "pharmacy-server", {"10.1.0.40"}, {"fd00:1::40"}, nullptr, "Dispensing cabinet server"},
        {"ntp", "ntp", nullptr, {"10.1.0.5", "10.1.0.6"}, {"fd00:1::5"}, nullptr, "NTP servers"},
        {"dns", "dns", nullptr, {"10.1.0.53", "10.1.0.54"}, {"fd00:1::53"}, nullptr, "DNS resolvers"},
        {"siem", "server", "siem", {"10.1.0.60"}, {"fd00:1::60"}, nullptr, "Syslog / SIEM collector"},
        {"philips-remote", "vendor-support", nullptr, {"198.51.100.0/26"}, {"2001:db8:5100::/48"}, "Philips", "Philips Remote Services"},
        {"ge-insite", "vendor-support", nullptr, {"198.51.100.128/26"}, {"2001:db8:6e00::/48"}, "GE Healthcare", "GE InSite remote service"},
        {"siemens-srs", "vendor-support", nullptr, {"203.0.113.0/26"}, {"2001:db8:1130::/48"}, "Siemens Healthineers", "Siemens Smart Remote Services"},
        {"internet", "internet", nullptr, {"0.0.0.0/0"}, {"::/0"}, nullptr, "Everything outside the site"},
    };
    return eps;
}

constexpr uint32_t kPerSegment = 4000;       // devices per /20 segment (hosts .10 onwards)
constexpr int64_t kDay0 = 1795219200;        // 2026-11-21 00:00:00 UTC
constexpr uint64_t kDayUs = 86400ULL * 1000000ULL;

// ------------------------------------------------------------------------- output helpers
class Output {
public:
    explicit Output(const fs::path& path) : path_(path) {
        f_ = std::fopen(path.c_str(), "wb");
        if (!f_) throw std::runtime_error(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    ~Output() {
        if (f_) std::fclose(f_);
    }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    fmt::memory_buffer& buf() { return buf_; }
    void maybe_flush() {
        if (buf_.size() >= (4u << 20)) flush();
    }
    void close() {
        flush();
        if (std::fclose(f_) != 0) throw std::runtime_error(fmt::format("cannot write {}", path_.string()));
        f_ = nullptr;
    }

private:
    void flush() {
        if (buf_.size() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
            throw std::runtime_error(fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
        buf_.clear();
    }
    fs::path path_;
    std::FILE* f_ = nullptr;
    fmt::memory_buffer buf_;
};

std::string toml_str(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

// ------------------------------------------------------------------------- the site model
struct SegmentDef {
    std::string name;
    const char* kind;
    uint16_t vlan;
    uint32_t v4_base;  // network address, host order
    int v4_len;
    std::string v6_prefix;  // "fd00:0:0:7a::" (without length)
    std::string description;
};

struct Dev {
    uint32_t v4;
    uint32_t host;     // offset inside the segment (IPv6 interface id)
    uint16_t segment;  // index into segments
    uint8_t model;
};

std::string v4_text(uint32_t a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

struct Site {
    std::vector<SegmentDef> segments;
    std::vector<Dev> devices;
    std::vector<std::string> names;
    std::vector<uint32_t> model_count;
};

// ranges: each model's devices on consecutive hosts (their sets collapse into few prefixes).
// scattered: DHCP-like, a quarter of each /20 in use, every device on a random free host, so
// a model's devices are scattered and its set holds about one element per device.
enum class Layout { ranges, scattered };

Site build_site(uint64_t n, Layout layout, uint64_t seed) {
    const auto& models = catalogue();
    Site site;
    site.segments.push_back({"servers", "servers", 10, 0x0A010000u, 24, "fd00:1::", "Clinical servers and infrastructure"});

    // Devices per model: proportional to weight, at least one of each.
    double total = 0;
    for (const auto& m : models) total += m.weight;
    std::vector<uint64_t> count(models.size(), 1);
    uint64_t assigned = models.size();
    std::vector<std::pair<double, size_t>> rest;
    for (size_t i = 0; i < models.size(); ++i) {
        double want = static_cast<double>(n - models.size()) * models[i].weight / total;
        auto whole = static_cast<uint64_t>(want);
        count[i] += whole;
        assigned += whole;
        rest.emplace_back(want - static_cast<double>(whole), i);
    }
    std::stable_sort(rest.begin(), rest.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t k = 0; assigned < n; ++k, ++assigned) ++count[rest[k % rest.size()].second];
    site.model_count.assign(count.begin(), count.end());

    // Departments in first-seen order; each gets as many /20 segments as it needs.
    std::vector<std::string> departments;
    for (const auto& m : models)
        if (std::find(departments.begin(), departments.end(), m.department) == departments.end())
            departments.push_back(m.department);

    uint32_t next_net = 0;  // /20 index from 10.16.0.0
    site.devices.reserve(n);
    site.names.reserve(n);
    const int width = std::max<int>(4, static_cast<int>(fmt::formatted_size("{}", n)));
    for (const auto& dept : departments) {
        uint64_t in_dept = 0;
        for (size_t i = 0; i < models.size(); ++i)
            if (dept == models[i].department) in_dept += count[i];
        uint32_t first_seg = static_cast<uint32_t>(site.segments.size());
        const uint32_t per_segment = layout == Layout::scattered ? kPerSegment / 4 : kPerSegment;
        uint64_t nseg = (in_dept + per_segment - 1) / per_segment;
        for (uint64_t s = 0; s < nseg; ++s, ++next_net) {
            if (next_net >= 3800) throw std::runtime_error("too many devices for the 10.16.0.0/12 + /20 layout");
            auto vlan = static_cast<uint16_t>(100 + next_net);
            uint32_t base = 0x0A100000u + (next_net << 12);
            bool ws = dept == "workstations";
            site.segments.push_back({nseg == 1 ? dept : fmt::format("{}-{}", dept, s + 1), ws ? "workstations" : "devices", vlan,
                                     base, 20, fmt::format("fd00:0:0:{:x}::", vlan),
                                     fmt::format("{} segment {} of {}", dept, s + 1, nseg)});
        }
        // Where the department's k-th device goes: (segment, host).
        std::vector<std::pair<uint16_t, uint32_t>> slots;
        if (layout == Layout::scattered) {
            for (uint64_t s = 0; s < nseg; ++s)  // hosts 4050 and up: the flows' unknown hosts
                for (uint32_t h = 10; h < 4050; ++h) slots.emplace_back(static_cast<uint16_t>(first_seg + s), h);
            Rng rng(seed * 7919 + first_seg);
            for (size_t i = slots.size() - 1; i > 0; --i) std::swap(slots[i], slots[rng.below(i + 1)]);
        }
        uint64_t k = 0;
        for (size_t i = 0; i < models.size(); ++i) {
            if (dept != models[i].department) continue;
            for (uint64_t j = 0; j < count[i]; ++j, ++k) {
                auto seg = static_cast<uint16_t>(first_seg + k / kPerSegment);
                auto host = static_cast<uint32_t>(10 + k % kPerSegment);
                if (layout == Layout::scattered) std::tie(seg, host) = slots[k];
                site.devices.push_back({site.segments[seg].v4_base + host, host, seg, static_cast<uint8_t>(i)});
                site.names.push_back(fmt::format("{}-{:0{}}", models[i].tag, j + 1, width));
            }
        }
    }
    return site;
}

// Segment i goes to gateway gw-(i mod n + 1): each gateway routes about 1/n of the devices.
void write_gateways(fmt::memory_buffer& buf, const Site& site, uint32_t gateways) {
    auto it = std::back_inserter(buf);
    for (uint32_t g = 0; g < gateways; ++g) {
        fmt::format_to(it, "\n[[gateway]]\nname = \"gw-{}\"\nsegments = [", g + 1);
        bool first = true;
        for (size_t i = g; i < site.segments.size(); i += gateways)
            fmt::format_to(it, "{}\"{}\"", std::exchange(first, false) ? "" : ", ", site.segments[i].name);
        fmt::format_to(it, "]\n");
    }
}

void write_site_toml(const fs::path& dir, const Site& site, uint32_t gateways) {
    Output out(dir / "site.toml");
    auto it = std::back_inserter(out.buf());
    fmt::format_to(it,
                   "# Synthetic site written by wardgate-gen-site: {} devices, {} segments.\n\n"
                   "[site]\nname = \"Synthetic Hospital ({} devices)\"\ndevices = [\"devices.toml\"]\nprofiles = \"profiles\"\n"
                   "policy = \"policy.toml\"\nflows = [\"flows/conn.log\"]\nmode = \"enforce\"\nlog_drops = true\nlog_group = 10\n",
                   site.devices.size(), site.segments.size(), site.devices.size());
    for (const auto& s : site.segments) {
        fmt::format_to(it,
                       "\n[[segment]]\nname = \"{}\"\nkind = \"{}\"\nvlan = {}\nipv4 = [\"{}/{}\"]\nipv6 = [\"{}/64\"]\n"
                       "gateway4 = \"{}\"\ngateway6 = \"{}1\"\ndescription = {}\n",
                       s.name, s.kind, s.vlan, v4_text(s.v4_base), s.v4_len, s.v6_prefix, v4_text(s.v4_base + 1), s.v6_prefix,
                       toml_str(s.description));
    }
    for (const auto& e : endpoints()) {
        fmt::format_to(it, "\n[[endpoint]]\nname = \"{}\"\nkind = \"{}\"\n", e.name, e.kind);
        if (e.role) fmt::format_to(it, "role = \"{}\"\n", e.role);
        fmt::format_to(it, "addresses = [");
        bool first = true;
        for (auto* a : e.v4) fmt::format_to(it, "{}\"{}\"", std::exchange(first, false) ? "" : ", ", a);
        for (auto* a : e.v6) fmt::format_to(it, "{}\"{}\"", std::exchange(first, false) ? "" : ", ", a);
        fmt::format_to(it, "]\n");
        if (e.vendor) fmt::format_to(it, "vendor = {}\n", toml_str(e.vendor));
        fmt::format_to(it, "description = {}\n", toml_str(e.description));
    }
    write_gateways(out.buf(), site, gateways);
    out.close();
}

void write_devices_toml(const fs::path& dir, const Site& site) {
    const auto& models = catalogue();
    Output out(dir / "devices.toml");
    auto it = std::back_inserter(out.buf());
    fmt::format_to(it, "# Synthetic devices written by wardgate-gen-site.\n");
    std::vector<std::string> vendor_q, model_q, dept_q;
    for (const auto& m : models) {
        vendor_q.push_back(toml_str(m.vendor));
        model_q.push_back(toml_str(m.model));
        dept_q.push_back(toml_str(m.department));
    }
    for (size_t i = 0; i < site.devices.size(); ++i) {
        const Dev& d = site.devices[i];
        const Model& m = models[d.model];
        const SegmentDef& s = site.segments[d.segment];
        uint32_t mac = static_cast<uint32_t>(i + 1);
        fmt::format_to(it, "\n[[device]]\nname = \"{}\"\naddresses = [\"{}.{}.{}.{}\"", site.names[i], d.v4 >> 24,
                       (d.v4 >> 16) & 255, (d.v4 >> 8) & 255, d.v4 & 255);
        if (m.ipv6) fmt::format_to(it, ", \"{}{:x}\"", s.v6_prefix, d.host);
        fmt::format_to(it,
                       "]\nmac = \"{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}\"\nrole = \"{}\"\nvendor = {}\nmodel = {}\n"
                       "department = {}\nsegment = \"{}\"\nfda_class = \"{}\"\nphi = \"{}\"\ndowntime_impact = \"{}\"\n"
                       "lifecycle = \"{}\"\n",
                       m.oui >> 16, (m.oui >> 8) & 255, m.oui & 255, (mac >> 16) & 255, (mac >> 8) & 255, mac & 255, m.role,
                       vendor_q[d.model], model_q[d.model], dept_q[d.model], s.name, m.fda_class, m.phi, m.downtime,
                       m.lifecycle);
        if (*m.eol) fmt::format_to(it, "eol = {}\n", m.eol);
        if (*m.eos) fmt::format_to(it, "eos = {}\n", m.eos);
        out.maybe_flush();
    }
    out.close();
}

void write_profiles(const fs::path& dir) {
    fs::create_directories(dir / "profiles");
    for (const auto& m : catalogue()) {
        if (!m.has_profile) continue;
        Output out(dir / "profiles" / fmt::format("{}.toml", m.tag));
        auto it = std::back_inserter(out.buf());
        fmt::format_to(it, "vendor = {}\nmodel = {}\nsource = {}\n", toml_str(m.vendor), toml_str(m.model), toml_str(m.source));
        for (const auto& f : m.flows) {
            fmt::format_to(it, "\n[[flow]]\ndirection = \"{}\"\npeer = \"{}\"\nprotocol = \"{}\"\nports = [", f.direction, f.peer,
                           f.protocol);
            bool first = true;
            for (const char* p : f.ports) {
                bool range = std::string_view(p).find('-') != std::string_view::npos;
                fmt::format_to(it, "{}{}{}{}", std::exchange(first, false) ? "" : ", ", range ? "\"" : "", p, range ? "\"" : "");
            }
            fmt::format_to(it, "]\npurpose = {}\nrequired = {}\n", toml_str(f.purpose), f.required ? "true" : "false");
        }
        out.close();
    }
}

void write_policy(const fs::path& dir) {
    Output out(dir / "policy.toml");
    fmt::format_to(std::back_inserter(out.buf()), "{}", R"(# Synthetic policy written by wardgate-gen-site.

[stance.support]
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
id = "APR-100"
from = "role:workstation"
to = "role:infusion-pump"
protocol = "tcp"
ports = [8080]
by = "Biomedical Engineering"
reason = "Pump log download during maintenance"
expires = 2027-12-31

[[approval]]
id = "APR-101"
from = "role:lab-analyzer"
to = "endpoint:ehr"
protocol = "tcp"
ports = [443]
by = "Laboratory IT"
reason = "Result viewer links"

[[approval]]
id = "APR-102"
from = "role:workstation"
to = "role:imaging-modality"
protocol = "tcp"
ports = [445]
by = "Radiology IT"
reason = "SMB export during the PACS migration"
expires = 2026-06-30

[[approval]]
id = "APR-103"
from = "role:dispensing-cabinet"
to = "endpoint:ehr"
protocol = "tcp"
ports = [8443]
by = "Pharmacy"
reason = "Medication order lookup"
expires = 2027-06-30

[[deny]]
id = "no-telnet-pumps"
from = "any"
to = "role:infusion-pump"
protocol = "tcp"
ports = [23]
reason = "Telnet to infusion pumps is never allowed"
)");
    out.close();
}

// ------------------------------------------------------------------------- flows
struct Addr {
    std::string_view text;  // for endpoint hosts; empty when v4 is used
    uint32_t v4 = 0;
    bool v6 = false;
    bool local = true;
};

struct PortSpan {
    uint16_t first, last;
};

struct ResolvedFlow {
    bool device_initiated;
    bool udp;
    std::vector<PortSpan> ports;
    int endpoint = -1;                           // endpoint index, or
    const std::vector<uint32_t>* peers = nullptr;  // devices with the peer role
    const std::vector<uint32_t>* same_vendor = nullptr;
    double weight;
};

struct Generator {
    const Site& site;
    Rng rng;
    double noise;

    // endpoint hosts, parsed
    struct EpHosts {
        std::vector<std::string> v4, v6;
        uint32_t net4 = 0;  // for vendor networks: base of a prefix
        int len4 = 32;
        bool vendor_net = false;
    };
    std::vector<EpHosts> ep;
    std::vector<std::vector<ResolvedFlow>> flows;  // per model
    std::vector<std::vector<double>> cumw;         // per model: cumulative weights
    std::vector<std::vector<uint32_t>> by_role;    // role index -> devices
    std::vector<std::vector<std::vector<uint32_t>>> by_role_vendor;
    std::vector<std::string> roles, vendors;

    Generator(const Site& s, uint64_t seed, double noise_) : site(s), rng(seed), noise(noise_) {
        const auto& models = catalogue();
        for (const auto& m : models) {
            if (std::find(roles.begin(), roles.end(), m.role) == roles.end()) roles.push_back(m.role);
            if (std::find(vendors.begin(), vendors.end(), m.vendor) == vendors.end()) vendors.push_back(m.vendor);
        }
        by_role.resize(roles.size());
        by_role_vendor.assign(roles.size(), std::vector<std::vector<uint32_t>>(vendors.size()));
        for (uint32_t i = 0; i < site.devices.size(); ++i) {
            const Model& m = models[site.devices[i].model];
            size_t r = index_of(roles, m.role), v = index_of(vendors, m.vendor);
            by_role[r].push_back(i);
            by_role_vendor[r][v].push_back(i);
        }
        for (const auto& e : endpoints()) {
            EpHosts h;
            for (auto* a : e.v4) h.v4.emplace_back(a);
            for (auto* a : e.v6) h.v6.emplace_back(a);
            if (std::string_view(e.kind) == "vendor-support") {
                h.vendor_net = true;
                std::string_view p = e.v4.front();
                auto slash = p.find('/');
                unsigned a, b, c, d;
                std::sscanf(std::string(p.substr(0, slash)).c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
                h.net4 = a << 24 | b << 16 | c << 8 | d;
                h.len4 = std::stoi(std::string(p.substr(slash + 1)));
            }
            ep.push_back(std::move(h));
        }
        for (const auto& m : models) {
            std::vector<ResolvedFlow> rf;
            std::vector<double> cw;
            double acc = 0;
            size_t v = index_of(vendors, m.vendor);
            for (const auto& f : m.flows) {
                if (f.weight <= 0) continue;
                ResolvedFlow r{std::string_view(f.direction) == "device-initiated", std::string_view(f.protocol) == "udp", {}, -1,
                               nullptr, nullptr, f.weight};
                for (const char* p : f.ports) {
                    unsigned lo = 0, hi = 0;
                    if (std::sscanf(p, "%u-%u", &lo, &hi) != 2) hi = lo;
                    r.ports.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)});
                }
                std::string_view peer = f.peer;
                auto colon = peer.find(':');
                std::string_view kind = peer.substr(0, colon), name = peer.substr(colon + 1);
                for (size_t i = 0; i < endpoints().size(); ++i) {
                    const auto& e = endpoints()[i];
                    if ((kind == "endpoint" && name == e.name) || (kind == "role" && name == (e.role ? e.role : e.kind))) {
                        r.endpoint = static_cast<int>(i);
                        break;
                    }
                }
                if (r.endpoint < 0) {
                    size_t ri = index_of(roles, name);
                    if (kind != "role" || ri == roles.size()) throw std::logic_error(fmt::format("unresolved peer {}", peer));
                    r.peers = &by_role[ri];
                    r.same_vendor = &by_role_vendor[ri][v];
                }
                acc += f.weight;
                rf.push_back(std::move(r));
                cw.push_back(acc);
            }
            flows.push_back(std::move(rf));
            cumw.push_back(std::move(cw));
        }
    }

    static size_t index_of(const std::vector<std::string>& v, std::string_view s) {
        return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
    }

    Addr device_addr(uint32_t i, bool want_v6) {
        const Dev& d = site.devices[i];
        Addr a;
        a.v4 = d.v4;
        a.v6 = want_v6 && catalogue()[d.model].ipv6;
        return a;
    }

    Addr endpoint_addr(int e, bool want_v6) {
        EpHosts& h = ep[static_cast<size_t>(e)];
        Addr a;
        if (h.vendor_net) {
            a.local = false;
            a.v4 = h.net4 + 1 + static_cast<uint32_t>(rng.below((1u << (32 - h.len4)) - 2));
            return a;
        }
        if (want_v6 && !h.v6.empty()) {
            a.text = h.v6[rng.below(h.v6.size())];
            a.v6 = true;
        } else {
            a.text = h.v4[rng.below(h.v4.size())];
        }
        return a;
    }

    // Formats an address into the row. Device IPv6 addresses are built from the segment prefix.
    void put_addr(fmt::memory_buffer& b, const Addr& a, uint32_t device) {
        auto it = std::back_inserter(b);
        if (!a.text.empty()) {
            b.append(a.text.data(), a.text.data() + a.text.size());
        } else if (a.v6) {
            const Dev& d = site.devices[device];
            fmt::format_to(it, "{}{:x}", site.segments[d.segment].v6_prefix, d.host);
        } else {
            fmt::format_to(it, "{}.{}.{}.{}", a.v4 >> 24, (a.v4 >> 16) & 255, (a.v4 >> 8) & 255, a.v4 & 255);
        }
    }

    void uid(fmt::memory_buffer& b) {
        static constexpr char k62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        char u[18];
        u[0] = 'C';
        uint64_t x = rng.next(), y = rng.next();
        for (int i = 1; i < 10; ++i, x /= 62) u[i] = k62[x % 62];
        for (int i = 10; i < 18; ++i, y /= 62) u[i] = k62[y % 62];
        b.append(u, u + 18);
    }

    enum class State { SF, S0, REJ };

    struct Conn {
        Addr src, dst;
        uint32_t src_dev = 0, dst_dev = 0;
        uint16_t sport = 0, dport = 0;
        const char* proto = "tcp";
        State state = State::SF;
        uint64_t ob = 0, rb = 0;
        uint64_t dur_us = 0;
    };

    static const char* service(const char* proto, uint16_t port, State st) {
        if (st != State::SF) return "-";
        switch (port) {
            case 53: return "dns";
            case 123: return "ntp";
            case 443: case 8443: case 6514: return "ssl";
            case 80: case 8080: return "http";
            case 514: return proto[0] == 'u' ? "syslog" : "-";
            case 22: return "ssh";
            case 161: return "snmp";
            case 445: return "smb";
            default: return "-";
        }
    }

    void write_row(fmt::memory_buffer& b, uint64_t ts_us, const Conn& c) {
        auto it = std::back_inserter(b);
        fmt::format_to(it, "{}.{:06}\t", static_cast<uint64_t>(kDay0) + ts_us / 1000000, ts_us % 1000000);
        uid(b);
        b.push_back('\t');
        put_addr(b, c.src, c.src_dev);
        fmt::format_to(it, "\t{}\t", c.sport);
        put_addr(b, c.dst, c.dst_dev);
        bool tcp = c.proto[0] == 't';
        bool v6 = c.src.v6;
        uint64_t hdr = tcp ? (v6 ? 72 : 52) : (v6 ? 48 : 28);
        const char* lo = c.src.local ? "T" : "F";
        const char* lr = c.dst.local ? "T" : "F";
        const char* svc = service(c.proto, c.dport, c.state);
        switch (c.state) {
            case State::SF: {
                uint64_t op, rp;
                const char* hist;
                if (tcp) {
                    op = 3 + c.ob / 1400 + rng.below(3);
                    rp = 2 + c.rb / 1400 + rng.below(3);
                    hist = "ShADadFf";
                } else {
                    op = 1 + c.ob / 1200;
                    rp = 1 + c.rb / 1200;
                    hist = "Dd";
                }
                fmt::format_to(it, "\t{}\t{}\t{}\t{}.{:06}\t{}\t{}\tSF\t{}\t{}\t0\t{}\t{}\t{}\t{}\t{}\t-\n", c.dport, c.proto, svc,
                               c.dur_us / 1000000, c.dur_us % 1000000, c.ob, c.rb, lo, lr, hist, op, c.ob + op * hdr, rp,
                               c.rb + rp * hdr);
                break;
            }
            case State::S0: {
                uint64_t syn = v6 ? 64 : 44;
                if (tcp) {
                    fmt::format_to(it, "\t{}\ttcp\t-\t-\t-\t-\tS0\t{}\t{}\t0\tS\t1\t{}\t0\t0\t-\n", c.dport, lo, lr, syn);
                } else {
                    fmt::format_to(it, "\t{}\tudp\t-\t-\t-\t-\tS0\t{}\t{}\t0\tD\t1\t{}\t0\t0\t-\n", c.dport, lo, lr, c.ob + hdr);
                }
                break;
            }
            case State::REJ: {
                uint64_t syn = v6 ? 64 : 44, rst = v6 ? 60 : 40;
                fmt::format_to(it, "\t{}\ttcp\t-\t0.{:06}\t0\t0\tREJ\t{}\t{}\t0\tSr\t1\t{}\t1\t{}\t-\n", c.dport, c.dur_us % 1000000,
                               lo, lr, syn, rst);
                break;
            }
        }
    }

    uint16_t ephemeral() { return static_cast<uint16_t>(rng.range(32768, 60999)); }

    // Sizes and durations by service.
    void shape(Conn& c) {
        switch (c.dport) {
            case 123: c.ob = 48; c.rb = 48; c.dur_us = rng.range(300, 3000); return;
            case 53:
                c.ob = rng.range(30, 60);
                c.rb = c.proto[0] == 't' ? rng.range(1200, 3800) : rng.range(60, 220);
                c.dur_us = rng.range(300, 4000);
                return;
            case 104: c.ob = rng.range(15'000'000, 600'000'000); c.rb = rng.range(4000, 20000); c.dur_us = c.ob / 60; return;
            case 24105: case 7000:
                c.ob = rng.range(2'000'000, 14'000'000); c.rb = rng.range(20'000, 60'000); c.dur_us = rng.range(600'000'000, 3'600'000'000);
                return;
            case 24005: case 2000:
                c.ob = rng.range(20'000, 400'000); c.rb = rng.range(10'000, 150'000); c.dur_us = rng.range(600'000'000, 3'600'000'000);
                return;
            case 514: c.ob = rng.range(300, 1600); c.rb = 0; c.dur_us = 0; return;
            default: c.ob = rng.range(500, 40'000); c.rb = rng.range(200, 200'000); c.dur_us = rng.range(20'000, 30'000'000); return;
        }
    }

    uint32_t pick(const std::vector<uint32_t>& v) { return v[rng.below(v.size())]; }

    void declared(Conn& c) {
        uint32_t di = static_cast<uint32_t>(rng.below(site.devices.size()));
        const Dev& d = site.devices[di];
        const auto& cw = cumw[d.model];
        const auto& fl = flows[d.model];
        double r = rng.unit() * cw.back();
        size_t k = static_cast<size_t>(std::upper_bound(cw.begin(), cw.end(), r) - cw.begin());
        if (k >= fl.size()) k = fl.size() - 1;
        const ResolvedFlow& f = fl[k];
        const PortSpan& ps = f.ports[rng.below(f.ports.size())];
        c.dport = static_cast<uint16_t>(rng.range(ps.first, ps.last));
        c.proto = f.udp ? "udp" : "tcp";
        bool v6 = rng.chance(0.3);
        Addr me = device_addr(di, v6), peer;
        uint32_t peer_dev = 0;
        if (f.endpoint >= 0) {
            peer = endpoint_addr(f.endpoint, me.v6);
            if (me.v6 != peer.v6) me.v6 = false, peer = endpoint_addr(f.endpoint, false);
        } else {
            peer_dev = pick(!f.same_vendor->empty() ? *f.same_vendor : *f.peers);
            me.v6 = false;
            peer = device_addr(peer_dev, false);
        }
        if (f.device_initiated) {
            c.src = me, c.src_dev = di, c.dst = peer, c.dst_dev = peer_dev;
        } else {
            c.src = peer, c.src_dev = peer_dev, c.dst = me, c.dst_dev = di;
        }
        bool same_port = f.udp && (c.dport == 123 || c.dport == 24105 || c.dport == 24005 || c.dport == 2000 ||
                                   c.dport == 7000 || c.dport == 514);
        c.sport = same_port ? c.dport : ephemeral();
        c.state = State::SF;
        shape(c);
        if (c.dport == 514 && f.udp) c.state = State::S0;  // one-way syslog: no reply
        else if (rng.chance(0.002)) c.state = State::S0;   // the odd lost connection
    }

    void unexplained(Conn& c) {
        static constexpr uint16_t kTcp[] = {22, 23, 80, 445, 3389, 5900, 8080, 21, 135, 139, 9100, 443};
        uint32_t di = static_cast<uint32_t>(rng.below(site.devices.size()));
        c.src = device_addr(di, false);
        c.src_dev = di;
        c.proto = "tcp";
        c.sport = ephemeral();
        c.dport = kTcp[rng.below(std::size(kTcp))];
        uint64_t kind = rng.below(100);
        if (kind < 35) {  // device to device
            uint32_t dj = static_cast<uint32_t>(rng.below(site.devices.size()));
            c.dst = device_addr(dj, false);
            c.dst_dev = dj;
        } else if (kind < 60) {  // to an unnamed server
            c.dst = Addr{{}, 0x0A010000u + static_cast<uint32_t>(rng.range(70, 99)), false, true};
            c.dport = std::array<uint16_t, 4>{8080, 445, 443, 9100}[rng.below(4)];
        } else if (kind < 80) {  // to the internet (198.18.0.0/15, the benchmarking range)
            c.dst = Addr{{}, 0xC6120000u + static_cast<uint32_t>(rng.below(1u << 17)), false, false};
            c.dport = rng.chance(0.7) ? 443 : 80;
        } else if (kind < 90) {  // SNMP / TFTP
            uint32_t dj = static_cast<uint32_t>(rng.below(site.devices.size()));
            c.dst = device_addr(dj, false);
            c.dst_dev = dj;
            c.proto = "udp";
            c.dport = rng.chance(0.5) ? 161 : 69;
        } else {  // a scan from an address in a device segment that is no device
            const Dev& d = site.devices[di];
            c.src = Addr{{}, site.segments[d.segment].v4_base + 4050 + static_cast<uint32_t>(rng.below(40)), false, true};
            uint32_t dj = static_cast<uint32_t>(rng.below(site.devices.size()));
            c.dst = device_addr(dj, false);
            c.dst_dev = dj;
            c.state = rng.chance(0.7) ? State::S0 : State::REJ;
            c.ob = c.rb = 0;
            c.dur_us = rng.range(200, 3000);
            return;
        }
        shape(c);
        uint64_t st = rng.below(10);
        c.state = st < 7 ? State::SF : (st < 9 || c.proto[0] == 'u') ? State::S0 : State::REJ;
    }

    void write_conn_log(const fs::path& file, uint64_t rows) {
        Output out(file);
        auto& b = out.buf();
        fmt::format_to(std::back_inserter(b), "{}",
                       "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
                       "#open\t2026-11-21-00-00-00\n"
                       "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t"
                       "resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t"
                       "resp_pkts\tresp_ip_bytes\ttunnel_parents\n"
                       "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\t"
                       "count\tstring\tcount\tcount\tcount\tcount\tset[string]\n");
        uint64_t step = rows ? kDayUs / rows : kDayUs;
        for (uint64_t i = 0; i < rows; ++i) {
            // Evenly spread start times with jitter below one step: sorted without sorting.
            uint64_t ts = static_cast<uint64_t>((static_cast<unsigned __int128>(i) * kDayUs) / rows);
            if (step > 1) ts += rng.below(step - step / 10);
            Conn c;
            if (rng.unit() < noise) unexplained(c);
            else declared(c);
            write_row(b, ts, c);
            out.maybe_flush();
        }
        fmt::format_to(std::back_inserter(b), "#close\t2026-11-22-00-00-00\n");
        out.close();
    }
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Writes a synthetic wardgate site directory (site.toml, devices.toml, profiles/, policy.toml, "
                 "flows/conn.log) for benchmarks"};
    uint64_t devices = 0, rows = 0, seed = 1;
    double noise = 0.05;
    std::string out_dir, layout = "ranges";
    uint32_t gateways = 0;
    app.add_option("--devices", devices, "Number of devices (at least 16)")->required()->check(CLI::Range(16, 10'000'000));
    app.add_option("--rows", rows, "Number of conn.log rows")->required();
    app.add_option("--out", out_dir, "Site directory to write (created if missing)")->required();
    app.add_option("--seed", seed, "Random seed; the same seed gives the same site")->capture_default_str();
    app.add_option("--noise", noise, "Share of baseline / unexplained rows")->check(CLI::Range(0.0, 1.0))->capture_default_str();
    app.add_option("--layout", layout,
                   "Device addresses: ranges (each model's on consecutive hosts) or scattered (DHCP-like, random hosts "
                   "over sparse /20s: a set element per device)")
        ->check(CLI::IsMember({"ranges", "scattered"}))
        ->capture_default_str();
    app.add_option("--gateways", gateways, "Declare N [[gateway]]s (gw-1...), the segments dealt among them")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        auto t0 = std::chrono::steady_clock::now();
        fs::path dir(out_dir);
        fs::create_directories(dir / "flows");
        Site site = build_site(devices, layout == "scattered" ? Layout::scattered : Layout::ranges, seed);
        write_site_toml(dir, site, gateways);
        write_devices_toml(dir, site);
        write_profiles(dir);
        write_policy(dir);
        auto t1 = std::chrono::steady_clock::now();
        Generator gen(site, seed, noise);
        gen.write_conn_log(dir / "flows" / "conn.log", rows);
        auto t2 = std::chrono::steady_clock::now();
        using ms = std::chrono::duration<double, std::milli>;
        fmt::print(stderr, "wrote {}: {} devices in {} segments ({:.0f} ms), {} conn.log rows ({:.0f} ms)\n", dir.string(),
                   site.devices.size(), site.segments.size(), ms(t1 - t0).count(), rows, ms(t2 - t1).count());
    } catch (const std::exception& e) {
        fmt::print(stderr, "wardgate-gen-site: {}\n", e.what());
        return 1;
    }
    return 0;
}
