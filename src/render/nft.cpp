#include "wardgate/render/nft.hpp"

#include <fmt/format.h>

#include "wardgate/render/nft_ruleset.hpp"

namespace wardgate {

std::string nft_group_set(const AddressGroup& g, Family f) { return g.name + (f == Family::v4 ? "_v4" : "_v6"); }
std::string nft_drop_chain(const std::string& segment) { return "drop_" + segment; }
std::string nft_accept_chain(const std::string& segment) { return "accept_" + segment; }
std::string nft_log_prefix(const std::string& segment, bool monitor) {
    return fmt::format("wardgate {} {}: ", monitor ? "monitor" : "drop", segment);
}

std::string render_nft(const Policy& policy) { return nft::print_ruleset(nft::lower_policy(policy)); }

}  // namespace wardgate
