#pragma once
// Checksums of protocol v5 segments (native_protocol_v5.spec, section 2 "Framing"):
// a CRC24 protects each segment header and a CRC32 each segment payload.

#include <cstddef>
#include <cstdint>

#include "cql/protocol/bytes.hpp"

namespace cql::protocol {

/// CRC24 as Cassandra computes it for segment headers: initial value 0x875060,
/// polynomial 0x1974F0B, most significant bit first, no reflection, no final xor.
/// `data` is the header bytes exactly as they are on the wire (3 bytes for an
/// uncompressed header, 5 for a compressed one). Table driven.
inline constexpr std::uint32_t crc24_init = 0x875060;
inline constexpr std::uint32_t crc24_poly = 0x1974F0B;
std::uint32_t crc24(bytes_view data) noexcept;

/// CRC32 of a segment payload: the zlib CRC32 (IEEE, reflected) of the four bytes
/// FA 2D 55 CA followed by the payload. crc32_seed is the CRC after those four bytes,
/// so crc32(p) == crc32_update(crc32_seed, p), and a payload may be summed in pieces.
inline constexpr std::uint32_t crc32_seed = 0x44777ED3;
std::uint32_t crc32_update(std::uint32_t crc, bytes_view data) noexcept;
inline std::uint32_t crc32(bytes_view data) noexcept {
    return crc32_update(crc32_seed, data);
}

}  // namespace cql::protocol
