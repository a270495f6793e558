// Built with the flags of `pkg-config --cflags --libs cqlasio` alone (no CMake), against an
// installed cql-asio: a v4 OPTIONS frame header (spec section 2), the CRC32 of v5 segments
// (zlib) and an LZ4 round trip, so that the libraries pkg-config names really link.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <cql/protocol/bytes.hpp>
#include <cql/protocol/compression.hpp>
#include <cql/protocol/crc.hpp>
#include <cql/protocol/frame.hpp>

namespace p = cql::protocol;

int main() {
    p::byte_buffer buf;
    p::byte_writer w(buf);
    p::frame_header h;
    h.version = p::protocol_version::v4;
    h.stream = 1;
    h.op = p::opcode::options;
    p::encode_frame_header(w, h);
    const p::byte_buffer expected{0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00};
    if (buf != expected) {
        std::fprintf(stderr, "protocol_only: wrong OPTIONS header\n");
        return 1;
    }
    p::frame_header back;
    if (p::decode_frame_header(buf, back) || back.op != p::opcode::options || back.stream != 1) {
        std::fprintf(stderr, "protocol_only: header does not decode\n");
        return 1;
    }

    // The standard CRC-32 check value (zlib's CRC32 from an initial 0).
    if (p::crc32_update(0, p::as_bytes(std::string_view("123456789"))) != 0xCBF43926u) {
        std::fprintf(stderr, "protocol_only: wrong crc32\n");
        return 1;
    }

    const std::string_view text = "SELECT * FROM system.local; SELECT * FROM system.local;";
    p::byte_buffer packed;
    p::byte_buffer unpacked;
    if (p::lz4_compress(p::as_bytes(text), packed) ||
        p::lz4_decompress(packed, text.size(), unpacked) || p::as_string_view(unpacked) != text) {
        std::fprintf(stderr, "protocol_only: lz4 round trip failed\n");
        return 1;
    }
    std::printf("cqlasio pkg-config consumer: protocol %s OK\n",
                std::string(p::to_string(h.op)).c_str());
    return 0;
}
