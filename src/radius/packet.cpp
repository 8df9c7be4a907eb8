#include "wardgate/radius/packet.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <stdexcept>

namespace wardgate::radius {

namespace {

constexpr size_t kHeader = 20;
constexpr size_t kMaxPacket = 4096;

std::string md5_of(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out, &n, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("RADIUS: MD5 is not available in this OpenSSL");
    return {reinterpret_cast<const char*>(out), n};
}

std::string hmac_md5_of(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), out, &n))
        throw std::runtime_error("RADIUS: HMAC-MD5 is not available in this OpenSSL");
    return {reinterpret_cast<const char*>(out), n};
}

void put_u16(std::string& out, size_t at, size_t value) {
    out[at] = static_cast<char>((value >> 8) & 0xff);
    out[at + 1] = static_cast<char>(value & 0xff);
}

// Where the Message-Authenticator's 16 octets start in an encoded packet, or 0.
size_t message_authenticator_offset(std::string_view packet) {
    size_t at = kHeader;
    while (at + 2 <= packet.size()) {
        auto type = static_cast<uint8_t>(packet[at]);
        auto len = static_cast<uint8_t>(packet[at + 1]);
        if (len < 2 || at + len > packet.size()) return 0;
        if (type == attr::message_authenticator && len == 18) return at + 2;
        at += len;
    }
    return 0;
}

}  // namespace

std::string to_string(Code c) {
    switch (c) {
        case Code::access_request: return "Access-Request";
        case Code::access_accept: return "Access-Accept";
        case Code::access_reject: return "Access-Reject";
        case Code::disconnect_request: return "Disconnect-Request";
        case Code::disconnect_ack: return "Disconnect-ACK";
        case Code::disconnect_nak: return "Disconnect-NAK";
        case Code::coa_request: return "CoA-Request";
        case Code::coa_ack: return "CoA-ACK";
        case Code::coa_nak: return "CoA-NAK";
    }
    return "code " + std::to_string(static_cast<int>(c));
}

std::string error_cause_name(uint32_t value) {
    switch (value) {
        case 201: return "Residual-Session-Context-Removed";
        case 202: return "Invalid-EAP-Packet";
        case 401: return "Unsupported-Attribute";
        case 402: return "Missing-Attribute";
        case 403: return "NAS-Identification-Mismatch";
        case 404: return "Invalid-Request";
        case 405: return "Unsupported-Service";
        case 406: return "Unsupported-Extension";
        case 407: return "Invalid-Attribute-Value";
        case 501: return "Administratively-Prohibited";
        case 502: return "Request-Not-Routable";
        case 503: return "Session-Context-Not-Found";
        case 504: return "Session-Context-Not-Removable";
        case 505: return "Other-Proxy-Processing-Error";
        case 506: return "Resources-Unavailable";
        case 507: return "Request-Initiated";
        case 508: return "Multiple-Session-Selection-Unsupported";
        default: return "Error-Cause " + std::to_string(value);
    }
}

Attribute Attribute::text(uint8_t type, std::string_view value) {
    if (value.empty() || value.size() > 253)
        throw std::invalid_argument("RADIUS attribute " + std::to_string(type) + ": 1 to 253 octets");
    return {type, std::string(value)};
}

Attribute Attribute::integer(uint8_t type, uint32_t value) {
    std::string v(4, '\0');
    for (int i = 0; i < 4; ++i) v[static_cast<size_t>(i)] = static_cast<char>((value >> (24 - 8 * i)) & 0xff);
    return {type, v};
}

Attribute Attribute::vendor(uint32_t vendor_id, uint8_t vendor_type, std::string_view value) {
    if (value.empty() || value.size() > 247) throw std::invalid_argument("RADIUS vendor attribute: 1 to 247 octets");
    std::string v = integer(0, vendor_id).value;
    v += static_cast<char>(vendor_type);
    v += static_cast<char>(value.size() + 2);
    v += value;
    return {attr::vendor_specific, v};
}

