// LZ4 blocks (v5 segments) and v4 frame body compression (native_protocol_v4.spec
// section 5: the body is a 4-byte big-endian uncompressed length, then an LZ4 block).
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "cql/protocol/compression.hpp"

using namespace cql::protocol;

namespace {
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}
byte_buffer text(std::string_view s) {
    auto b = as_bytes(s);
    return byte_buffer(b.begin(), b.end());
}
byte_buffer random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    byte_buffer out(n);
    for (auto& b : out)
        b = static_cast<std::uint8_t>(rng());
    return out;
}
byte_buffer repetitive(std::size_t n) {
    byte_buffer out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>("system_schema.columns "[i % 22]);
    return out;
}
}  // namespace

TEST_CASE("names for STARTUP") {
    CHECK(to_string(compression_algorithm::lz4) == "lz4");
    CHECK(to_string(compression_algorithm::none).empty());
}

TEST_CASE("hand-written LZ4 blocks decode") {
    // A block of literals only: token 0x50 (5 literals, no match), then the literals.
    byte_buffer out;
    REQUIRE_FALSE(lz4_decompress(bytes_of({0x50, 'h', 'e', 'l', 'l', 'o'}), 5, out));
    CHECK(out == text("hello"));

    // Token 0x3F: 3 literals "abc", match length 15 + 4 + extra byte 1 = 20 at offset 3;
    // then the last sequence: token 0x60 and 6 literals.
    auto block =
        bytes_of({0x3F, 'a', 'b', 'c', 0x03, 0x00, 0x01, 0x60, 'x', 'y', 'z', 'x', 'y', 'z'});
    out.clear();
    REQUIRE_FALSE(lz4_decompress(block, 29, out));
    CHECK(out == text("abcabcabcabcabcabcabcab"
                      "xyzxyz"));  // 3 + 20 + 6
}

TEST_CASE("hand-written LZ4 block: every wrong size is refused") {
    auto block = bytes_of({0x50, 'h', 'e', 'l', 'l', 'o'});
    for (std::size_t size : {0u, 1u, 4u, 6u, 100u}) {
        byte_buffer out = text("keep");
        CHECK(lz4_decompress(block, size, out) == codec_errc::decompression_failed);
        CHECK(out == text("keep"));  // untouched on error
    }
}

TEST_CASE("LZ4 round trips") {
    for (std::size_t n : {0u, 1u, 15u, 100u, 4096u, 65536u, 300000u}) {
        for (auto input : {random_bytes(n, static_cast<unsigned>(n)), repetitive(n)}) {
            INFO(n);
            byte_buffer compressed;
            REQUIRE_FALSE(lz4_compress(input, compressed));
            CHECK(compressed.size() <= lz4_compress_bound(n));
            byte_buffer back = text("prefix");
            REQUIRE_FALSE(lz4_decompress(compressed, n, back));
            CHECK(byte_buffer(back.begin() + 6, back.end()) == input);
        }
    }
}

TEST_CASE("LZ4 compresses repetitive data and its expansion bound holds") {
    byte_buffer zeros(1 << 20, 0);
    byte_buffer compressed;
    REQUIRE_FALSE(lz4_compress(zeros, compressed));
    CHECK(compressed.size() < zeros.size() / 200);
    // The most compressible input must still be within the bound we use to refuse
    // impossible sizes before allocating.
    CHECK(zeros.size() <= lz4_max_expansion(compressed.size()));
    byte_buffer back;
    REQUIRE_FALSE(lz4_decompress(compressed, zeros.size(), back));
    CHECK(back == zeros);
}

TEST_CASE("LZ4 decompression refuses sizes before allocating") {
    auto block = bytes_of({0x50, 'h', 'e', 'l', 'l', 'o'});
    byte_buffer out;
    // Above the caller's maximum.
    CHECK(lz4_decompress(block, 5, out, 4) == codec_errc::body_too_large);
    // More than 6 bytes can ever expand to: refused without allocating 1 GiB.
    CHECK(lz4_decompress(block, 1u << 30, out, 1u << 31) == codec_errc::decompression_failed);
    CHECK(out.capacity() == 0);
}

