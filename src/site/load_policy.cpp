#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

// Without a policy file every stage gets the strictest stance.
static const std::map<Lifecycle, Stance> kDefaultStances = {
    {Lifecycle::support, {true, true, true, 2, 3, std::nullopt}},
    {Lifecycle::limited_support, {false, true, false, 2, 3, std::nullopt}},
    {Lifecycle::end_of_support, {false, false, false, 2, 3, std::nullopt}},
};

void load_policy(Site& site, const FileRef& ref, Diagnostics& diags) {
    site.stances = kDefaultStances;
    const std::string& file = ref.path;
    if (!std::filesystem::is_regular_file(site.dir / file)) {
        std::error_code ec;
        const bool dangling = std::filesystem::is_symlink(std::filesystem::symlink_status(site.dir / file, ec)) &&
                              !std::filesystem::exists(site.dir / file, ec);
        // A link that leads nowhere is a mistake even where the file itself may be absent.
        if (ref.named() || dangling) {
            diags.add("site.toml", ref.line, 0, ref.field,
                      "\"" + file + "\" " +
                          (dangling ? "is a symbolic link to \"" + std::filesystem::read_symlink(site.dir / file, ec).string() +
                                          "\", which does not exist"
                           : std::filesystem::exists(site.dir / file) ? "is not a regular file"
                                                                      : "does not exist") +
                          ": its approvals, denies and stances would be lost");
        } else {
            warn(site, "site.toml", 0, ref.field,
                 "no \"" + file + "\": default stances, no approvals and no explicit denies");
        }
        return;
    }
    auto root = parse_toml(site.dir / file, file, diags);
    if (!root) return;
    TableFields top(*root, file, "", diags);
    top.reject_unknown({"stance", "approval", "deny", "role"});
    if (root->empty())
        warn(site, file, 0, "", "holds no stances, approvals or denies: default stances, no approvals and no explicit denies");
    if (auto* stances = (*root)["stance"].as_table()) {
        for (const auto& [key, node] : *stances) {
            auto stage = parse_lifecycle(key.str());
            auto* t = node.as_table();
            if (!stage || !t) {
                diags.add(file, static_cast<int>(key.source().begin.line), 0, "stance." + std::string(key.str()),
                          "expected [stance.support], [stance.limited-support] or [stance.end-of-support]");
                continue;
            }
            TableFields f(*t, file, "stance." + std::string(key.str()), diags);
            f.reject_unknown({"baseline", "approvals", "internet", "baseline_min_days", "baseline_min_connections", "vlan"});
            Stance s = kDefaultStances.at(*stage);
            s.baseline = f.boolean("baseline", s.baseline);
            s.approvals = f.boolean("approvals", s.approvals);
            s.internet = f.boolean("internet", s.internet);
            if (auto days = f.integer("baseline_min_days", false, 1, 3650)) s.baseline_min_days = static_cast<uint32_t>(*days);
            if (auto n = f.integer("baseline_min_connections", false, 1, 1000000))
                s.baseline_min_connections = static_cast<uint32_t>(*n);
            if (auto vlan = f.integer("vlan", false, 1, 4094)) s.vlan = static_cast<uint16_t>(*vlan);
            site.stances[*stage] = s;
        }
    }
    if (auto* roles = (*root)["role"].as_table()) {
        for (const auto& [key, node] : *roles) {
            const std::string field = "role." + std::string(key.str());
            auto* t = node.as_table();
            if (!t) {
                diags.add(file, static_cast<int>(key.source().begin.line), 0, field,
                          "expected a table [role.NAME] with monitor = true and a reason");
                continue;
            }
            TableFields f(*t, file, field, diags);
            f.reject_unknown({"monitor", "reason"});
            RoleMonitor r{std::string(key.str()), f.string("reason", false).value_or(""),
                          {file, static_cast<int>(key.source().begin.line)}};
            if (f.boolean("monitor", false)) site.monitored_roles.push_back(std::move(r));
        }
    } else if (root->contains("role")) {
        diags.add(file, static_cast<int>(root->get("role")->source().begin.line), 0, "role", "expected tables [role.NAME]");
    }
    for_each_table(*root, "approval", file, diags, [&](const toml::table& t) {
        TableFields f(t, file, "approval", diags);
        f.reject_unknown({"id", "from", "to", "protocol", "ports", "icmp_types", "by", "reason", "expires", "ticket", "owner",
                          "monitor"});
        Approval a;
        a.origin = f.origin();
        a.id = f.string("id", true).value_or("");
        a.ticket = f.string("ticket", false).value_or("");
        a.owner = f.string("owner", false).value_or("");
        auto from = f.peer("from", true);
        auto to = f.peer("to", true);
        auto svc = f.service(true);
        a.by = f.string("by", true).value_or("");
        a.reason = f.string("reason", true).value_or("");
        a.expires = f.date("expires");
        a.monitor = f.boolean("monitor", false);
        if (from && to && svc) {
            a.from = *from;
            a.to = *to;
            a.service = *svc;
            site.approvals.push_back(std::move(a));
        }
    });
    for_each_table(*root, "deny", file, diags, [&](const toml::table& t) {
        TableFields f(t, file, "deny", diags);
        f.reject_unknown({"id", "from", "to", "protocol", "ports", "icmp_types", "reason", "ticket", "owner", "monitor"});
        Deny d;
        d.origin = f.origin();
        d.id = f.string("id", true).value_or("");
        d.ticket = f.string("ticket", false).value_or("");
        d.owner = f.string("owner", false).value_or("");
        auto from = f.peer("from", true);
        auto to = f.peer("to", true);
        d.service = f.service(false);
        d.reason = f.string("reason", true).value_or("");
        d.monitor = f.boolean("monitor", false);
        if (from && to) {
            d.from = *from;
            d.to = *to;
            site.denies.push_back(std::move(d));
        }
    });
}

}  // namespace wardgate::site_detail
