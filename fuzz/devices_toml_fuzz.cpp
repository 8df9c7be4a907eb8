// devices.toml of a site directory, read through load_site with the other files valid.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    wardgate::fuzz::load_site_with("devices.toml", data, size);
    return 0;
}
