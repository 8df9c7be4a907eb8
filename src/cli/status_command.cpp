#include <iostream>

#include "common.hpp"
#include "wardgate/resolve/refresher.hpp"
#include "wardgate/service/status.hpp"

namespace wardgate::cli {

void add_status_command(CLI::App& app, int& exit_code) {
    struct Options {
        std::string socket;
        std::string format = "text";
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("status", "Ask the running gateway service (`wardgate serve`) how it is.\n"
                                             "Exit status: 0 answered, 1 the service is unreachable.");
    cmd->add_option("--socket", o->socket, "Status socket (default /run/wardgate/status.sock)");
    cmd->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o, &exit_code] {
        try {
            auto j = service::query_status(o->socket.empty() ? service::default_socket_path() : std::filesystem::path(o->socket));
            std::cout << (o->format == "json" ? j.dump(2) + "\n"
                                              : service::render_status_text(j) + render_dns_status_text(j.value("dns", nlohmann::json())));
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << "\n";
            exit_code = 1;
        }
    });
}

}  // namespace wardgate::cli