std::optional<uint32_t> Attribute::as_integer() const {
    if (value.size() != 4) return std::nullopt;
    uint32_t out = 0;
    for (char c : value) out = (out << 8) | static_cast<uint8_t>(c);
    return out;
}

const Attribute* Packet::find(uint8_t type) const {
    auto it = std::find_if(attributes.begin(), attributes.end(), [type](const Attribute& a) { return a.type == type; });
    return it == attributes.end() ? nullptr : &*it;
}

std::string encode_request(Packet& p, std::string_view secret) {
    std::string out(kHeader, '\0');
    out[0] = static_cast<char>(p.code);
    out[1] = static_cast<char>(p.id);
    for (const auto& a : p.attributes) {
        if (a.type == attr::message_authenticator) continue;  // computed below
        if (a.value.size() > 253) throw std::invalid_argument("RADIUS attribute over 253 octets");
        out += static_cast<char>(a.type);
        out += static_cast<char>(a.value.size() + 2);
        out += a.value;
    }
    const size_t mac_at = out.size() + 2;
    out += static_cast<char>(attr::message_authenticator);
    out += static_cast<char>(18);
    out += std::string(16, '\0');
    if (out.size() > kMaxPacket) throw std::invalid_argument("RADIUS packet over 4096 octets");
    put_u16(out, 2, out.size());
    // Both are computed with a zero authenticator field: first the Message-Authenticator, then
    // the Request Authenticator over the packet that holds it.
    out.replace(mac_at, 16, hmac_md5_of(secret, out));
    std::string digest = md5_of(out + std::string(secret));
    out.replace(4, 16, digest);
    std::copy(digest.begin(), digest.end(), p.authenticator.begin());
    return out;
}

std::optional<Packet> decode(std::string_view d, std::string* error) {
    auto fail = [error](std::string why) -> std::optional<Packet> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    if (d.size() < kHeader) return fail("shorter than a RADIUS header (" + std::to_string(d.size()) + " octets)");
    size_t length = (static_cast<size_t>(static_cast<uint8_t>(d[2])) << 8) | static_cast<uint8_t>(d[3]);
    if (length < kHeader || length > kMaxPacket) return fail("length field " + std::to_string(length) + " outside 20-4096");
    if (length > d.size()) return fail("length field " + std::to_string(length) + " beyond the " + std::to_string(d.size()) + " octets received");
    Packet p;
    p.code = static_cast<Code>(static_cast<uint8_t>(d[0]));
    p.id = static_cast<uint8_t>(d[1]);
    std::copy(d.begin() + 4, d.begin() + 20, p.authenticator.begin());
    size_t at = kHeader;
    while (at < length) {
        if (at + 2 > length) return fail("attribute header cut at octet " + std::to_string(at));
        auto type = static_cast<uint8_t>(d[at]);
        auto len = static_cast<uint8_t>(d[at + 1]);
        if (len < 2 || at + len > length)
            return fail("attribute " + std::to_string(type) + " at octet " + std::to_string(at) + " has length " + std::to_string(len));
        p.attributes.push_back({type, std::string(d.substr(at + 2, len - 2u))});
        at += len;
    }
    return p;
}

bool verify_response(std::string_view datagram, const Packet& request, std::string_view secret) {
    auto answer = decode(datagram);
    if (!answer || answer->id != request.id) return false;
    size_t length = (static_cast<size_t>(static_cast<uint8_t>(datagram[2])) << 8) | static_cast<uint8_t>(datagram[3]);
    std::string packet(datagram.substr(0, length));
    const std::string request_auth(request.authenticator.begin(), request.authenticator.end());
    std::string check = packet;
    check.replace(4, 16, request_auth);
    if (md5_of(check + std::string(secret)) != packet.substr(4, 16)) return false;
    if (size_t mac_at = message_authenticator_offset(packet)) {
        std::string signed_part = check;
        signed_part.replace(mac_at, 16, std::string(16, '\0'));
        if (hmac_md5_of(secret, signed_part) != packet.substr(mac_at, 16)) return false;
    } else if (answer->find(attr::message_authenticator)) {
        return false;  // one of the wrong length
    }
    return true;
}

}  // namespace wardgate::radius
