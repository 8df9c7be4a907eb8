#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "common.hpp"
#include "wardgate/netlink/nft_apply.hpp"
#include "wardgate/plan/horizon.hpp"
#include "wardgate/plan/plan.hpp"
#include "wardgate/plan/readiness.hpp"
#include "wardgate/render/nft.hpp"
#include "wardgate/render/nft_ruleset.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate::cli {

namespace {

struct LiveSegment {
    netlink::SegmentCounters c;
    bool monitor = false;
};

// The kernel's counters of the policy's segments (and of "outside"), in the policy's order.
std::vector<LiveSegment> live_segments(const Policy& policy) {
    auto counters = netlink::read_segment_counters(kNftTable);
    std::vector<LiveSegment> out;
    auto add = [&](const std::string& name, bool monitor) {
        auto it = std::find_if(counters.begin(), counters.end(), [&](const auto& c) { return c.segment == name; });
        if (it != counters.end()) out.push_back({*it, monitor});
    };
    for (const auto& s : policy.segments) add(s.name, policy.monitor(s));
    add(kNftOutsideSegment, policy.mode == EnforcementMode::monitor);
    return out;
}

std::string live_segments_text(const std::vector<LiveSegment>& segments) {
    std::string out;
    for (const auto& s : segments) {
        out += fmt::format("  {:<20} {:<8} accepted {:>12} packets {:>14} bytes, {} {:>12} packets {:>14} bytes",
                           s.c.segment, s.monitor ? "monitor" : "enforce", s.c.accepted_packets, s.c.accepted_bytes,
                           s.monitor ? "would have dropped" : "dropped",
                           s.monitor ? s.c.would_be_dropped_packets : s.c.dropped_packets,
                           s.monitor ? s.c.would_be_dropped_bytes : s.c.dropped_bytes);
        if (!s.monitor && s.c.would_be_dropped_packets)
            out += fmt::format(", would have dropped {} packets of devices in monitor", s.c.would_be_dropped_packets);
        out += "\n";
    }
    return out;
}

}  // namespace

void add_plan_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string format = "text";
        std::string color = "auto";
        std::string state;
        bool save = false;
        bool live = false;
        std::string at;
        std::string horizon;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("plan", "Show what the compiled policy would change and which observed flows it would block.\n"
                                           "Exit status: 0 no changes, 2 changes, 1 error.");
    add_site_options(*cmd, o->site);
    add_gateway_option(*cmd, o->site);
    cmd->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--color", o->color, "Colour the text plan")->check(CLI::IsMember({"auto", "always", "never"}));
    cmd->add_option("--state", o->state, "State file to compare with (default: SITE/.wardgate/state.json)");
    cmd->add_flag("--save", o->save, "Save this policy as the new state after printing the plan");
    cmd->add_flag("--live", o->live, "Also compare with the ruleset in this host's kernel (drift; exit status 2 if any)");
    cmd->add_option("--at", o->at,
                    "YYYY-MM-DD: the policy as it will be on that day (approvals expired, life-cycle stages raised by "
                    "their dates), compared with today's instead of the saved state, and what it will block of the "
                    "flows seen so far");
    cmd->add_option("--horizon", o->horizon,
                    "N days (90d, 12w): instead of the plan, the calendar of the next N days: each day an approval "
                    "expires or a device's dates raise its stage, and the observed flows it loses");
    cmd->add_option("--db", o->site.db, "Baseline database (wardgate ingest) whose edges join the flow files")
        ->check(existing_store());
    cmd->callback([o, &exit_code] {
        if (!o->at.empty() && (o->save || o->live || !o->state.empty()))
            bad_option("--at", "compares two days' policies: it takes no --save, --live or --state");
        if (!o->horizon.empty()) {
            if (o->save || o->live || !o->state.empty() || !o->at.empty())
                bad_option("--horizon", "is a calendar from today: it takes no --at, --save, --live or --state");
            auto days = parse_horizon(o->horizon);
            if (!days) bad_option("--horizon", "expected a number of days (90d) or weeks (12w) up to ten years, got \"" + o->horizon + "\"");
            auto p = load_pipeline(o->site);
            auto h = make_horizon(p, *days);
            if (o->format == "json")
                std::cout << render_horizon_json(h).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            else
                std::cout << render_horizon_text(h);
            exit_code = h.changes.empty() ? 0 : 2;
            return;
        }
        auto p = load_pipeline(o->site);
        auto state_path = o->state.empty() ? default_state_path(p.site->dir, p.gateway) : std::filesystem::path(o->state);
        std::optional<PolicySnapshot> before;
        std::optional<Date> at;
        std::string today;
        if (!o->at.empty()) {
            at = parse_date(o->at);
            if (!at) bad_option("--at", "expected a date YYYY-MM-DD, got \"" + o->at + "\"");
            if (std::chrono::sys_days(*at) < std::chrono::sys_days(p.today))
                bad_option("--at", o->at + " is before today (" + to_string(p.today) + ")");
            before = snapshot_of(p.policy);
            today = to_string(p.today);
            auto later = recompile_on(p, *at);
            p = std::move(later);
        } else {
            before = load_state(state_path);
        }
        auto plan = make_plan(p.policy, before, p.edges, *p.book);
        if (at) {
            plan.at = to_string(*at);
            plan.today = today;
        } else {
            Plan::ReadinessSummary summary;
            auto readiness = assess_readiness(p, summary.min_days);
            const SiteNames names(*p.site);
            for (const auto& d : readiness.devices) {
                ++summary.devices;
                if (d.ready) ++summary.ready;
                const Device* device = names.device(d.device);
                if (!device || !p.site->monitor_cause(*device)) continue;
                ++summary.monitored;
                if (d.ready) summary.ready_to_leave_monitor.push_back(d.device);
            }
            plan.readiness = summary;
        }
        std::optional<netlink::Drift> drift;
        std::vector<LiveSegment> counters;
        if (o->live) {
            drift = netlink::check_drift(nft::lower_policy(p.policy));
            plan.live = LiveTable{drift->table_missing, drift->differences};
            if (!drift->table_missing) counters = live_segments(p.policy);
        }
        if (o->format == "json") {
            auto j = render_plan_json(plan);
            if (drift) {
                nlohmann::json segs = nlohmann::json::array();
                for (const auto& s : counters) {
                    segs.push_back({{"name", s.c.segment},
                                    {"mode", s.monitor ? "monitor" : "enforce"},
                                    {"accepted_packets", s.c.accepted_packets},
                                    {"accepted_bytes", s.c.accepted_bytes},
                                    {"dropped_packets", s.c.dropped_packets},
                                    {"dropped_bytes", s.c.dropped_bytes},
                                    {"would_be_dropped_packets", s.c.would_be_dropped_packets},
                                    {"would_be_dropped_bytes", s.c.would_be_dropped_bytes}});
                }
                j["live"]["segments"] = segs;
            }
            std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            std::cout << render_plan_text(plan, use_color(o->color));
            if (!counters.empty()) std::cout << "\nLive counters per segment:\n" << live_segments_text(counters);
        }
        if (o->save) {
            auto snapshot = snapshot_of(p.policy);
            snapshot.saved_at = iso_time(static_cast<double>(
                std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
            save_state(state_path, snapshot);
            std::cerr << "saved state to " << state_path.string() << "\n";
        }
        exit_code = plan.has_changes() ? 2 : 0;
    });
}

}  // namespace wardgate::cli
