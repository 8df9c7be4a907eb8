#include "wardgate/service/namespace_paths.hpp"

#include <sys/stat.h>

#include <string>

namespace wardgate::service {

uint64_t own_network_namespace() {
    struct stat own {}, host {};
    if (::stat("/proc/self/ns/net", &own) != 0) return 0;
    // PID 1's namespace cannot be read without privileges; then only the own one is known,
    // and a namespace of its own is what a gateway under test or a container has.
    if (::stat("/proc/1/ns/net", &host) == 0 && host.st_ino == own.st_ino && host.st_dev == own.st_dev) return 0;
    return static_cast<uint64_t>(own.st_ino);
}

std::filesystem::path per_network_namespace(const std::filesystem::path& base) {
    const uint64_t ns = own_network_namespace();
    return ns == 0 ? base : base / ("netns-" + std::to_string(ns));
}

}  // namespace wardgate::service
