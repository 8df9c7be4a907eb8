// iptables-restore --noflush: wardgate's own chains of the filter table for IPv4 (the main
// file) and IPv6 (a companion file for ip6tables-restore), mirroring the nftables ruleset in
// the chain wg-forward that FORWARD jumps to: replies by connection state, explicit denies
// (a log rule, then the drop), allows, the observed baseline, then a logged default deny per
// segment. Loading flushes and refills only wardgate's chains. Address lists of kIpsetMin or
// more prefixes become ipsets, written to a third file for `ipset restore -exist`, loaded
// first; each is filled under a temporary name and swapped in.
#include <fmt/format.h>

#include "export_common.hpp"

namespace wardgate::export_detail {

namespace {

constexpr size_t kIpsetMin = 4;
constexpr size_t kIptablesCommentMax = 255;
constexpr size_t kNflogPrefixMax = 64;
constexpr size_t kLogPrefixMax = 29;
constexpr size_t kMultiportMax = 15;  // ports per multiport match; a range counts twice
constexpr const char* kForwardChain = "wg-forward";
constexpr size_t kIpsetNameMax = 31;
constexpr const char* kIpsetTemporary = "-t";  // suffix of the set a list is filled in

class IptablesView {
public:
    explicit IptablesView(const Model& m)
        : m_(m),
          chains_({28, "-_", {"INPUT", "OUTPUT", "FORWARD", "ACCEPT", "DROP", "RETURN", "QUEUE", "LOG", "NFLOG",
                              "REJECT", "MARK", "CONNMARK", kForwardChain},
                   {}, false, "wg-"}),
          sets_({kIpsetNameMax - 2, "-_.", {}, {}, false, "wg-"}) {}

    ExportResult build(const std::filesystem::path& dir) {
        std::string base = file_safe(m_.policy.site);
        ExportResult r;
        r.filename = base + "-iptables.rules";
        std::string v6_file = base + "-iptables.v6.rules";
        std::string ipset_file = base + "-iptables.ipset";
        View sets = make_list();
        plan_sets(sets);
        for (Family f : {Family::v4, Family::v6}) {
            View v = header_view(m_, "iptables");
            v.set("family", family_name(f));
            v.set("tool", std::string(f == Family::v4 ? "iptables" : "ip6tables"));
            v.set("rules_file", r.filename);
            v.set("v6_file", v6_file);
            v.set("ipset_file", ipset_file);
            v.set("drop_invalid", m_.policy.mode == EnforcementMode::enforce);
            v.set("forward_chain", std::string(kForwardChain));
            fill_family(v, f);
            std::string text = render_template(dir, "rules.mustache", v);
            if (f == Family::v4) {
                r.text = text;
            } else {
                r.companions.push_back({v6_file, text});
            }
        }
        View v = header_view(m_, "iptables");
        v.set("rules_file", r.filename);
        v.set("v6_file", v6_file);
        v.set("ipset_file", ipset_file);
        v.set("sets", sets);
        r.companions.push_back({ipset_file, render_template(dir, "ipsets.mustache", v)});
        r.warnings = std::move(warnings_);
        check_addresses(r.combined(), m_, "iptables", r.warnings);
        return r;
    }

private:
    // Names an ipset for every group and family with a long address list.
    void plan_sets(View& sets) {
        for (const auto& [index, families] : m_.group_families()) {
            const auto& g = m_.policy.groups[index];
            for (Family f : families) {
                std::vector<Prefix> prefixes;
                for (const auto& p : g.prefixes)
                    if (p.family() == f) prefixes.push_back(p);
                if (prefixes.size() < kIpsetMin) continue;
                std::string name = sets_(g.name + (f == Family::v4 ? ":4" : ":6"),
                                         "wg-" + g.name + (f == Family::v4 ? "-4" : "-6"));
                set_names_[{index, f}] = name;
                View s = make_object();
                s.set("name", name);
                s.set("temporary", name + kIpsetTemporary);
                s.set("family", std::string(f == Family::v4 ? "inet" : "inet6"));
                s.set("comment", one_line(group_comment(g), 200));
                View entries = make_list();
                for (const auto& p : prefixes) {
                    View e = make_object();
                    e.set("value", p.address.to_string() + "/" + std::to_string(p.length));
                    entries.push_back(e);
                }
                s.set("entries", entries);
                sets.push_back(s);
            }
        }
    }

    // "-s a,b" or "-m set --match-set NAME src", empty for "any".
    std::string address_match(const Side& s, Family f, bool source) {
        if (s.any()) return "";
        const char* flag = source ? "-s" : "-d";
        if (s.group) {
            auto it = set_names_.find({static_cast<size_t>(s.group - m_.policy.groups.data()), f});
            if (it != set_names_.end()) return fmt::format("-m set --match-set {} {}", it->second, source ? "src" : "dst");
        }
        std::string list;
        for (const auto& p : s.prefixes(f))
            list += (list.empty() ? "" : ",") + p.address.to_string() + "/" + std::to_string(p.length);
        return std::string(flag) + " " + list;
    }

