// nftables objects -> an `nft -f` script.
#include <fmt/format.h>
#include <netinet/in.h>

#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate::nft {

std::string_view to_string(KeyType k) {
    switch (k) {
        case KeyType::ipv4_addr: return "ipv4_addr";
        case KeyType::ipv6_addr: return "ipv6_addr";
        case KeyType::inet_proto: return "inet_proto";
        case KeyType::inet_service: return "inet_service";
        case KeyType::icmp_type: return "icmp_type";
        case KeyType::icmpv6_type: return "icmpv6_type";
    }
    return "?";
}

std::string protocol_name(uint8_t p) {
    switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_ICMP: return "icmp";
        case IPPROTO_ICMPV6: return "ipv6-icmp";
    }
    return std::to_string(p);
}

std::string_view port_protocol_keyword(uint8_t p) {
    switch (p) {
        case IPPROTO_TCP: return "tcp";
        case IPPROTO_UDP: return "udp";
        case IPPROTO_SCTP: return "sctp";
        case IPPROTO_UDPLITE: return "udplite";
    }
    return {};
}

namespace {

std::string ip(Family f) { return f == Family::v4 ? "ip" : "ip6"; }
std::string dir_word(AddrDir d) { return d == AddrDir::saddr ? "saddr" : "daddr"; }

void append_element(std::string& out, const Element& e) {
    for (size_t i = 0; i < e.parts.size(); ++i) {
        const auto& p = e.parts[i];
        if (i) out += " . ";
        switch (p.kind) {
            case ElementPart::Kind::prefix: p.prefix.append_to(out); break;
            case ElementPart::Kind::protocol: out += protocol_name(static_cast<uint8_t>(p.value)); break;
            case ElementPart::Kind::port:
            case ElementPart::Kind::icmp_type: out += std::to_string(p.value); break;
        }
    }
    if (!e.jump.empty()) out += " : jump " + e.jump;
}

std::string match_text(const Match& m) {
    switch (m.kind) {
        case Match::Kind::nfproto: return fmt::format("meta nfproto {}", m.family == Family::v4 ? "ipv4" : "ipv6");
        case Match::Kind::address_set: return fmt::format("{} {} @{}", ip(m.family), dir_word(m.dir), m.set);
        case Match::Kind::l4proto: return "meta l4proto " + protocol_name(m.l4proto);
        case Match::Kind::dport: {
            std::vector<std::string> ports;
            for (const auto& r : m.ports) ports.push_back(r.to_string());
            std::string list = ports.size() == 1 ? ports[0] : "{ " + fmt::format("{}", fmt::join(ports, ", ")) + " }";
            return fmt::format("{} dport {}", port_protocol_keyword(m.l4proto), list);
        }
        case Match::Kind::ct_state: return fmt::format("ct state {}", fmt::join(m.states, ","));
        case Match::Kind::icmp_type: {
            std::string_view word = m.family == Family::v4 ? "icmp" : "icmpv6";
            auto name = icmp_type_name(m.family, m.icmp_type);
            std::string out = fmt::format("{} type {}", word, name.empty() ? std::to_string(m.icmp_type) : std::string(name));
            if (m.icmp_code >= 0) out += fmt::format(" {} code {}", word, m.icmp_code);
            return out;
        }
    }
    return "";
}

std::string rule_text(const Rule& r) {
    std::vector<std::string> words;
    for (const auto& m : r.matches) words.push_back(match_text(m));
    if (r.concat) {
        const auto& c = *r.concat;
        std::string key = fmt::format("{0} saddr . {0} daddr", ip(c.family));
        if (c.key == ConcatLookup::Key::protocol || c.key == ConcatLookup::Key::protocol_port) key += " . meta l4proto";
        if (c.key == ConcatLookup::Key::protocol_port) key += " . th dport";
        if (c.key == ConcatLookup::Key::icmp_type) key += c.family == Family::v4 ? " . icmp type" : " . icmpv6 type";
        words.push_back(key + " @" + c.set);
    }
    if (r.vmap) words.push_back(fmt::format("{} {} vmap @{}", ip(r.vmap->family), dir_word(r.vmap->dir), r.vmap->map));
    if (r.log) {
        std::string log = fmt::format("log prefix \"{}\"", r.log->prefix);
        if (r.log->group) log += fmt::format(" group {}", r.log->group);
        words.push_back(log);
    }
    if (r.counter) words.push_back("counter");
    switch (r.verdict.kind) {
        case Verdict::Kind::none: break;
        case Verdict::Kind::accept: words.push_back("accept"); break;
        case Verdict::Kind::drop: words.push_back("drop"); break;
        case Verdict::Kind::jump: words.push_back("jump " + r.verdict.chain); break;
    }
    if (!r.comment.empty()) words.push_back("comment \"" + r.comment + "\"");
    return fmt::format("{}", fmt::join(words, " "));
}

void print_set(std::string& out, const Set& s) {
    std::vector<std::string> key;
    for (auto k : s.key) key.push_back(std::string(to_string(k)));
    if (!s.note.empty()) out += "\t# " + s.note + "\n";
    out += fmt::format("\t{} {} {{\n\t\ttype {}{}\n", s.verdict_map ? "map" : "set", s.name, fmt::join(key, " . "),
                       s.verdict_map ? " : verdict" : "");
    if (s.interval) out += "\t\tflags interval\n";
    if (!s.comment.empty()) out += "\t\tcomment \"" + s.comment + "\"\n";
    if (!s.elements.empty()) {
        out += "\t\telements = {";
        for (size_t i = 0; i < s.elements.size(); ++i) {
            out += i % 8 == 0 ? (i ? ",\n\t\t\t" : "\n\t\t\t") : ", ";
            append_element(out, s.elements[i]);
        }
        out += "\n\t\t}\n";
    }
    out += "\t}\n\n";
}

// The script in order: `text` is handed all but the sets, `set` each set where it stands.
template <typename Text, typename SetPart>
void walk_ruleset(const Ruleset& r, bool with_header, Text&& text, SetPart&& set) {
    std::string out = "#!/usr/sbin/nft -f\n";
    if (with_header)
        for (const auto& line : r.header) out += "# " + line + "\n";
    out += fmt::format("table inet {0}\ndelete table inet {0}\n\ntable inet {0} {{\n", r.table);
    for (const auto& s : r.sets) {
        text(std::string_view(out));
        out.clear();
        set(s);
    }
    for (size_t i = 0; i < r.chains.size(); ++i) {
        const auto& c = r.chains[i];
        out += fmt::format("\tchain {} {{\n", c.name);
        if (c.base) out += "\t\ttype filter hook forward priority filter; policy drop;\n";
        for (const auto& rule : c.rules) out += "\t\t" + rule_text(rule) + "\n";
        out += i + 1 < r.chains.size() ? "\t}\n\n" : "\t}\n";
    }
    out += "}\n";
    text(std::string_view(out));
}

constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;
uint64_t fnv1a(std::string_view s, uint64_t h = kFnvBasis) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

}  // namespace

std::string print_ruleset(const Ruleset& r, bool with_header) {
    std::string text;
    walk_ruleset(r, with_header, [&](std::string_view part) { text += part; }, [&](const Set& s) { print_set(text, s); });
    return text;
}

uint64_t ruleset_digest(const Ruleset& r, SetDigests* kept) {
    uint64_t h = kFnvBasis;
    std::string set_text;
    walk_ruleset(r, false, [&](std::string_view part) { h = fnv1a(part, h); },
                 [&](const Set& s) {
                     const uint64_t* known = kept ? kept->find(s.name, s) : nullptr;
                     uint64_t digest = 0;
                     if (known) {
                         digest = *known;
                     } else {
                         set_text.clear();
                         print_set(set_text, s);
                         digest = fnv1a(set_text);
                         if (kept) kept->keep(s.name, s, digest);
                     }
                     h = fnv1a(fmt::format("{:016x}\n", digest), h);
                 });
    if (kept) kept->end_round();
    return h;
}

}  // namespace wardgate::nft
