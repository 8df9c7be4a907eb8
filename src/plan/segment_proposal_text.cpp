// The proposal as a person reviews it: what to add first, the moves, what they change.
#include <fmt/format.h>

#include "wardgate/plan/segment_proposal.hpp"

namespace wardgate {

namespace {

std::string addresses_text(const std::vector<IpAddress>& addresses) {
    std::string out;
    for (const auto& a : addresses) out += (out.empty() ? "" : " ") + a.to_string();
    return out;
}

std::string names_text(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

void needed_text(std::string& out, const std::vector<NeededSegment>& needed) {
    if (needed.empty()) return;
    out += "\nSegments to add to site.toml first (then run again to move the devices into them):\n";
    for (const auto& n : needed) {
        out += fmt::format("  {} ({}): {}\n", n.name, to_string(n.rule), n.why);
        out += fmt::format("    {} device{}: {}\n", n.devices.size(), n.devices.size() == 1 ? "" : "s",
                           names_text(n.devices));
        out += fmt::format("    [[segment]]\n    name = \"{}\"\n    kind = \"{}\"\n", n.name, to_string(n.kind));
        if (n.vlan)
            out += fmt::format("    vlan = {}\n", *n.vlan);
        else
            out += "    # vlan = ...       a VLAN the site does not use yet\n";
        if (n.with_ipv4) out += fmt::format("    # ipv4 = [...]     room for {} device{}\n", n.with_ipv4, n.with_ipv4 == 1 ? "" : "s");
        if (n.with_ipv6) out += fmt::format("    # ipv6 = [...]     room for {} device{}\n", n.with_ipv6, n.with_ipv6 == 1 ? "" : "s");
        if (n.with_ipv4) out += "    # gateway4 = ...   the gateway's address in it\n";
        if (n.with_ipv6) out += "    # gateway6 = ...\n";
    }
}

void moves_text(std::string& out, const SegmentProposal& p) {
    if (!p.moves.empty()) {
        out += fmt::format("\nMoves ({}), highest risk first (RISK: wardgate risk's score, and after the move where it changes);\nnew addresses are the lowest free in the new segment:\n",
                           p.moves.size());
        out += fmt::format("  {:<16} {:<28} {:<34} {:<10} {}\n", "DEVICE", "FROM -> TO", "ADDRESSES", "RISK", "RULE");
        for (const auto& m : p.moves) {
            out += fmt::format("  {:<16} {:<28} {:<34} {:<10} {}\n", m.device, m.from + " -> " + m.to,
                               addresses_text(m.before) + " -> " + addresses_text(m.after),
                               m.risk_after == m.risk_before ? std::to_string(m.risk_before)
                                                             : fmt::format("{} -> {}", m.risk_before, m.risk_after),
                               to_string(m.rule));
            out += "      " + m.why + "\n";
        }
    }
    if (!p.held.empty()) {
        out += "\nMoves the rules want that cannot be made as the site stands:\n";
        for (const auto& h : p.held) out += fmt::format("  {} -> {}: {}\n", h.device, h.to, h.why);
    }
}

void rules_text(std::string& out, const SegmentProposal& p) {
    if (p.moves.empty()) return;
    out += fmt::format("\nRules: {} before, {} after; pinholes: {} before, {} after\n", p.rules_before, p.rules_after,
                       p.pinholes_before, p.pinholes_after);
    for (const auto& c : p.rules) {
        const char* kind = c.kind == RuleChange::Kind::added ? "added" : c.kind == RuleChange::Kind::removed ? "removed" : "changed";
        out += fmt::format("  {:<8} {} {} {} -> {} {}\n", kind, c.rule.id, c.rule.action, c.rule.src, c.rule.dst,
                           c.rule.services);
        if (c.before && c.before->services != c.rule.services)
            out += fmt::format("           was {}\n", c.before->services);
        if (c.before && c.before->src_members != c.rule.src_members)
            out += fmt::format("           source was {}\n", names_text(c.before->src_members));
        if (c.before && c.before->dst_members != c.rule.dst_members)
            out += fmt::format("           destination was {}\n", names_text(c.before->dst_members));
    }
    if (p.rules.empty()) out += "  no rule changes\n";
    if (!p.pinholes_lost.empty()) {
        out += fmt::format(
            "\nObserved baseline left behind ({}): pinholes are kept per address, so these return only once the\n"
            "devices are seen at their new addresses long enough; approve what must not stop in the meantime:\n",
            p.pinholes_lost.size());
        for (const auto& h : p.pinholes_lost)
            out += fmt::format("  {} ({}) -> {} ({}) {}\n", h.src, h.src_ip, h.dst, h.dst_ip, h.service);
    }
}

void paths_text(std::string& out, const std::vector<PathChange>& paths) {
    if (paths.empty()) return;
    size_t blocked = std::count_if(paths.begin(), paths.end(), [](const PathChange& c) { return c.blocked_after; });
    out += fmt::format("\nObserved flows whose path changes ({}; {} would be blocked after the moves):\n", paths.size(),
                       blocked);
    for (const auto& c : paths) {
        out += fmt::format("  {}{} ({}) -> {} ({}) {}, {} connection{}\n", c.blocked_after ? "BLOCKED " : "", c.initiator,
                           c.initiator_ip, c.responder, c.responder_ip, c.service, c.connections,
                           c.connections == 1 ? "" : "s");
        out += "      before: " + c.before + "\n      after:  " + c.after + "\n";
    }
}

}  // namespace

std::string render_segment_proposal(const SegmentProposal& p) {
    std::string out = fmt::format("Proposed segmentation, {} ({})\n\nRules of the proposal:\n", p.site, p.today);
    for (auto r : {PlacementRule::end_of_support_apart, PlacementRule::clinical_in_device_segment,
                   PlacementRule::same_needs_together})
        out += fmt::format("  {:<27} {}\n", to_string(r), rule_text(r));
    if (p.empty()) {
        out += "\nEvery device is where the rules want it: nothing to move.\n";
        return out;
    }
    needed_text(out, p.needed);
    moves_text(out, p);
    rules_text(out, p);
    paths_text(out, p.paths);
    if (!p.moves.empty())
        out += "\nBefore the moves: reserve the new addresses in DHCP (or change them in the patch to the ones you\n"
               "reserve), and approve what is marked BLOCKED that must not stop, or put the new segments in monitor\n"
               "until their baseline matures. Then apply the inventory patch, review `wardgate plan`, and let\n"
               "`wardgate nac` move the devices' ports into their new VLANs.\n";
    if (!p.patch.by_hand.empty()) {
        out += "\nEdits the inventory patch could not write (make them by hand):\n";
        for (const auto& h : p.patch.by_hand) out += "  " + h + "\n";
    }
    return out;
}

}  // namespace wardgate
