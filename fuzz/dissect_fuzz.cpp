// The application dissectors on one flow's first payloads. Byte 0 picks the transport
// (bit 0: UDP) and the DHCPv6 ports (bit 1); byte 1 where the initiator's payload ends and
// the responder's begins (as a share of the rest). Nothing may read past the payload, and
// a recognised flow must name a known application; a DHCP message read on its own names
// its client and type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "wardgate/flows/dissect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace wardgate;
    if (size < 2) return 0;
    const uint8_t protocol = (data[0] & 1) ? 17 : 6;
    const uint16_t port = (data[0] & 2) ? 547 : 4006;
    std::span<const uint8_t> rest(data + 2, size - 2);
    const size_t split = rest.size() * data[1] / 255;
    PayloadClues initiator, responder;
    inspect_payload(protocol, 40000, port, rest.subspan(0, split), initiator);
    inspect_payload(protocol, port, 40000, rest.subspan(split), responder);
    // A second packet from each side, as the flow table gives them.
    inspect_payload(protocol, 40000, port, rest.subspan(split / 2), initiator);
    if (auto r = recognise(initiator, responder)) {
        if (static_cast<int>(r->application) >= kApplicationCount) std::abort();
        if (to_string(r->application).empty()) std::abort();
    }
    // Every DHCP message is read on its own as well (each client's announcement).
    if (protocol == 17) {
        const bool v6 = data[0] & 2;
        auto a = dhcp_announcement(v6 ? 546 : 68, v6 ? 547 : 67, rest);
        if (a && (a->subject.ends_with(' ') || a->detail.empty())) std::abort();  // a message always has a type
    }
    return 0;
}
