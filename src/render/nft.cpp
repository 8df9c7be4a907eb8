#include "wardgate/render/nft.hpp"

#include <fmt/format.h>

#include <set>

namespace wardgate {

namespace {

constexpr size_t kCommentMax = 127;  // nftables keeps at most 128 bytes of a comment
constexpr const char* kOutside = "outside";

std::string family_tag(Family f) { return f == Family::v4 ? "v4" : "v6"; }
std::string ip_keyword(Family f) { return f == Family::v4 ? "ip" : "ip6"; }
std::string icmp_keyword(Family f) { return f == Family::v4 ? "icmp" : "ipv6-icmp"; }

std::string quoted_comment(std::string text) {
    for (auto& c : text)
        if (c == '"' || c == '\n' || c == '\\') c = '\'';
    if (text.size() > kCommentMax) text = text.substr(0, kCommentMax - 3) + "...";
    return "\"" + text + "\"";
}

std::string join_elements(const std::vector<std::string>& items, const std::string& indent) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i % 8 == 0) out += (i ? ",\n" : "") + indent;
        else out += ", ";
        out += items[i];
    }
    return out;
}

std::string rule_comment(const Rule& r) {
    std::set<std::string> kinds;
    std::string first;
    for (const auto& w : r.why) {
        kinds.insert(std::string(to_string(w.kind)));
        if (first.empty()) first = w.source + (w.detail.empty() ? "" : ": " + w.detail);
    }
    std::string k;
    for (const auto& x : kinds) k += (k.empty() ? "" : "+") + x;
    if (r.why.size() > 1) first += fmt::format(" (+{} more)", r.why.size() - 1);
    return k + " - " + first;
}

class NftWriter {
public:
    explicit NftWriter(const Policy& p) : p_(p) {}

    std::string write() {
        collect_rules();
        out_ += "#!/usr/sbin/nft -f\n";
        out_ += fmt::format("# wardgate policy for {}\n", p_.site);
        out_ += "# Generated: replaces table inet wardgate in one transaction and touches no other table.\n";
        out_ += fmt::format("table inet {}\ndelete table inet {}\n\ntable inet {} {{\n", kNftTable, kNftTable, kNftTable);
        sets();
        drop_chains();
        out_ += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n";
        out_ += "\t\tct state established,related accept\n";
        if (p_.mode == EnforcementMode::enforce) out_ += "\t\tct state invalid counter drop\n";
        for (const auto& line : rule_lines_) out_ += "\t\t" + line + "\n";
        baseline_rules();
        default_deny();
        out_ += "\t}\n}\n";
        return std::move(out_);
    }

private:
    void use_set(const AddressGroup& g, Family f) {
        if (!g.any) used_sets_.insert({&g - p_.groups.data(), f});
    }

    std::string addr_match(const AddressGroup& g, Family f, const char* dir) {
        if (g.any) return "";
        use_set(g, f);
        return fmt::format("{} {} @{} ", ip_keyword(f), dir, nft_group_set(g, f));
    }

    std::vector<std::string> service_matches(const std::vector<Service>& services, Family f) {
        std::vector<std::string> out;
        if (services.empty()) out.push_back("");
        for (const auto& s : services) {
            if (s.protocol == Protocol::icmp) {
                out.push_back("meta l4proto " + icmp_keyword(f) + " ");
            } else if (s.ports.empty()) {
                out.push_back(fmt::format("meta l4proto {} ", to_string(s.protocol)));
            } else {
                std::vector<std::string> ports;
                for (const auto& r : s.ports) ports.push_back(r.to_string());
                std::string list = ports.size() == 1 ? ports[0] : "{ " + fmt::format("{}", fmt::join(ports, ", ")) + " }";
                out.push_back(fmt::format("{} dport {} ", to_string(s.protocol), list));
            }
        }
        return out;
    }

    void collect_rules() {
        for (const auto& r : p_.rules) {
            const auto& src = p_.groups[r.src];
            const auto& dst = p_.groups[r.dst];
            std::string verdict;
            if (r.action == Rule::Action::deny) {
                std::string id = r.why.empty() ? "deny" : r.why.front().source;
                bool monitor = p_.mode == EnforcementMode::monitor;
                verdict = log_clause(id.substr(0, 40) + (monitor ? " (monitor)" : "")) +
                          (monitor ? "counter accept" : "counter drop");
            } else {
                verdict = "counter accept";
            }
            std::string comment = " comment " + quoted_comment(rule_comment(r));
            std::vector<Family> families;
            if (src.any && dst.any) {
                for (const auto& svc : service_matches(r.services, Family::v4))
                    if (svc.find("icmp") == std::string::npos) rule_lines_.push_back(svc + verdict + comment);
                continue;
            }
            for (Family f : {Family::v4, Family::v6}) {
                if (!src.has(f) || !dst.has(f)) continue;
                std::string addrs = addr_match(src, f, "saddr") + addr_match(dst, f, "daddr");
                if (src.any || dst.any) addrs = fmt::format("meta nfproto {} ", f == Family::v4 ? "ipv4" : "ipv6") + addrs;
                for (const auto& svc : service_matches(r.services, f)) rule_lines_.push_back(addrs + svc + verdict + comment);
            }
        }
    }

