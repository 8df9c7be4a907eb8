// NetFlow v5, v9 and IPFIX datagrams through one decoder, so templates sent in one datagram
// are used by the next. Input: datagrams, each preceded by its length (2 bytes, big endian);
// the first byte picks the exporter (two exporters share nothing).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "wardgate/flows/netflow.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    wardgate::netflow::DecoderOptions options;
    options.max_held_sets = 4;
    wardgate::netflow::Decoder decoder(options);
    wardgate::netflow::Exporter exporters[2];
    exporters[0].address = *wardgate::IpAddress::parse("192.0.2.1");
    exporters[0].port = 2055;
    exporters[1].address = *wardgate::IpAddress::parse("2001:db8::1");
    exporters[1].port = 4739;
    const auto& exporter = exporters[data[0] & 1];
    size_t at = 1;
    while (at + 2 <= size) {
        size_t length = (size_t{data[at]} << 8) | data[at + 1];
        at += 2;
        if (length > size - at) length = size - at;
        for (const auto& record : decoder.decode(exporter, data + at, length)) wardgate::fuzz::show_times(record.flow);
        at += length;
    }
    (void)decoder.sampling();
    (void)decoder.malformations();
    return 0;
}
