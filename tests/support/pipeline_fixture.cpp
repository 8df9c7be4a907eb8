#include "pipeline_fixture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace wardgate::testing {

int nft_check(const std::string& ruleset, std::string& err) {
    auto base = std::filesystem::temp_directory_path() / ("wardgate-nft-" + std::to_string(::getpid()));
    std::ofstream(base.string() + ".nft") << ruleset;
    std::string cmd = "nft -c -f " + base.string() + ".nft 2>" + base.string() + ".err";
    int status = std::system(cmd.c_str());
    err = read_text(base.string() + ".err");
    std::filesystem::remove(base.string() + ".nft");
    std::filesystem::remove(base.string() + ".err");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace wardgate::testing