TEST_CASE("corrupt LZ4 blocks give errors, never crashes") {
    auto original = repetitive(5000);
    byte_buffer compressed;
    REQUIRE_FALSE(lz4_compress(original, compressed));
    // Truncations.
    for (std::size_t n = 0; n < compressed.size(); ++n) {
        byte_buffer out;
        CHECK(lz4_decompress(bytes_view(compressed).first(n), original.size(), out) ==
              codec_errc::decompression_failed);
    }
    // Every single byte replaced by other values: an error or (rarely) the exact size.
    for (std::size_t i = 0; i < compressed.size(); ++i) {
        for (int x : {0x01, 0x80, 0xFF}) {
            auto bad = compressed;
            bad[i] = static_cast<std::uint8_t>(bad[i] ^ x);
            byte_buffer out;
            auto ec = lz4_decompress(bad, original.size(), out);
            if (ec)
                CHECK(ec == codec_errc::decompression_failed);
            else
                CHECK(out.size() == original.size());
        }
    }
    // Random garbage.
    for (unsigned seed = 0; seed < 200; ++seed) {
        auto junk = random_bytes(1 + seed % 64, seed);
        byte_buffer out;
        auto ec = lz4_decompress(junk, 1000, out);
        if (ec) CHECK(out.empty());
    }
}

TEST_CASE("v4 body compression: big-endian length then an LZ4 block") {
    auto body = text("SELECT * FROM system.local WHERE key='local'");
    byte_buffer out;
    REQUIRE_FALSE(compress_frame_body_lz4(body, out));
    REQUIRE(out.size() > 4);
    CHECK(bytes_view(out).first(4).size() == 4);
    CHECK(out[0] == 0x00);
    CHECK(out[1] == 0x00);
    CHECK(out[2] == 0x00);
    CHECK(out[3] == body.size());
    byte_buffer block(out.begin() + 4, out.end());
    byte_buffer direct;
    REQUIRE_FALSE(lz4_decompress(block, body.size(), direct));
    CHECK(direct == body);

    byte_buffer back;
    REQUIRE_FALSE(decompress_frame_body_lz4(out, back));
    CHECK(back == body);
}

TEST_CASE("v4 body decompression of hand-written bytes") {
    byte_buffer out;
    REQUIRE_FALSE(
        decompress_frame_body_lz4(bytes_of({0, 0, 0, 5, 0x50, 'h', 'e', 'l', 'l', 'o'}), out));
    CHECK(out == text("hello"));

    // Empty body: length 0 with the one-byte empty block, or with no block at all.
    out.clear();
    CHECK_FALSE(decompress_frame_body_lz4(bytes_of({0, 0, 0, 0, 0x00}), out));
    CHECK_FALSE(decompress_frame_body_lz4(bytes_of({0, 0, 0, 0}), out));
    CHECK(out.empty());

    // Wrong length.
    CHECK(decompress_frame_body_lz4(bytes_of({0, 0, 0, 6, 0x50, 'h', 'e', 'l', 'l', 'o'}), out) ==
          codec_errc::decompression_failed);
    CHECK(decompress_frame_body_lz4(bytes_of({0, 0, 0, 4, 0x50, 'h', 'e', 'l', 'l', 'o'}), out) ==
          codec_errc::decompression_failed);
    // Negative length.
    CHECK(decompress_frame_body_lz4(bytes_of({0xFF, 0xFF, 0xFF, 0xFE, 0x00}), out) ==
          codec_errc::invalid_length);
    // Length field cut short.
    CHECK(decompress_frame_body_lz4(bytes_of({0, 0, 0}), out) == codec_errc::truncated);
    // Above the configured maximum: refused before allocating.
    CHECK(decompress_frame_body_lz4(
              bytes_of({0x01, 0x00, 0x00, 0x00, 0x50, 'h', 'e', 'l', 'l', 'o'}), out, 1024) ==
          codec_errc::body_too_large);
    CHECK(out.empty());
}
