// Primitive notations, with byte vectors written from native_protocol_v5.spec section 3.
#include <catch2/catch.hpp>

#include "cql/protocol/bytes.hpp"

using namespace cql::protocol;

namespace {
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}
}  // namespace

TEST_CASE("integers are big-endian") {
    auto in = bytes_of(
        {0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00});
    byte_reader r(in);
    CHECK(r.u16() == 0x1234);
    CHECK(r.i32() == -2);
    CHECK(r.i64() == 0x100);
    CHECK(r.finish() == std::error_code{});

    byte_buffer out;
    byte_writer w(out);
    w.u16(0x1234);
    w.i32(-2);
    w.i64(0x100);
    CHECK(out == in);
}

TEST_CASE("[string] and [long string]") {
    auto in = bytes_of({0x00, 0x03, 'a', 'b', 'c', 0x00, 0x00, 0x00, 0x02, 'x', 'y'});
    byte_reader r(in);
    CHECK(r.string() == "abc");
    CHECK(r.long_string() == "xy");
    CHECK(r.finish() == std::error_code{});
}

TEST_CASE("[value] distinguishes bytes, null and not set") {
    auto in = bytes_of({0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE});
    byte_reader r(in);
    auto a = r.value();
    auto b = r.value();
    auto c = r.value();
    REQUIRE(r.finish() == std::error_code{});
    CHECK(a.state == value_view::kind::bytes);
    CHECK(a.data.size() == 1);
    CHECK(b.is_null());
    CHECK(c.is_unset());

    byte_buffer out;
    byte_writer w(out);
    w.value(a);
    w.value(b);
    w.value(c);
    CHECK(out == in);
}

TEST_CASE("a [value] length below -2 is malformed") {
    auto in = bytes_of({0xFF, 0xFF, 0xFF, 0xFD});
    byte_reader r(in);
    (void)r.value();
    CHECK(r.error() == codec_errc::invalid_length);
}

TEST_CASE("truncation is sticky and later reads return empty values") {
    auto in = bytes_of({0x00, 0x05, 'a', 'b'});
    byte_reader r(in);
    CHECK(r.string().empty());
    CHECK(r.error() == codec_errc::truncated);
    CHECK(r.i32() == 0);
    CHECK(r.error() == codec_errc::truncated);
}

TEST_CASE("a hostile list count does not allocate beyond the input") {
    auto in = bytes_of({0xFF, 0xFF, 0x00, 0x00});
    byte_reader r(in);
    auto list = r.string_list();
    CHECK(list.empty());
    CHECK(r.error() == codec_errc::truncated);
}

TEST_CASE("[inet] holds IPv4 and IPv6 addresses with a port") {
    auto in = bytes_of({4, 127, 0, 0, 1, 0, 0, 0x23, 0x52});
    byte_reader r(in);
    auto a = r.inet();
    REQUIRE(r.finish() == std::error_code{});
    CHECK(a.size == 4);
    CHECK(a.bytes[0] == 127);
    CHECK(a.port == 9042);

    auto bad = bytes_of({5, 1, 2, 3, 4, 5, 0, 0, 0, 0});
    byte_reader rb(bad);
    (void)rb.inet();
    CHECK(rb.error() == codec_errc::invalid_value);
}

TEST_CASE("[unsigned vint] uses leading one bits for extra bytes") {
    struct sample {
        std::uint64_t value;
        byte_buffer encoded;
    };
    std::vector<sample> samples = {
        {0, bytes_of({0x00})},
        {127, bytes_of({0x7F})},
        {128, bytes_of({0x80, 0x80})},
        {16383, bytes_of({0xBF, 0xFF})},
        {16384, bytes_of({0xC0, 0x40, 0x00})},
        {0xFFFFFFFFFFFFFFFFull, bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})},
    };
    for (const auto& s : samples) {
        byte_buffer out;
        byte_writer w(out);
        w.unsigned_vint(s.value);
        CHECK(out == s.encoded);
        byte_reader r(s.encoded);
        CHECK(r.unsigned_vint() == s.value);
        CHECK(r.finish() == std::error_code{});
    }
}

TEST_CASE("[vint] is zig-zag encoded") {
    for (std::int64_t v :
         std::initializer_list<std::int64_t>{0, -1, 1, -64, 64, INT64_MIN, INT64_MAX}) {
        byte_buffer out;
        byte_writer w(out);
        w.vint(v);
        byte_reader r(out);
        CHECK(r.vint() == v);
        CHECK(r.finish() == std::error_code{});
    }
    byte_buffer out;
    byte_writer w(out);
    w.vint(-1);
    CHECK(out == bytes_of({0x01}));
}
