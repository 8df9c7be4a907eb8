#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "common.hpp"
#include "wardgate/core/signing.hpp"
#include "wardgate/service/logging.hpp"
#include "wardgate/service/publisher.hpp"
#include "wardgate/store/baseline_store.hpp"
#include "wardgate/store/database_roles.hpp"

namespace wardgate::cli {

namespace publish_cli {

std::string default_author() {
    if (const char* u = std::getenv("SUDO_USER"); u && *u) return u;
    if (const char* u = std::getenv("USER"); u && *u) return u;
    char buf[256] = {};
    return ::getlogin_r(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

}  // namespace publish_cli

void add_publish_command(CLI::App& app, int& exit_code) {
    struct Options {
        SiteOptions site;
        std::string to, key, author;
        bool quiet = false, watch = false;
        int debounce_ms = 500;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("publish",
                                   "Compile the site and store it as a signed policy version in PostgreSQL: the whole "
                                   "policy and each [[gateway]]'s slice, for `wardgate serve --from` to follow");
    add_site_options(*cmd, o->site);
    cmd->add_option("--to", o->to, "postgresql://... database the gateways follow")->required();
    cmd->add_option("--key", o->key, "The publisher's Ed25519 private key (PEM; `wardgate keygen` writes one)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--author", o->author, "Who publishes (default: the user)");
    cmd->add_flag("-q,--quiet", o->quiet, "Do not print the plan");
    cmd->add_flag("--watch", o->watch,
                  "Stay: publish again after every edit of the site directory, keeping what is unchanged between edits");
    cmd->add_option("--debounce-ms", o->debounce_ms, "With --watch: quiet time after an edit before publishing, in ms")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([o, &exit_code] {
        if (!is_database_url(o->to)) bad_option("--to", "expected a postgresql:// URI");
        service::PublisherOptions po;
        po.site_dir = o->site.site;
        po.to = o->to;
        po.key = o->key;
        po.author = o->author.empty() ? publish_cli::default_author() : o->author;
        po.pipeline = pipeline_options(o->site);
        if (!o->site.today.empty()) po.today = po.pipeline.today;
        po.debounce = std::chrono::milliseconds(o->debounce_ms);
        if (o->watch) {
            po.pipeline.progress = nullptr;
            service::setup_logging();
            exit_code = service::run_publisher(po);
            return;
        }
        service::Publisher publisher(po);  // a key that cannot sign stops the run before anything is compiled or stored
        auto out = publisher.publish();
        const auto& v = out.version;
        if (!o->quiet && (out.result.fresh || out.wrote_missing_plan)) std::cout << v.plan_text << "\n";
        std::string gateways;
        for (const auto& s : v.slices)
            if (!s.gateway.empty()) gateways += (gateways.empty() ? "" : ", ") + s.gateway;
        std::cout << (out.result.fresh ? fmt::format("published version {} of {} to {}", v.id, v.site, publisher.database())
                                       : fmt::format("unchanged: version {} of {} in {} holds this policy", v.id, v.site,
                                                     publisher.database()))
                  << (gateways.empty() ? " (the whole site; no [[gateway]] declared)" : " (the whole site and " + gateways + ")")
                  << "\n";
        if (!out.plan_error.empty()) {
            std::cerr << "wardgate: version " << v.id << " is published but its plan was not stored: " << out.plan_error << "\n";
            exit_code = 1;
        } else if (out.wrote_missing_plan) {
            std::cerr << "wardgate: version " << v.id << " had no plan (its publisher stopped before writing it): written now\n";
        }
    });
}

void add_keygen_command(CLI::App& app, int&) {
    struct Options {
        std::string private_key, public_key;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("keygen", "Write a publisher's Ed25519 key pair: the private key signs `wardgate publish`, "
                                             "the public key goes to every gateway (`serve --publisher-key`)");
    cmd->add_option("private", o->private_key, "Private key file to create (mode 0600; never overwritten)")->required();
    cmd->add_option("public", o->public_key, "Public key file to write")->required();
    cmd->callback([o] {
        generate_signing_key(o->private_key, o->public_key);
        std::cout << "wrote " << o->private_key << " (keep it with the publisher) and " << o->public_key
                  << " (give it to the gateways)\n";
    });
}

void add_db_setup_command(CLI::App& app, int&) {
    auto url = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("db-setup",
                                   "As the database's owner: create the baseline and policy tables and the least-privilege "
                                   "group roles wardgate_collector, wardgate_reader, wardgate_publisher and wardgate_gateway");
    cmd->add_option("--db", *url, "postgresql://owner@host/database")->required();
    cmd->callback([url] {
        if (!is_database_url(*url)) bad_option("--db", "expected a postgresql:// URI");
        set_up_database(*url);
        std::cout << "tables and roles are in place; give each host a login role of its own, granted one of "
                  << kCollectorRole << ", " << kReaderRole << ", " << kPublisherRole << " or " << kGatewayRole
                  << " (a gateway's heartbeat is named by its login)\n";
    });
}

}  // namespace wardgate::cli
