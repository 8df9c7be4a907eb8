// What a client writes to the service's status socket, answered as the service answers it.
// The reply must always be one line of valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "service/status_socket.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace wardgate::service::detail;
    auto answer = [](const nlohmann::json& request) {
        return answer_request(request, [] { return nlohmann::json{{"state", "enforcing"}, {"site", "ward \xc3\xa9"}}; });
    };
    std::string reply = reply_to(std::string_view(reinterpret_cast<const char*>(data), size), answer);
    if (reply.empty() || reply.back() != '\n' || reply.find('\n') != reply.size() - 1) std::abort();
    if (nlohmann::json::parse(reply, nullptr, false).is_discarded()) std::abort();
    return 0;
}
