#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "common.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/radius/coa_batch.hpp"
#include "wardgate/render/nac.hpp"
#include "wardgate/site/load.hpp"

namespace wardgate::cli {

namespace {

// The shared secret: the file's first line. A secret on the command line would show in `ps`.
std::string read_coa_secret(const std::string& file) {
    std::string text = read_input_file(file);
    std::string secret = text.substr(0, text.find('\n'));
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    if (secret.empty()) throw InputError(Diagnostic{file, 1, 0, "--secret-file", "the file's first line holds no secret"});
    auto perms = std::filesystem::status(file).permissions();
    if ((perms & std::filesystem::perms::others_read) != std::filesystem::perms::none)
        std::cerr << "warning: " << file << " is readable by every user: whoever reads the secret can change the "
                  << "switches' authorisations (chmod 600 it)\n";
    return secret;
}

// The operator's own command, through /bin/sh as a crontab line would run it; its exit status,
// or -1 when it could not start or was killed.
int run_shell_command(const std::string& command) {
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) return -1;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Writes the state: the answers now, and what no switch has confirmed yet.
void write_nac_state(const std::filesystem::path& out, const std::string& target,
                     const std::vector<NacAssignment>& assignments, std::vector<NacPending> pending) {
    write_file_atomically(nac_state_path(out), nac_state_text(NacState{target, assignments, std::move(pending)}));
}

}  // namespace

void add_nac_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string site, target, out, templates, today, secret_file, reload_command;
        std::string radius_group = "wardgate", coa_client;
        std::vector<std::string> coa_to;
        double coa_timeout = 3;
        bool bounce = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("nac", "Where devices plug in: the RADIUS server's files that put each device's "
                                          "switch port in its VLAN (MAC authentication bypass), or the access "
                                          "switch's configuration, or Cisco ISE's endpoints and policy");
    cmd->add_option("site", o->site, "Site directory")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("-t,--target", o->target, "freeradius (FreeRADIUS 3 files), ios-access (Cisco IOS-XE access "
                                              "switch: AAA, MAB, VLANs, the roles' port access lists) or ise (Cisco "
                                              "ISE: endpoints to import, ERS API bodies, authorization rules)")
        ->required()
        ->check(CLI::IsMember(nac_targets()));
    cmd->add_option("-o,--out", o->out, "Write the files under DIR (freeradius: mods-config/files/authorize, "
                                        "policy.d/wardgate; ios-access: ios-access/switch.cfg; ise: ise/...) "
                                        "instead of standard output");
    cmd->add_option("--radius-group", o->radius_group, "ios-access: the switch's RADIUS server group (default "
                                                       "wardgate)");
    cmd->add_option("--coa-client", o->coa_client, "ios-access: the RADIUS server's address, allowed to send Change "
                                                   "of Authorization (aaa server radius dynamic-author)");
    cmd->add_option("--templates", o->templates, "Template directory with one subdirectory per target (default: the "
                                                 "templates shipped with wardgate)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--today", o->today, "Day the devices' life-cycle dates are read against, YYYY-MM-DD (default: "
                                         "today, UTC)");
    cmd->add_option("--coa-to", o->coa_to, "After writing (needs --out), ask this switch (HOST:PORT, RFC 5176; Cisco "
                                           "listens on 1700 or 3799) to authenticate again every device whose answer "
                                           "changed since the last run; repeat for each switch")
        ->take_all();
    cmd->add_option("--secret-file", o->secret_file, "File whose first line is the RADIUS secret the switches share "
                                                     "with the CoA sender");
    cmd->add_option("--reload-command", o->reload_command, "Shell command run after writing and before any CoA, so "
                                                           "the RADIUS server answers with the new files "
                                                           "(\"systemctl reload freeradius\")");
    cmd->add_option("--coa-timeout", o->coa_timeout, "Seconds to wait for each switch's answer, 3 tries (default 3)")
        ->check(CLI::Range(0.1, 60.0));
    cmd->add_flag("--bounce-on-vlan-change", o->bounce, "For a device whose VLAN changes, bounce its port instead of "
                                                        "re-authenticating it, so it asks DHCP for an address in the new "
                                                        "VLAN (the link goes down for a moment)");
    cmd->callback([o, &exit_code] {
        if (!o->coa_to.empty() && o->out.empty()) bad_option("--coa-to", "needs --out: the changes are what differs from the files written there last");
        if (!o->coa_to.empty() && o->secret_file.empty()) bad_option("--coa-to", "needs --secret-file");
        if (!o->reload_command.empty() && o->out.empty()) bad_option("--reload-command", "needs --out");
        if (!o->coa_to.empty() && o->target != "freeradius")
            bad_option("--coa-to", "only with --target freeradius, whose answers wardgate writes: ISE sends its own "
                                   "change of authorisation when an endpoint's group changes");
        Date today = today_utc();
        if (!o->today.empty()) {
            auto d = parse_date(o->today);
            if (!d) bad_option("--today", "expected a date YYYY-MM-DD, got \"" + o->today + "\"");
            today = *d;
        }
        NacOptions options;
        if (o->radius_group.empty() || o->radius_group.find_first_of(" \t\"'") != std::string::npos)
            bad_option("--radius-group", "\"" + o->radius_group + "\" is no server group name");
        options.radius_group = o->radius_group;
        if (!o->coa_client.empty()) {
            options.coa_client = IpAddress::parse(o->coa_client);
            if (!options.coa_client) bad_option("--coa-client", "expected an IP address, got \"" + o->coa_client + "\"");
        }
        std::filesystem::path templates = o->templates.empty() ? default_template_dir() : std::filesystem::path(o->templates);
        NacResult r;
        bool configured = false;
        if (nac_target_needs_policy(o->target)) {
            // The access lists come from the compiled policy: the site with its flows.
            PipelineOptions popts;
            popts.today = today;
            Pipeline p = run_pipeline(o->site, popts);
            r = render_nac(*p.site, p.policy, o->target, templates, options);
            configured = p.site->nac.configured;
        } else {
            Site site = load_site(o->site);
            raise_stages_by_date(site, today);
            r = render_nac(site, o->target, templates);
            configured = site.nac.configured;
        }
        // Everything that can fail on input fails before anything is written.
        std::optional<NacState> before;
        std::vector<radius::CoaClient> switches;
        // Only the FreeRADIUS files answer per MAC; the state of the others would say nothing.
        const bool keeps_state = o->target == "freeradius";
        if (!o->out.empty() && keeps_state) before = read_nac_state(nac_state_path(o->out));
        if (!o->coa_to.empty()) {
            std::string secret = read_coa_secret(o->secret_file);
            radius::CoaClient::Options coa_options;
            coa_options.timeout = std::chrono::milliseconds(static_cast<long>(o->coa_timeout * 1000));
            for (const auto& peer : o->coa_to) switches.emplace_back(peer, secret, coa_options);
        }
        if (!configured) std::cerr << "warning: site.toml has no [nac] table: MACs of no device are rejected\n";
        for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
        if (o->out.empty()) {
            for (const auto& f : r.files) std::cout << "# ==> " << f.filename << " <==\n" << f.text;
            std::cout << std::flush;
            return;
        }
        for (const auto& f : r.files) {
            auto path = std::filesystem::path(o->out) / f.filename;
            // A file whose text is the same stays untouched: FreeRADIUS reloads on SIGHUP by
            // modification time, and a configuration file that looks changed (policy.d) makes it
            // re-read its configuration instead of reloading the files module.
            if (auto now = read_input_file_if_present(path); now && *now == f.text) continue;
            std::filesystem::create_directories(path.parent_path());
            write_file_atomically(path, f.text);
            // The server reads them as its own user (freerad); the passwords are the MACs, no secret;
            // the other targets' files are configuration a network team loads anyway.
            std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                   std::filesystem::perms::group_read |
                                                   std::filesystem::perms::others_read);
        }
        if (!keeps_state) return;
        std::vector<NacChange> changes = before ? nac_changes(*before, r.assignments) : std::vector<NacChange>{};
        std::vector<NacPending> pending;
        for (const auto& c : changes) pending.push_back({c.mac, c.device, c.vlan_changed});
        if (!before) {
            if (!switches.empty())
                std::cerr << "warning: " << nac_state_path(o->out).string()
                          << " does not exist (first run): no earlier answers to compare, no change of "
                             "authorisation sent\n";
        } else if (changes.empty()) {
            std::cout << "nac: no device's answer changed\n";
        }
        if (!o->reload_command.empty()) {
            int rc = run_shell_command(o->reload_command);
            if (rc != 0) {
                write_nac_state(o->out, o->target, r.assignments, pending);
                throw std::runtime_error("--reload-command \"" + o->reload_command + "\" failed (status " +
                                         std::to_string(rc) + "): the files are written, the RADIUS server may still "
                                         "answer with the old ones; no change of authorisation sent, " +
                                         std::to_string(changes.size()) + " kept pending for the next run");
            }
        }
        if (switches.empty()) {
            if (!changes.empty())
                std::cout << "nac: " << changes.size() << " devices' answers changed; without --coa-to they keep "
                          << "their current authorisation until they plug in again (kept pending)\n";
            write_nac_state(o->out, o->target, r.assignments, pending);
            return;
        }
        pending.clear();
        for (const auto& report : radius::send_nac_changes(changes, switches, o->bounce)) {
            std::cout << "coa: " << report.text() << "\n";
            if (!report.confirmed) pending.push_back({report.change.mac, report.change.device, report.change.vlan_changed});
        }
        std::cout << std::flush;
        write_nac_state(o->out, o->target, r.assignments, pending);
        if (!pending.empty()) {
            std::cerr << "warning: " << pending.size() << " devices' changes not confirmed by any switch; the next "
                      << "run with --coa-to sends them again\n";
            exit_code = 2;
        }
    });
}

}  // namespace wardgate::cli
