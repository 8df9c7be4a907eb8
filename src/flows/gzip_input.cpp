#include "gzip_input.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <new>

#include "wardgate/core/diagnostic.hpp"

namespace wardgate::flows_internal {

bool is_gzip(std::string_view bytes) {
    return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

namespace {

[[noreturn]] void fail(const std::string& file, uint64_t offset, const std::string& what) {
    throw InputError(Diagnostic{file, 0, 0, "", "gzip-compressed file " + what + " at compressed byte " +
                                                    std::to_string(offset) + ": nothing from it was read"});
}

struct Inflater {
    z_stream z{};
    Inflater() {
        // 16 + MAX_WBITS: a gzip header and trailer, checked (CRC-32 and length).
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
    }
    ~Inflater() { inflateEnd(&z); }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
};

}  // namespace

std::string gunzip(const std::string& file, std::string_view compressed) {
    Inflater inflater;
    z_stream& z = inflater.z;
    std::string out;
    out.reserve(compressed.size() * 4);
    const auto* next = reinterpret_cast<const Bytef*>(compressed.data());
    size_t left = compressed.size();
    char chunk[1 << 16];
    for (;;) {
        // avail_in is 32 bits: feed a large file in pieces.
        if (z.avail_in == 0 && left > 0) {
            z.next_in = const_cast<Bytef*>(next);
            z.avail_in = static_cast<uInt>(std::min<size_t>(left, std::numeric_limits<uInt>::max()));
            next += z.avail_in;
            left -= z.avail_in;
        }
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        int rc = inflate(&z, Z_NO_FLUSH);
        out.append(chunk, sizeof chunk - z.avail_out);
        const uint64_t consumed = compressed.size() - left - z.avail_in;
        if (rc == Z_STREAM_END) {
            // Another member may follow (gzip -c a b > ab.gz, or logs appended in pieces).
            if (z.avail_in == 0 && left == 0) return out;
            const auto* rest = z.next_in;
            if (z.avail_in < 2 || rest[0] != 0x1f || rest[1] != 0x8b)
                fail(file, consumed, "has bytes after its end that are not another gzip member");
            if (inflateReset(&z) != Z_OK) fail(file, consumed, "cannot be read on");
            continue;
        }
        if (rc == Z_OK || (rc == Z_BUF_ERROR && z.avail_in == 0 && left > 0)) continue;
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && left == 0) fail(file, consumed, "is cut short");
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        fail(file, consumed, std::string("is damaged (") + (z.msg ? z.msg : "zlib error " + std::to_string(rc)) + ")");
    }
}

}  // namespace wardgate::flows_internal
