#include "pcapng_interfaces.hpp"

#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "wardgate/core/diagnostic.hpp"

namespace wardgate::flows_internal {

namespace {

constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescription = 0x00000001;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

uint32_t load32(std::string_view bytes, size_t at, bool swap) {
    uint32_t v;
    std::memcpy(&v, bytes.data() + at, 4);
    return swap ? __builtin_bswap32(v) : v;
}

uint16_t load16(std::string_view bytes, size_t at, bool swap) {
    uint16_t v;
    std::memcpy(&v, bytes.data() + at, 2);
    return swap ? __builtin_bswap16(v) : v;
}

struct Interface {
    size_t snaplen_at;  // byte offset of the snapshot length field
    uint16_t link_type;
    uint32_t snaplen;
};

std::string link_name(uint16_t link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    return std::to_string(link_type) + (name ? std::string(" (") + name + ")" : "");
}

}  // namespace

std::optional<std::string> unify_pcapng_snapshot_lengths(const std::string& file, std::string_view bytes) {
    if (bytes.size() < 12 || load32(bytes, 0, false) != kSectionHeader) return std::nullopt;
    std::vector<Interface> interfaces;
    bool swap = false;
    for (size_t at = 0; at + 12 <= bytes.size();) {
        const uint32_t type = load32(bytes, at, false);  // the section header's type reads the same both ways
        if (type == kSectionHeader) {
            uint32_t magic = load32(bytes, at + 8, false);
            if (magic == kByteOrderMagic)
                swap = false;
            else if (magic == __builtin_bswap32(kByteOrderMagic))
                swap = true;
            else
                break;
        }
        const uint32_t length = load32(bytes, at + 4, swap);
        if (length < 12 || length % 4 != 0 || length > bytes.size() - at) break;
        if ((swap ? __builtin_bswap32(type) : type) == kInterfaceDescription && length >= 20)
            interfaces.push_back({at + 12, load16(bytes, at + 8, swap), load32(bytes, at + 12, swap)});
        at += length;
    }
    if (interfaces.size() < 2) return std::nullopt;
    bool same_snaplen = true;
    for (size_t i = 1; i < interfaces.size(); ++i) {
        if (interfaces[i].link_type != interfaces[0].link_type)
            throw InputError(Diagnostic{
                file, 0, 0, "",
                "interface " + std::to_string(i) + " has link type " + link_name(interfaces[i].link_type) +
                    " and interface 0 link type " + link_name(interfaces[0].link_type) +
                    ": one capture is read with one link type; split it by interface (tshark -r FILE -Y "
                    "'frame.interface_id == N' -w PART) and list the parts"});
        same_snaplen &= interfaces[i].snaplen == interfaces[0].snaplen;
    }
    if (same_snaplen) return std::nullopt;
    std::string copy(bytes);
    for (const auto& i : interfaces) std::memset(copy.data() + i.snaplen_at, 0, 4);  // 0: no limit
    return copy;
}

}  // namespace wardgate::flows_internal
