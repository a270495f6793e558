#include "cql/protocol/crc.hpp"

#include <zlib.h>

#include <array>
#include <limits>

namespace cql::protocol {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc24_table() noexcept {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i << 16;
        for (int bit = 0; bit < 8; ++bit) {
            c <<= 1;
            if (c & 0x1000000u) c ^= crc24_poly;
        }
        table[i] = c & 0xFFFFFFu;
    }
    return table;
}

constexpr auto crc24_table = make_crc24_table();

}  // namespace

std::uint32_t crc24(bytes_view data) noexcept {
    std::uint32_t crc = crc24_init;
    for (auto b : data)
        crc = ((crc << 8) ^ crc24_table[((crc >> 16) ^ b) & 0xFFu]) & 0xFFFFFFu;
    return crc;
}

std::uint32_t crc32_update(std::uint32_t crc, bytes_view data) noexcept {
    // crc32_z takes a size_t length; older zlib only has the uInt one, so go in chunks.
    const auto* p = data.data();
    std::size_t n = data.size();
    uLong c = crc;
    constexpr std::size_t chunk = std::numeric_limits<uInt>::max() / 2;
    while (n > 0) {
        auto len = n < chunk ? n : chunk;
        c = ::crc32(c, p, static_cast<uInt>(len));
        p += len;
        n -= len;
    }
    return static_cast<std::uint32_t>(c);
}

}  // namespace cql::protocol
