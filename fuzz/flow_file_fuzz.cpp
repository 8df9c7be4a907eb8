// A flow file as `wardgate plan` and `ingest` open it: read_flow_file on the input as a file's
// whole content, so gzip decompression, format detection and every reader behind it are in
// reach. The bytes live in a memory file (memfd), opened through /proc like any path.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/flows/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const int fd = ::memfd_create("flow-file", MFD_CLOEXEC);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
    wardgate::Aggregator out;
    try {
        auto summary = wardgate::read_flow_file(path, out);
        // A file read with a warning must say where; incomplete implies a warning.
        if (summary.incomplete && summary.warnings.empty()) __builtin_trap();
    } catch (const wardgate::InputError&) {
    }
    wardgate::fuzz::show_times(out);
    return 0;
}
