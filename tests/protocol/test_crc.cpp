// CRC24 of v5 segment headers and CRC32 of segment payloads (native_protocol_v5.spec,
// section 2), checked against hand-computed values and bytes Cassandra 4.0 sent.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "cql/protocol/crc.hpp"

using namespace cql::protocol;

namespace {
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

// The CRC24 exactly as the spec describes it, one bit at a time: the reference the
// table-driven version must agree with.
std::uint32_t crc24_bitwise(bytes_view data) {
    std::uint32_t crc = 0x875060;
    for (auto b : data) {
        crc ^= static_cast<std::uint32_t>(b) << 16;
        for (int i = 0; i < 8; ++i) {
            crc <<= 1;
            if (crc & 0x1000000) crc ^= 0x1974F0B;
        }
    }
    return crc & 0xFFFFFF;
}

byte_buffer load_fixture(const std::string& name) {
    std::ifstream in(std::string(CQL_FIXTURES_DIR) + "/cassandra-4.0-traffic/" + name,
                     std::ios::binary);
    REQUIRE(in);
    return byte_buffer(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uint32_t le(bytes_view b) {
    std::uint32_t v = 0;
    for (std::size_t i = b.size(); i > 0; --i)
        v = (v << 8) | b[i - 1];
    return v;
}
}  // namespace

TEST_CASE("CRC24 of nothing is the initial value") {
    CHECK(crc24({}) == 0x875060);
}

TEST_CASE("CRC24 check value") {
    // "123456789", computed by hand with the bitwise definition.
    CHECK(crc24(as_bytes("123456789")) == 0x4B3F02);
    CHECK(crc24_bitwise(as_bytes("123456789")) == 0x4B3F02);
}

TEST_CASE("CRC24 of real segment headers") {
    // Uncompressed header: 9 bytes, self-contained (bit 17) -> 09 00 02, CRC a4 c8 c1
    // (conn02.server.bin, first segment after READY).
    CHECK(crc24(bytes_of({0x09, 0x00, 0x02})) == 0xC1C8A4);
    // conn02.client.bin, first segment (a REGISTER of 58 bytes): 3a 00 02 | 73 61 83.
    CHECK(crc24(bytes_of({0x3A, 0x00, 0x02})) == 0x836173);
    // Compressed header, 53 bytes compressed, 58 uncompressed, self-contained
    // (conn04.client.bin): 35 00 74 00 04 | 4e 49 6c.
    CHECK(crc24(bytes_of({0x35, 0x00, 0x74, 0x00, 0x04})) == 0x6C494E);
    // Compressed layout, payload sent uncompressed (uncompressed length 0):
    // 09 00 00 00 04 | c2 b8 95 (conn04.server.bin).
    CHECK(crc24(bytes_of({0x09, 0x00, 0x00, 0x00, 0x04})) == 0x95B8C2);
}

TEST_CASE("table-driven CRC24 equals the bitwise definition") {
    std::mt19937 rng(42);
    for (std::size_t len = 0; len < 64; ++len) {
        byte_buffer data(len);
        for (auto& b : data)
            b = static_cast<std::uint8_t>(rng());
        CHECK(crc24(data) == crc24_bitwise(data));
    }
}

TEST_CASE("CRC32 is zlib's, primed with FA 2D 55 CA") {
    CHECK(crc32({}) == crc32_seed);
    CHECK(crc32_seed == 0x44777ED3);  // zlib crc32 of FA 2D 55 CA
    CHECK(crc32_update(0, bytes_of({0xFA, 0x2D, 0x55, 0xCA})) == crc32_seed);
    CHECK(crc32_update(0, as_bytes("123456789")) == 0xCBF43926);  // the standard check value
    CHECK(crc32(as_bytes("123456789")) == 0xE2A261A7);
    // Payload of the first segment Cassandra sent after READY (a READY frame for the
    // REGISTER on stream 2); the trailer on the wire is 44 fb 95 d4.
    CHECK(crc32(bytes_of({0x85, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00})) == 0xD495FB44);
}

TEST_CASE("CRC32 computed in pieces equals the whole") {
    byte_buffer data(10000);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    auto whole = crc32(data);
    auto c = crc32_seed;
    bytes_view v(data);
    c = crc32_update(c, v.first(1));
    c = crc32_update(c, v.subspan(1, 4095));
    c = crc32_update(c, v.subspan(4096));
    CHECK(c == whole);
}

TEST_CASE("CRCs of the first segment of every v5 fixture") {
    // (file, offset of the first segment, header size)
    struct first_segment {
        const char* file;
        std::size_t offset;
        std::size_t header;
    };
    const first_segment cases[] = {
        {"conn02.client.bin", 101, 6}, {"conn02.server.bin", 120, 6}, {"conn03.client.bin", 101, 6},
        {"conn03.server.bin", 120, 6}, {"conn04.client.bin", 119, 8}, {"conn04.server.bin", 120, 8},
        {"conn05.client.bin", 119, 8}, {"conn05.server.bin", 120, 8},
    };
    for (const auto& c : cases) {
        INFO(c.file);
        auto data = load_fixture(c.file);
        bytes_view all(data);
        auto header = all.subspan(c.offset, c.header);
        auto fields = header.first(c.header - 3);
        CHECK(crc24(fields) == le(header.subspan(c.header - 3)));
        auto length = le(fields) & 0x1FFFF;
        auto payload = all.subspan(c.offset + c.header, length);
        CHECK(crc32(payload) == le(all.subspan(c.offset + c.header + length, 4)));
    }
}
