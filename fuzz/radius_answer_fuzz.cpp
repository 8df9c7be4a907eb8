// What comes back from a switch asked for a change of authorisation: any datagram is decoded
// and checked against the request it may answer. Decoding must refuse what is malformed, and
// an answer that decodes must re-encode to the attributes it held.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wardgate/radius/coa.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace wardgate::radius;
    std::string_view datagram(reinterpret_cast<const char*>(data), size);
    static Packet request = [] {
        Packet p = coa_request("00:0a:f7:41:80:01", CoaCommand::reauthenticate, 0, 1764800000);
        encode_request(p, "fuzz-secret");
        return p;
    }();
    std::string error;
    auto answer = decode(datagram, &error);
    if (!answer) {
        if (error.empty()) std::abort();
        return 0;
    }
    for (const auto& a : answer->attributes) {
        if (a.value.size() > 253) std::abort();
        (void)a.as_integer();
    }
    if (const Attribute* cause = answer->find(attr::error_cause))
        if (auto v = cause->as_integer()) (void)error_cause_name(*v);
    (void)to_string(answer->code);
    (void)verify_response(datagram, request, "fuzz-secret");
    return 0;
}
