// Typed cell codecs, with byte vectors written from native_protocol_v5.spec section 6.
#include <catch2/catch.hpp>

#include "cql/protocol/cells.hpp"

using namespace cql::protocol;

namespace {
byte_buffer bytes_of(std::initializer_list<int> v) {
    byte_buffer out;
    for (int b : v)
        out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

template <class T>
byte_buffer encoded(const T& v) {
    byte_buffer out;
    byte_writer w(out);
    REQUIRE(encode_cell(w, v) == std::error_code{});
    return out;
}

template <class T>
T decoded(const byte_buffer& cell) {
    T out{};
    REQUIRE(decode_cell(bytes_view(cell), out) == std::error_code{});
    return out;
}

template <class T>
void check_both_ways(const byte_buffer& cell, const T& v) {
    CHECK(encoded(v) == cell);
    CHECK(decoded<T>(cell) == v);
    // The dynamic codec agrees on every byte: decoding with it and encoding back.
    byte_buffer framed;
    byte_writer w(framed);
    REQUIRE(write_cell(w, v) == std::error_code{});
    byte_reader r(framed);
    auto val = r.value();
    REQUIRE(r.finish() == std::error_code{});
    CHECK(val == value_view::of(cell));
}

template <class T>
void check_rejected(const byte_buffer& cell) {
    T out{};
    CHECK(decode_cell(bytes_view(cell), out) == codec_errc::value_type_mismatch);
}
}  // namespace

TEST_CASE("integer cells") {
    check_both_ways(bytes_of({0x80}), std::int8_t{-128});
    check_both_ways(bytes_of({0x01, 0x02}), std::int16_t{0x0102});
    check_both_ways(bytes_of({0xFF, 0xFF, 0xFF, 0xFE}), std::int32_t{-2});
    check_both_ways(bytes_of({0, 0, 0, 1}), std::int32_t{1});
    check_both_ways(bytes_of({0x80, 0, 0, 0, 0, 0, 0, 0}),
                    std::numeric_limits<std::int64_t>::min());
    check_rejected<std::int8_t>(bytes_of({}));
    check_rejected<std::int16_t>(bytes_of({1}));
    check_rejected<std::int32_t>(bytes_of({0, 0, 1}));
    check_rejected<std::int32_t>(bytes_of({0, 0, 0, 0, 1}));
    check_rejected<std::int64_t>(bytes_of({0, 0, 0, 1}));
}

TEST_CASE("boolean, float and double cells") {
    check_both_ways(bytes_of({1}), true);
    check_both_ways(bytes_of({0}), false);
    CHECK(decoded<bool>(bytes_of({0x10})) == true);
    check_rejected<bool>(bytes_of({}));
    check_both_ways(bytes_of({0x3F, 0xC0, 0, 0}), 1.5f);
    check_both_ways(bytes_of({0xBF, 0xF0, 0, 0, 0, 0, 0, 0}), -1.0);
    check_rejected<float>(bytes_of({0, 0, 0}));
    check_rejected<double>(bytes_of({0, 0, 0, 0}));
}

TEST_CASE("text and bytes cells are views into the input") {
    byte_buffer cell = bytes_of({'h', 0xC3, 0xA9});
    std::string_view sv;
    REQUIRE(decode_cell(bytes_view(cell), sv) == std::error_code{});
    CHECK(sv == "h\xC3\xA9");
    CHECK(reinterpret_cast<const std::uint8_t*>(sv.data()) == cell.data());
    CHECK(encoded(std::string_view("abc")) == bytes_of({'a', 'b', 'c'}));
    check_both_ways(bytes_of({'x', 'y'}), std::string("xy"));
    check_rejected<std::string_view>(bytes_of({0xC3}));
    check_rejected<std::string_view>(bytes_of({0xED, 0xA0, 0x80}));
    check_rejected<std::string>(bytes_of({0xFF, 'a'}));
    // Long ASCII runs (the eight-byte fast path) followed by a bad byte.
    byte_buffer long_bad(40, 'a');
    long_bad.push_back(0xFE);
    check_rejected<std::string_view>(long_bad);
    CHECK(is_valid_utf8(byte_buffer(40, 'a')));

    bytes_view bv;
    REQUIRE(decode_cell(bytes_view(cell), bv) == std::error_code{});
    CHECK(bv.data() == cell.data());
    CHECK(bv.size() == 3);
    check_both_ways(bytes_of({1, 2, 3}), bytes_of({1, 2, 3}));

    // Type-aware decoding checks ascii and refuses a type that does not fit.
    std::string_view out;
    CHECK(decode_cell(data_type(type_id::ascii), bytes_view(cell), out) ==
          codec_errc::value_type_mismatch);
    CHECK(decode_cell(data_type(type_id::varchar), bytes_view(cell), out) == std::error_code{});
    CHECK(decode_cell(data_type(type_id::int_), bytes_view(cell), out) ==
          codec_errc::value_type_mismatch);
}

TEST_CASE("uuid and inet cells") {
    uuid_bytes u{};
    for (std::size_t i = 0; i < 16; ++i)
        u[i] = static_cast<std::uint8_t>(i);
    byte_buffer cell(u.begin(), u.end());
    check_both_ways(cell, u);
    check_rejected<uuid_bytes>(bytes_of({1, 2, 3}));
    // cell[6] is 0x06: version 0, so not a timeuuid.
    uuid_bytes out{};
    CHECK(decode_cell(data_type(type_id::timeuuid), bytes_view(cell), out) ==
          codec_errc::value_type_mismatch);
    CHECK(decode_cell(data_type(type_id::uuid), bytes_view(cell), out) == std::error_code{});

    inet_address a;
    a.size = 4;
    a.bytes = {192, 168, 1, 2};
    check_both_ways(bytes_of({192, 168, 1, 2}), a);
    check_rejected<inet_address>(bytes_of({1, 2, 3, 4, 5}));
    inet_address bad;
    byte_buffer out_buf;
    byte_writer w(out_buf);
    CHECK(encode_cell(w, bad) == codec_errc::value_type_mismatch);
    CHECK(write_cell(w, bad) == codec_errc::value_type_mismatch);
    CHECK(out_buf.empty());
}

TEST_CASE("date, time and timestamp cells") {
    check_both_ways(bytes_of({0x80, 0, 0, 0}), cql_date{});
    CHECK(cql_date{}.days_since_epoch() == 0);
    CHECK(cql_date::from_days_since_epoch(-1).days == 0x7FFFFFFFu);
    using namespace std::chrono;
    CHECK(cql_date::from(sys_days{year{2021} / 3 / 4}).days_since_epoch() == 18690);
    CHECK(cql_date{0x80000000u + 18690}.to_sys_days() == sys_days{year{2021} / 3 / 4});

    check_both_ways(bytes_of({0, 0, 0, 0, 0, 0, 0x03, 0xE8}), cql_time{1000});
    check_rejected<cql_time>(bytes_of({0, 0, 0x4E, 0x94, 0x91, 0x4F, 0x00, 0x00}));  // 24:00:00
    check_rejected<cql_time>(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
    byte_buffer out;
    byte_writer w(out);
    CHECK(encode_cell(w, cql_time{-1}) == codec_errc::value_type_mismatch);
    CHECK(write_cell(w, cql_time{cql_time::max + 1}) == codec_errc::value_type_mismatch);

    check_both_ways(bytes_of({0, 0, 0x01, 0x77, 0xFB, 0xA0, 0xFC, 0x18}),
                    cql_timestamp{1614834367512});
    CHECK(cql_timestamp::from(sys_days{year{1970} / 1 / 2}).milliseconds == 86400000);
    // int64 reads a time column with its range check when the type is known.
    std::int64_t ns = 0;
    auto late = bytes_of({0, 0, 0x4E, 0x94, 0x91, 0x4F, 0x00, 0x00});
    CHECK(decode_cell(data_type(type_id::time), bytes_view(late), ns) ==
          codec_errc::value_type_mismatch);
    CHECK(decode_cell(data_type(type_id::bigint), bytes_view(late), ns) == std::error_code{});
}

TEST_CASE("duration, varint and decimal cells") {
    check_both_ways(bytes_of({0x02, 0x04, 0x06}), cql_duration{1, 2, 3});
    check_both_ways(bytes_of({0x01, 0x01, 0x01}), cql_duration{-1, -1, -1});
    check_rejected<cql_duration>(bytes_of({0x02, 0x01, 0x00}));
    check_rejected<cql_duration>(bytes_of({0x02, 0x04}));
    check_rejected<cql_duration>(bytes_of({0x02, 0x04, 0x06, 0x08}));

    auto v = bytes_of({0x00, 0x80});
    varint_view vv;
    REQUIRE(decode_cell(bytes_view(v), vv) == std::error_code{});
    CHECK(vv.bytes.data() == v.data());
    CHECK(encoded(vv) == v);
    check_rejected<varint_view>(bytes_of({}));

    auto d = bytes_of({0, 0, 0, 2, 0x04, 0xD2});
    decimal_view dv;
    REQUIRE(decode_cell(bytes_view(d), dv) == std::error_code{});
    CHECK(dv.scale == 2);
    CHECK(varint_view{dv.unscaled} == varint_view{bytes_view(d).subspan(4)});
    CHECK(encoded(dv) == d);
    check_rejected<decimal_view>(bytes_of({0, 0, 0, 2}));
}

TEST_CASE("[value] framing, null and the empty value") {
    byte_buffer out;
    byte_writer w(out);
    REQUIRE(write_cell(w, std::int32_t{7}) == std::error_code{});
    REQUIRE(write_cell(w, std::string_view("ab")) == std::error_code{});
    REQUIRE(write_cell(w, std::optional<std::int32_t>{}) == std::error_code{});
    CHECK(out == bytes_of({0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 2, 'a', 'b', 0xFF, 0xFF, 0xFF, 0xFF}));

    byte_reader r(out);
    auto a = r.value();
    auto b = r.value();
    auto c = r.value();
    REQUIRE(r.finish() == std::error_code{});
    std::int32_t i = 0;
    CHECK(decode_cell(a, i) == std::error_code{});
    CHECK(i == 7);
    std::string_view s;
    CHECK(decode_cell(b, s) == std::error_code{});
    CHECK(s == "ab");
    CHECK(decode_cell(c, i) == codec_errc::value_type_mismatch);
    std::optional<std::int32_t> oi = 5;
    CHECK(decode_cell(c, oi) == std::error_code{});
    CHECK_FALSE(oi.has_value());
    CHECK(decode_cell(value_view::of({}), oi) == std::error_code{});  // empty value
    CHECK_FALSE(oi.has_value());
    std::optional<std::string_view> os;
    CHECK(decode_cell(value_view::of({}), os) == std::error_code{});  // empty text is text
    CHECK(os == std::string_view{});
    CHECK(decode_cell(a, oi) == std::error_code{});
    CHECK(oi == 7);
    std::optional<inet_address> oa = inet_address{};
    CHECK(decode_cell(value_view::of({}), oa) == std::error_code{});
    CHECK_FALSE(oa.has_value());
    inet_address plain;
    CHECK(decode_cell(value_view::of({}), plain) == codec_errc::value_type_mismatch);
    std::optional<bytes_view> ob;
    CHECK(decode_cell(value_view::of({}), ob) == std::error_code{});
    CHECK(ob.has_value());

    CHECK(cell_accepts<std::int64_t>(data_type(type_id::counter)));
    CHECK(cell_accepts<bytes_view>(data_type(type_id::custom)));
    data_type v4_duration(type_id::custom);
    v4_duration.custom_class = "org.apache.cassandra.db.marshal.DurationType";
    CHECK(cell_accepts<cql_duration>(v4_duration));
    CHECK_FALSE(cell_accepts<std::int64_t>(v4_duration));
    cql_duration du;
    auto du_cell = bytes_of({0x02, 0x04, 0x06});
    CHECK(decode_cell(v4_duration, bytes_view(du_cell), du) == std::error_code{});
    CHECK(du == cql_duration{1, 2, 3});
    CHECK_FALSE(cell_accepts<std::int32_t>(data_type(type_id::bigint)));
    CHECK_FALSE(cell_accepts<std::string_view>(data_type(type_id::blob)));
}

TEST_CASE("typed cells agree with the dynamic value codec") {
    byte_buffer cell = bytes_of({0x02, 0x04, 0x06});
    value v;
    REQUIRE(decode_value(data_type(type_id::duration), cell, v) == std::error_code{});
    CHECK(std::get<cql_duration>(v.v) == decoded<cql_duration>(cell));
    byte_buffer f = bytes_of({0x3F, 0xC0, 0, 0});
    REQUIRE(decode_value(data_type(type_id::float_), f, v) == std::error_code{});
    CHECK(std::get<float>(v.v) == decoded<float>(f));
}
