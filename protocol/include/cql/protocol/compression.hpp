#pragma once
// LZ4 as the CQL native protocol uses it.
//
// - Protocol v5: each segment payload may be one raw LZ4 block; the segment header
//   carries the uncompressed length (see segment.hpp).
// - Protocol v4 (spec section 5): a compressed frame body is the uncompressed length
//   as a 4-byte big-endian [int], followed by one raw LZ4 block.
//
// Decompression checks every size before writing and never allocates more than the
// caller's maximum, nor more than the compressed input can possibly expand to.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "cql/protocol/bytes.hpp"
#include "cql/protocol/frame.hpp"

namespace cql::protocol {

enum class compression_algorithm : std::uint8_t { none, lz4 };

/// "lz4" for the STARTUP COMPRESSION option; empty for none.
std::string_view to_string(compression_algorithm c) noexcept;

/// Largest input LZ4 accepts (LZ4_MAX_INPUT_SIZE) and the worst case output size for
/// `n` input bytes (0 when n is too large).
std::size_t lz4_max_input_size() noexcept;
std::size_t lz4_compress_bound(std::size_t n) noexcept;

/// The most bytes a raw LZ4 block of `compressed_size` bytes can decode to. A declared
/// uncompressed size above this is corrupt, whatever the block holds.
inline constexpr std::uint64_t lz4_max_expansion(std::size_t compressed_size) noexcept {
    return 255u * static_cast<std::uint64_t>(compressed_size) + 255u;
}

/// Compresses `in` as one raw LZ4 block into `out`, which must hold at least
/// lz4_compress_bound(in.size()) bytes for the call to be sure to succeed. Returns the
/// compressed size, or 0 when the block did not fit or the input is too large.
std::size_t lz4_compress_into(bytes_view in, std::span<std::uint8_t> out) noexcept;

/// Appends one raw LZ4 block of `in` to `out`. compression_failed if LZ4 refuses.
std::error_code lz4_compress(bytes_view in, byte_buffer& out);

/// Decodes a raw LZ4 block that must expand to exactly out.size() bytes.
/// decompression_failed for corrupt input or any other size.
std::error_code lz4_decompress_into(bytes_view in, std::span<std::uint8_t> out) noexcept;

/// Appends the decompression of a raw LZ4 block that must expand to exactly
/// `uncompressed_size` bytes. The size is checked against max_size (body_too_large)
/// and against what the input can expand to (decompression_failed) before `out` grows.
/// On error `out` is left as it was.
std::error_code lz4_decompress(bytes_view in, std::size_t uncompressed_size, byte_buffer& out,
                               std::size_t max_size = default_max_body_size);

/// Protocol v4 frame body compression: appends [int uncompressed length][LZ4 block].
/// compression_failed for a body LZ4 cannot take.
std::error_code compress_frame_body_lz4(bytes_view body, byte_buffer& out);

/// Protocol v4 frame body decompression: appends the original body to `out`.
/// truncated for fewer than 4 bytes, invalid_length for a negative length,
/// body_too_large above max_body_size, decompression_failed for corrupt data or a length
/// that does not match. On error `out` is left as it was.
std::error_code decompress_frame_body_lz4(bytes_view compressed, byte_buffer& out,
                                          std::uint32_t max_body_size = default_max_body_size);

}  // namespace cql::protocol
