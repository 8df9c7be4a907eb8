#include "wardgate/radius/coa.hpp"

#include <cctype>
#include <ctime>
#include <random>

namespace wardgate::radius {

std::string_view to_string(CoaCommand c) {
    return c == CoaCommand::reauthenticate ? "reauthenticate" : "bounce-host-port";
}

std::string_view to_string(CoaOutcome::Result r) {
    switch (r) {
        case CoaOutcome::Result::done: return "done";
        case CoaOutcome::Result::not_online: return "not online";
        case CoaOutcome::Result::refused: return "refused";
        case CoaOutcome::Result::no_answer: return "no answer";
    }
    return "?";
}

std::string calling_station_id(std::string_view mac) {
    std::string out;
    for (char c : mac) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) continue;
        if (!out.empty() && out.size() % 3 == 2) out += '-';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

Packet coa_request(std::string_view mac, CoaCommand command, uint8_t id, uint32_t event_time) {
    Packet p;
    p.code = Code::coa_request;
    p.id = id;
    p.attributes.push_back(Attribute::text(attr::calling_station_id, calling_station_id(mac)));
    p.attributes.push_back(
        Attribute::vendor(cisco_vendor_id, cisco_avpair, "subscriber:command=" + std::string(to_string(command))));
    // RFC 5176 section 3.5: lets the switch refuse a replayed request.
    p.attributes.push_back(Attribute::integer(attr::event_timestamp, event_time));
    return p;
}

CoaClient::CoaClient(std::string_view host_port, std::string secret, Options options)
    : socket_(host_port, "CoA to"), secret_(std::move(secret)), options_(options),
      next_id_(static_cast<uint8_t>(std::random_device{}() & 0xff)) {}

CoaOutcome CoaClient::send(std::string_view mac, CoaCommand command) {
    Packet request = coa_request(mac, command, next_id_++, static_cast<uint32_t>(std::time(nullptr)));
    const std::string wire = encode_request(request, secret_);
    int unsigned_answers = 0;
    for (int attempt = 0; attempt < options_.tries; ++attempt) {
        if (!socket_.send(wire)) continue;
        auto deadline = std::chrono::steady_clock::now() + options_.timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            auto datagram = socket_.receive(left);
            if (!datagram) break;
            auto answer = decode(*datagram);
            if (!answer || answer->id != request.id) continue;  // a late answer to an earlier request
            if (!verify_response(*datagram, request, secret_)) {
                ++unsigned_answers;
                continue;
            }
            if (answer->code == Code::coa_ack) return {CoaOutcome::Result::done, ""};
            if (answer->code != Code::coa_nak) continue;
            const Attribute* cause = answer->find(attr::error_cause);
            auto value = cause ? cause->as_integer() : std::nullopt;
            if (value == 503u) return {CoaOutcome::Result::not_online, error_cause_name(503)};
            return {CoaOutcome::Result::refused, value ? error_cause_name(*value) : "no Error-Cause"};
        }
    }
    std::string detail = std::to_string(options_.tries) + " tries, " + std::to_string(options_.timeout.count()) + " ms each";
    if (unsigned_answers)
        detail += "; " + std::to_string(unsigned_answers) + " answers not signed with the secret (is it the switch's?)";
    return {CoaOutcome::Result::no_answer, detail};
}

}  // namespace wardgate::radius