    std::string log_clause(const std::string& what) const {
        if (!p_.log_drops) return "";
        std::string prefix = "wardgate " + what + ": ";
        for (auto& c : prefix)
            if (c == '"') c = '\'';
        if (prefix.size() > 60) prefix = prefix.substr(0, 58) + ": ";
        std::string group = p_.log_group ? fmt::format(" group {}", p_.log_group) : "";
        return fmt::format("log prefix \"{}\"{} ", prefix, group);
    }

    void sets() {
        for (const auto& [index, f] : used_sets_) {
            const auto& g = p_.groups[index];
            std::vector<std::string> elems;
            bool interval = false;
            for (const auto& pr : g.prefixes) {
                if (pr.family() != f) continue;
                interval = interval || !pr.is_host();
                elems.push_back(pr.to_string());
            }
            out_ += fmt::format("\tset {} {{\n\t\ttype {}\n", nft_group_set(g, f), f == Family::v4 ? "ipv4_addr" : "ipv6_addr");
            if (interval) out_ += "\t\tflags interval\n";
            out_ += "\t\tcomment " + quoted_comment(g.label) + "\n";
            out_ += "\t\telements = {\n" + join_elements(elems, "\t\t\t") + "\n\t\t}\n\t}\n\n";
        }
        for (Family f : {Family::v4, Family::v6}) {
            std::vector<std::string> ports, icmp;
            for (const auto& h : p_.pinholes) {
                if (h.src.family != f) continue;
                if (h.protocol == Protocol::icmp) {
                    icmp.push_back(h.src.to_string() + " . " + h.dst.to_string());
                } else {
                    ports.push_back(fmt::format("{} . {} . {} . {}", h.src.to_string(), h.dst.to_string(),
                                                to_string(h.protocol), h.port));
                }
            }
            std::string addr = f == Family::v4 ? "ipv4_addr" : "ipv6_addr";
            if (!ports.empty()) {
                out_ += fmt::format("\tset baseline_{} {{\n\t\ttype {} . {} . inet_proto . inet_service\n", family_tag(f), addr, addr);
                out_ += "\t\tcomment \"observed baseline kept by the life-cycle stance\"\n";
                out_ += "\t\telements = {\n" + join_elements(ports, "\t\t\t") + "\n\t\t}\n\t}\n\n";
                baseline_.push_back(fmt::format("{} saddr . {} daddr . meta l4proto . th dport @baseline_{} counter accept",
                                                ip_keyword(f), ip_keyword(f), family_tag(f)));
            }
            if (!icmp.empty()) {
                out_ += fmt::format("\tset baseline_icmp_{} {{\n\t\ttype {} . {}\n", family_tag(f), addr, addr);
                out_ += "\t\telements = {\n" + join_elements(icmp, "\t\t\t") + "\n\t\t}\n\t}\n\n";
                baseline_.push_back(fmt::format("meta l4proto {} {} saddr . {} daddr @baseline_icmp_{} counter accept",
                                                icmp_keyword(f), ip_keyword(f), ip_keyword(f), family_tag(f)));
            }
        }
    }

    void drop_chains() {
        auto chain = [&](const std::string& segment, bool monitor) {
            out_ += fmt::format("\tchain {} {{\n", nft_drop_chain(segment));
            if (p_.log_drops) {
                std::string group = p_.log_group ? fmt::format(" group {}", p_.log_group) : "";
                out_ += fmt::format("\t\tlog prefix \"{}\"{}\n", nft_log_prefix(segment, monitor), group);
            }
            out_ += monitor ? "\t\tcounter accept\n\t}\n\n" : "\t\tcounter drop\n\t}\n\n";
        };
        for (const auto& s : p_.segments) chain(s.name, p_.monitor(s));
        chain(kOutside, p_.mode == EnforcementMode::monitor);
    }

    void baseline_rules() {
        for (const auto& line : baseline_) out_ += "\t\t" + line + "\n";
    }

    void default_deny() {
        for (const char* dir : {"saddr", "daddr"}) {
            for (Family f : {Family::v4, Family::v6}) {
                std::vector<std::string> entries;
                for (const auto& s : p_.segments)
                    for (const auto& pr : s.subnets)
                        if (pr.family() == f) entries.push_back(pr.to_string() + " : jump " + nft_drop_chain(s.name));
                if (entries.empty()) continue;
                out_ += fmt::format("\t\t{} {} vmap {{ {} }}\n", ip_keyword(f), dir, fmt::join(entries, ", "));
            }
        }
        out_ += fmt::format("\t\tjump {}\n", nft_drop_chain(kOutside));
    }

    const Policy& p_;
    std::string out_;
    std::vector<std::string> rule_lines_, baseline_;
    std::set<std::pair<size_t, Family>> used_sets_;
};

}  // namespace

std::string nft_group_set(const AddressGroup& g, Family f) { return g.name + "_" + family_tag(f); }
std::string nft_drop_chain(const std::string& segment) { return "drop_" + segment; }
std::string nft_log_prefix(const std::string& segment, bool monitor) {
    return fmt::format("wardgate {} {}: ", monitor ? "monitor" : "drop", segment);
}

std::string render_nft(const Policy& policy) { return NftWriter(policy).write(); }

}  // namespace wardgate
