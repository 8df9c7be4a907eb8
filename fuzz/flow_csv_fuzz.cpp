// The flow reader behind read_flow_file, over the input as the file's whole content.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "flows/readers_internal.hpp"
#include "fuzz_support.hpp"
#include "wardgate/core/diagnostic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string file = "flows.csv";
    wardgate::Aggregator out;
    try {
        (void)wardgate::flows_internal::read_flow_csv_text(file, std::string_view(reinterpret_cast<const char*>(data), size), out, {});
    } catch (const wardgate::InputError&) {
    }
    wardgate::fuzz::show_times(out);
    return 0;
}
