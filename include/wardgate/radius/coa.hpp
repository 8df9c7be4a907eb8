#pragma once
// Change of authorisation (RFC 5176): after the RADIUS server's answers for a device change,
// the switch the device is plugged into must authenticate it again to apply them. wardgate
// sends the switch a CoA-Request naming the device by its MAC (Calling-Station-Id), with the
// command Cisco switches (and the many that follow Cisco's attributes) act on.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "wardgate/core/udp.hpp"
#include "wardgate/radius/packet.hpp"

namespace wardgate::radius {

enum class CoaCommand {
    reauthenticate,    // ask RADIUS again, keep the link up
    bounce_host_port,  // link down and up, so the device renews its DHCP lease in the new VLAN
};
std::string_view to_string(CoaCommand c);

// The MAC as switches report it in Calling-Station-Id: "00-1A-2B-3C-4D-5E".
std::string calling_station_id(std::string_view mac);

// The request asking the switch to run `command` on the session of the device with `mac`.
Packet coa_request(std::string_view mac, CoaCommand command, uint8_t id, uint32_t event_time);

struct CoaOutcome {
    enum class Result {
        done,         // CoA-ACK
        not_online,   // CoA-NAK Session-Context-Not-Found: the device is not on that switch now
        refused,      // any other CoA-NAK
        no_answer,    // nothing signed with the secret came back
    };
    Result result = Result::no_answer;
    std::string detail;  // the Error-Cause, or why no answer counted
};
std::string_view to_string(CoaOutcome::Result r);

class CoaClient {
public:
    struct Options {
        std::chrono::milliseconds timeout{3000};  // per try
        int tries = 3;
    };
    // Throws std::runtime_error when the switch's address does not resolve.
    CoaClient(std::string_view host_port, std::string secret, Options options);
    CoaClient(std::string_view host_port, std::string secret) : CoaClient(host_port, std::move(secret), Options{}) {}

    CoaOutcome send(std::string_view mac, CoaCommand command);
    const std::string& peer() const { return socket_.peer(); }

private:
    UdpConnection socket_;
    std::string secret_;
    Options options_;
    uint8_t next_id_;
};

}  // namespace wardgate::radius
