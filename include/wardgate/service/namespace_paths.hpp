#pragma once
// Gateways in several network namespaces of one host (an HA pair under test, one gateway per
// hospital on a shared box) keep their state apart by default: the host's namespace keeps
// the usual paths, any other namespace gets a directory of its own beneath them.
#include <cstdint>
#include <filesystem>

namespace wardgate::service {

// The inode of this process's network namespace; 0 when it is the host's (that of PID 1).
uint64_t own_network_namespace();

// `base` in the host's namespace, `base`/netns-<inode> in any other.
std::filesystem::path per_network_namespace(const std::filesystem::path& base);

}  // namespace wardgate::service
