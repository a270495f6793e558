#include "cql/protocol/compression.hpp"

#include <lz4.h>

#include <limits>

namespace cql::protocol {

std::string_view to_string(compression_algorithm c) noexcept {
    switch (c) {
        case compression_algorithm::none:
            return "";
        case compression_algorithm::lz4:
            return "lz4";
    }
    return "";
}

std::size_t lz4_max_input_size() noexcept {
    return LZ4_MAX_INPUT_SIZE;
}

std::size_t lz4_compress_bound(std::size_t n) noexcept {
    if (n > LZ4_MAX_INPUT_SIZE) return 0;
    return static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n)));
}

std::size_t lz4_compress_into(bytes_view in, std::span<std::uint8_t> out) noexcept {
    if (in.size() > LZ4_MAX_INPUT_SIZE) return 0;
    // LZ4 wants non-null pointers even for empty ranges.
    static const char empty = 0;
    const char* src = in.empty() ? &empty : reinterpret_cast<const char*>(in.data());
    auto capacity = out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())
                        ? std::numeric_limits<int>::max()
                        : static_cast<int>(out.size());
    if (capacity == 0) return 0;
    int n = LZ4_compress_default(src, reinterpret_cast<char*>(out.data()),
                                 static_cast<int>(in.size()), capacity);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::error_code lz4_compress(bytes_view in, byte_buffer& out) {
    auto bound = lz4_compress_bound(in.size());
    if (bound == 0) return codec_errc::compression_failed;
    auto start = out.size();
    out.resize(start + bound);
    auto n = lz4_compress_into(in, std::span<std::uint8_t>(out).subspan(start));
    if (n == 0) {
        out.resize(start);
        return codec_errc::compression_failed;
    }
    out.resize(start + n);
    return {};
}

std::error_code lz4_decompress_into(bytes_view in, std::span<std::uint8_t> out) noexcept {
    if (in.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return codec_errc::decompression_failed;
    if (out.size() > lz4_max_expansion(in.size())) return codec_errc::decompression_failed;
    if (in.empty()) {
        // Not even a token: only an empty original fits (some senders skip the block).
        return out.empty() ? std::error_code{} : std::error_code(codec_errc::decompression_failed);
    }
    char dummy = 0;
    char* dst = out.empty() ? &dummy : reinterpret_cast<char*>(out.data());
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data()), dst,
                                static_cast<int>(in.size()), static_cast<int>(out.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) return codec_errc::decompression_failed;
    return {};
}

std::error_code lz4_decompress(bytes_view in, std::size_t uncompressed_size, byte_buffer& out,
                               std::size_t max_size) {
    if (uncompressed_size > max_size) return codec_errc::body_too_large;
    if (uncompressed_size > lz4_max_expansion(in.size()) ||
        uncompressed_size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return codec_errc::decompression_failed;
    auto start = out.size();
    out.resize(start + uncompressed_size);
    auto ec = lz4_decompress_into(in, std::span<std::uint8_t>(out).subspan(start));
    if (ec) out.resize(start);
    return ec;
}

std::error_code compress_frame_body_lz4(bytes_view body, byte_buffer& out) {
    if (body.size() > LZ4_MAX_INPUT_SIZE) return codec_errc::compression_failed;
    auto start = out.size();
    byte_writer w(out);
    w.u32(static_cast<std::uint32_t>(body.size()));
    auto ec = lz4_compress(body, out);
    if (ec) out.resize(start);
    return ec;
}

std::error_code decompress_frame_body_lz4(bytes_view compressed, byte_buffer& out,
                                          std::uint32_t max_body_size) {
    byte_reader r(compressed);
    auto length = r.i32();
    if (!r.ok()) return r.error();
    if (length < 0) return codec_errc::invalid_length;
    return lz4_decompress(r.rest(), static_cast<std::size_t>(length), out, max_body_size);
}

}  // namespace cql::protocol
