// The capture reader over the input as a whole pcap or pcapng file (libpcap reads it from memory).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "flows/pcap_reader.hpp"
#include "fuzz_support.hpp"
#include "wardgate/core/diagnostic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string file = "capture.pcap";
    // A small flow table so that eviction of the least recently active flow is reached too.
    wardgate::PcapOptions options;
    options.max_flows = 8;
    uint64_t flows = 0;
    try {
        (void)wardgate::flows_internal::read_pcap_bytes(
            file, std::string_view(reinterpret_cast<const char*>(data), size),
            [&](const wardgate::PcapFlow& flow) {
                ++flows;
                wardgate::fuzz::show_times(flow.record);
            }, {}, options);
    } catch (const wardgate::InputError&) {
    }
    return 0;
}