    // Protocol and port matches, one per rule line, with the reasons that cover them; a
    // single empty match for "every protocol".
    std::vector<std::pair<std::string, std::string>> service_matches(const ExportRule& r, Family f) {
        if (r.services.empty()) return {{"", r.comment()}};
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& s : r.services) {
            // Protocols beyond the ones iptables names itself go by number: names come from the
            // gateway's /etc/protocols, which may lack them.
            std::string proto = has_ports(s.protocol) ? to_string(s.protocol) : std::to_string(static_cast<int>(s.protocol));
            std::string why = r.comment(s.protocol);
            if (s.protocol == Protocol::icmp) {
                std::string icmp = f == Family::v4 ? "-p icmp" : "-p ipv6-icmp";
                if (s.icmp_types.empty()) out.push_back({icmp, why});
                for (const auto& t : s.icmp_types) {
                    if (t.family != f) continue;
                    std::string type = std::to_string(t.type) + (t.code < 0 ? "" : "/" + std::to_string(t.code));
                    out.push_back({fmt::format("{} --{}-type {}", icmp, f == Family::v4 ? "icmp" : "icmpv6", type), why});
                }
            } else if (s.ports.empty()) {
                out.push_back({"-p " + proto, why});
            } else if (s.ports.size() == 1) {
                out.push_back({fmt::format("-p {} --dport {}", proto, ports_text(s.ports, ",", ":")), why});
            } else {
                std::vector<PortRange> chunk;
                size_t weight = 0;
                auto flush = [&] {
                    out.push_back({fmt::format("-p {} -m multiport --dports {}", proto, ports_text(chunk, ",", ":")), why});
                    chunk.clear();
                    weight = 0;
                };
                for (const auto& pr : s.ports) {
                    size_t w = pr.first == pr.last ? 1 : 2;
                    if (weight + w > kMultiportMax) flush();
                    chunk.push_back(pr);
                    weight += w;
                }
                flush();
            }
        }
        return out;
    }

    std::string log_rule(const std::string& prefix) {
        if (m_.policy.log_group)
            return fmt::format("-j NFLOG --nflog-group {} --nflog-prefix \"{}\"", m_.policy.log_group,
                               one_line(prefix, kNflogPrefixMax));
        if (prefix.size() > kLogPrefixMax && !warned_log_prefix_) {
            warnings_.push_back(fmt::format("iptables: log prefixes are cut to {} characters (LOG target limit; set "
                                            "log_group to log through NFLOG instead)",
                                            kLogPrefixMax));
            warned_log_prefix_ = true;
        }
        return fmt::format("-j LOG --log-prefix \"{}\"", one_line(prefix.substr(0, kLogPrefixMax), kLogPrefixMax));
    }

    View log_chain(const std::string& name, const std::string& prefix, bool accept) {
        View c = make_object();
        c.set("name", name);
        c.set("has_log", m_.policy.log_drops);
        c.set("log", log_rule(prefix));
        c.set("verdict", std::string(accept ? "ACCEPT" : "DROP"));
        return c;
    }

    void fill_family(View& v, Family f) {
        View rules = make_list(), defaults = make_list();
        for (size_t index = 0; index < m_.rules.size(); ++index) {
            const ExportRule& r = m_.rules[index];
            if (!has_family(r, f)) continue;
            std::string target = r.accept ? "ACCEPT" : "DROP";
            // Logged rules log in a rule of their own just before the verdict: a chain per rule
            // would outlive the rule when the next export leaves it out.
            bool logged = r.log;
            std::string addrs = address_match(r.src, f, true);
            std::string dst = address_match(r.dst, f, false);
            addrs += (addrs.empty() || dst.empty() ? "" : " ") + dst;
            for (const auto& [svc, comment] : service_matches(r, f)) {
                std::string spec = addrs + (addrs.empty() || svc.empty() ? "" : " ") + svc;
                View line = make_object();
                line.set("spec", spec);
                line.set("has_spec", !spec.empty());
                line.set("comment", one_line(r.name + ": " + comment, kIptablesCommentMax));
                line.set("target", target);
                line.set("has_log", logged);
                line.set("log", logged ? log_rule(r.log_prefix) : std::string());
                rules.push_back(line);
            }
        }
        for (const char* flag : {"-s", "-d"}) {
            for (const auto& z : m_.zones) {
                if (!z.segment) continue;
                for (const auto& p : z.segment->subnets) {
                    if (p.family() != f) continue;
                    View d = make_object();
                    d.set("spec", fmt::format("{} {}/{}", flag, p.address.to_string(), p.length));
                    d.set("has_spec", true);
                    d.set("target", drop_chain(z));
                    defaults.push_back(d);
                }
            }
        }
        View last = make_object();
        last.set("spec", std::string());
        last.set("has_spec", false);
        last.set("target", drop_chain(m_.zones.back()));
        defaults.push_back(last);
        View drops = make_list();
        for (const auto& z : m_.zones) drops.push_back(log_chain(drop_chain(z), z.log_prefix, z.monitor));
        v.set("drop_chains", drops);
        v.set("rules", rules);
        v.set("defaults", defaults);
    }

    std::string drop_chain(const Zone& z) { return chains_("drop:" + z.name, "wg-drop-" + z.name); }

    const Model& m_;
    Namer chains_, sets_;
    std::map<std::pair<size_t, Family>, std::string> set_names_;
    bool warned_log_prefix_ = false;
    std::vector<std::string> warnings_;
};

}  // namespace

ExportResult export_iptables(const Model& m, const std::filesystem::path& templates) {
    return IptablesView(m).build(templates);
}

}  // namespace wardgate::export_detail
