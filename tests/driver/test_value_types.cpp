// The value types in cql:: (varint, decimal, inet, dates and times) and their conversions:
// round trips through text, integers, std::chrono and the cell bytes the spec defines
// (native_protocol_v5.spec 6: varint two's complement, decimal [int] scale + varint, inet 4 or
// 16 bytes, date uint32 with 2^31 at the epoch, time int64 ns, timestamp int64 ms).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "cql/prepared.hpp"
#include "cql/result.hpp"
#include "cql/statement.hpp"

using namespace cql;
namespace p = cql::protocol;
using p::byte_buffer;

namespace {

// The cell bytes a value binds as (in a simple statement).
template <class T>
byte_buffer bound(const T& v) {
    statement s("Q", v);
    REQUIRE_FALSE(s.bind_error());
    auto cell = s.values().at(0);
    return {cell.data.begin(), cell.data.end()};
}

// Decodes cell bytes as T, checked against the column type `t`.
template <class T>
T read(p::type_id t, const byte_buffer& cell) {
    T out{};
    const p::data_type type(t);
    REQUIRE_FALSE(values::decode(&type, p::bytes_view(cell), out));
    return out;
}

}  // namespace

TEST_CASE("varint: integers and decimal text, both ways, with the shortest bytes") {
    CHECK(bound(varint(0)) == byte_buffer{0x00});
    CHECK(bound(varint(127)) == byte_buffer{0x7F});
    CHECK(bound(varint(128)) == byte_buffer{0x00, 0x80});
    CHECK(bound(varint(-1)) == byte_buffer{0xFF});
    CHECK(bound(varint(-128)) == byte_buffer{0x80});
    CHECK(bound(varint(-129)) == byte_buffer{0xFF, 0x7F});
    CHECK(bound(varint(std::numeric_limits<std::uint64_t>::max())) ==
          byte_buffer{0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});

    const std::int64_t edges[] = {0,
                                  1,
                                  -1,
                                  255,
                                  256,
                                  -256,
                                  -257,
                                  std::numeric_limits<std::int32_t>::min(),
                                  std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::int64_t>::min()};
    for (auto e : edges) {
        varint v(e);
        CHECK(v.to<std::int64_t>() == e);
        CHECK(v.to_string() == std::to_string(e));
        CHECK(varint::from_string(std::to_string(e)) == v);
        CHECK(read<varint>(p::type_id::varint, bound(v)) == v);
    }
    CHECK(varint(std::numeric_limits<std::uint64_t>::max()).to_string() == "18446744073709551615");
    CHECK(varint(std::numeric_limits<std::uint64_t>::max()).to<std::uint64_t>() ==
          std::numeric_limits<std::uint64_t>::max());
    CHECK_FALSE(varint(std::numeric_limits<std::uint64_t>::max()).to<std::int64_t>());
    CHECK_FALSE(varint(-1).to<std::uint32_t>());
    CHECK_FALSE(varint(128).to<std::int8_t>());
    CHECK(varint(-128).to<std::int8_t>() == -128);

    // Beyond 64 bits: exact through text and bytes.
    const std::string big = "-123456789012345678901234567890123456789";
    auto v = varint::from_string(big);
    REQUIRE(v);
    CHECK(v->to_string() == big);
    CHECK_FALSE(v->to<std::int64_t>());
    CHECK(read<varint>(p::type_id::varint, bound(*v)).to_string() == big);
    CHECK(varint::from_string("+0042") == varint(42));
    CHECK(varint::from_string("-0") == varint(0));
    for (const char* bad : {"", "-", "+", "1.5", "1e3", " 1", "0x10", "12a"})
        CHECK_FALSE(varint::from_string(bad));

    // A longer-than-needed cell is the same number.
    CHECK(read<varint>(p::type_id::varint, byte_buffer{0x00, 0x00, 0x05}) == varint(5));
    CHECK(read<varint>(p::type_id::varint, byte_buffer{0xFF, 0xFF, 0xFE}) == varint(-2));
    varint none;
    const p::data_type vt(p::type_id::varint);
    CHECK(values::decode(&vt, p::bytes_view{}, none) == p::codec_errc::value_type_mismatch);

    CHECK(varint(-5) < varint(3));
    CHECK(varint(-300) < varint(-5));
    CHECK(varint(300) > varint(5));
    CHECK(*varint::from_string("99999999999999999999") > varint(1));
}

TEST_CASE("decimal: exact text in and out, integers, and the cell layout") {
    auto d = decimal::from_string("19.990");
    REQUIRE(d);
    CHECK(d->scale() == 3);
    CHECK(d->unscaled() == varint(19990));
    CHECK(d->to_string() == "19.990");
    // [int] scale 3, then varint 19990 = 0x4E16
    CHECK(bound(*d) == byte_buffer{0, 0, 0, 3, 0x4E, 0x16});
    CHECK(read<decimal>(p::type_id::decimal, bound(*d)) == *d);

    struct text_case {
        const char* in;
        const char* out;
        std::int32_t scale;
    };
    for (auto c :
         {text_case{"0", "0", 0}, text_case{"-0.00", "0.00", 2},
          text_case{"-12.3400", "-12.3400", 4}, text_case{".5", "0.5", 1}, text_case{"5.", "5", 0},
          text_case{"1E+3", "1E+3", -3}, text_case{"1.50E+3", "150E+1", -1},
          text_case{"2.5e-7", "0.00000025", 8}, text_case{"-0.001", "-0.001", 3},
          text_case{"123456789012345678901234567890.123456789",
                    "123456789012345678901234567890.123456789", 9},
          text_case{"1E+5000", "1E+5000", -5000}, text_case{"7E-2000", "7E-2000", 2000}}) {
        auto v = decimal::from_string(c.in);
        REQUIRE(v);
        CHECK(v->to_string() == c.out);
        CHECK(v->scale() == c.scale);
        CHECK(decimal::from_string(v->to_string()) == v);
        CHECK(read<decimal>(p::type_id::decimal, bound(*v)) == *v);
    }
    for (const char* bad : {"", "-", ".", "1.2.3", "1e", "1e+", "e5", "NaN", "inf", "0x10", "1,5",
                            " 1", "1e99999999999"})
        CHECK_FALSE(decimal::from_string(bad));

    CHECK(decimal(42).to_string() == "42");
    CHECK(decimal::from_string("12.00")->to<int>() == 12);
    CHECK(decimal::from_string("-1200E-2")->to<std::int64_t>() == -12);
    CHECK(decimal::from_string("5E+2")->to<std::int16_t>() == 500);
    CHECK_FALSE(decimal::from_string("12.5")->to<int>());
    CHECK_FALSE(decimal::from_string("0.001")->to<int>());
    CHECK_FALSE(decimal::from_string("1E+30")->to<std::int64_t>());
    CHECK(decimal::from_string("0.000")->to<int>() == 0);
    CHECK(decimal::from_string("1.25")->to_double() == 1.25);

    // == compares the representation, compare() the number.
    CHECK(*decimal::from_string("1.5") != *decimal::from_string("1.50"));
    CHECK(std::is_eq(compare(*decimal::from_string("1.5"), *decimal::from_string("1.50"))));
    CHECK(std::is_lt(compare(*decimal::from_string("-2"), *decimal::from_string("1E-9"))));
    CHECK(std::is_gt(compare(*decimal::from_string("0.15"), *decimal::from_string("0.1"))));
    CHECK(std::is_lt(compare(*decimal::from_string("-0.15"), *decimal::from_string("-0.1"))));
    CHECK(std::is_gt(compare(*decimal::from_string("1E+3"), *decimal::from_string("999.99"))));
}

TEST_CASE("inet: Asio addresses and text, 4 or 16 bytes") {
    namespace ip = boost::asio::ip;
    const auto v4 = ip::make_address("10.0.0.7");
    CHECK(bound(v4) == byte_buffer{10, 0, 0, 7});
    CHECK(read<ip::address>(p::type_id::inet, bound(v4)) == v4);
    CHECK(read<ip::address_v4>(p::type_id::inet, bound(v4)) == v4.to_v4());
    const auto v6 = ip::make_address("2001:db8::1");
    CHECK(bound(v6).size() == 16);
    CHECK(read<ip::address>(p::type_id::inet, bound(v6)) == v6);
    CHECK(bound(v6.to_v6()) == bound(v6));
    ip::address_v4 wrong;
    const p::data_type it(p::type_id::inet);
    auto six = bound(v6);
    CHECK(values::decode(&it, p::bytes_view(six), wrong) == p::codec_errc::value_type_mismatch);

    auto parsed = parse_inet("::1");
    REQUIRE(parsed);
    CHECK(parsed->size == 16);
    CHECK(to_string(*parsed) == "::1");
    CHECK(to_address(*parsed) == ip::make_address("::1"));
    CHECK(to_inet(v4) == *parse_inet("10.0.0.7"));
    CHECK(to_string(to_inet(v4)) == "10.0.0.7");
    CHECK(read<inet_address>(p::type_id::inet, bound(v4)) == to_inet(v4));
    CHECK_FALSE(parse_inet("10.0.0.256"));
    CHECK_FALSE(parse_inet("example.com"));
}

TEST_CASE("timestamp, date, time and duration with std::chrono") {
    using namespace std::chrono;
    // timestamp: int64 ms; a finer time point binds rounded down (also before 1970).
    const sys_time<milliseconds> t{milliseconds{1700000000123}};
    CHECK(bound(t) == byte_buffer{0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x7B});
    CHECK(read<sys_time<milliseconds>>(p::type_id::timestamp, bound(t)) == t);
    const system_clock::time_point fine = t + microseconds{999};
    CHECK(bound(fine) == bound(t));
    CHECK(read<system_clock::time_point>(p::type_id::timestamp, bound(fine)) == t);
    const sys_time<milliseconds> before{milliseconds{-1}};
    CHECK(bound(sys_time<microseconds>{microseconds{-1}}) == bound(before));
    CHECK(bound(timestamp::from(t)) == bound(t));
    // Beyond what a nanosecond time point holds (+-292 years): not read into one.
    const sys_time<milliseconds> far{milliseconds{std::int64_t{1} << 62}};
    system_clock::time_point too_far;
    const p::data_type ts(p::type_id::timestamp);
    auto far_cell = bound(far);
    CHECK(values::decode(&ts, p::bytes_view(far_cell), too_far) ==
          p::codec_errc::value_type_mismatch);
    CHECK(read<sys_time<milliseconds>>(p::type_id::timestamp, far_cell) == far);

    // date: uint32 days with 2^31 at 1970-01-01.
    const year_month_day epoch{year{1970}, month{1}, day{1}};
    CHECK(bound(epoch) == byte_buffer{0x80, 0, 0, 0});
    const year_month_day d{year{2024}, month{2}, day{29}};
    CHECK(read<year_month_day>(p::type_id::date, bound(d)) == d);
    CHECK(read<sys_days>(p::type_id::date, bound(d)) == sys_days(d));
    CHECK(bound(sys_days(d)) == bound(d));
    CHECK(bound(date::from(sys_days(d))) == bound(d));
    const year_month_day old{year{-4000}, month{1}, day{1}};
    CHECK(read<year_month_day>(p::type_id::date, bound(old)) == old);
    // 2^31 - 10^9 days: beyond year_month_day's years (sys_days holds it).
    const byte_buffer far_date = {0x44, 0x65, 0x36, 0x00};
    year_month_day beyond;
    const p::data_type dt(p::type_id::date);
    CHECK(values::decode(&dt, p::bytes_view(far_date), beyond) ==
          p::codec_errc::value_type_mismatch);
    CHECK(read<sys_days>(p::type_id::date, far_date).time_since_epoch() == days{-1000000000});
    statement bad_date("Q", year_month_day{year{2023}, month{2}, day{29}});
    CHECK(bad_date.bind_error() == errc::bad_bind_value);

    // time: int64 ns since midnight, 0 .. 86399999999999.
    const hh_mm_ss<nanoseconds> noonish{hours{12} + minutes{30} + nanoseconds{5}};
    CHECK(read<hh_mm_ss<nanoseconds>>(p::type_id::time, bound(noonish)).to_duration() ==
          noonish.to_duration());
    CHECK(bound(time_of_day::from(noonish.to_duration())) == bound(noonish));
    CHECK(time_of_day::from(minutes{1}).since_midnight() == minutes{1});
    statement day_long("Q", hh_mm_ss<nanoseconds>{hours{24}});
    CHECK(day_long.bind_error() == errc::bad_bind_value);
    statement negative("Q", hh_mm_ss<nanoseconds>{-seconds{1}});
    CHECK(negative.bind_error() == errc::bad_bind_value);

    // cql::duration: months, days, nanoseconds; std::chrono durations are fixed lengths.
    const auto ninety = cql::duration::from(minutes{90});
    CHECK(ninety == cql::duration{0, 0, 5400000000000});
    CHECK(ninety.to_nanoseconds() == minutes{90});
    CHECK(cql::duration{0, 2, 5}.to_nanoseconds() == hours{48} + nanoseconds{5});
    CHECK_FALSE(cql::duration{1, 0, 0}.to_nanoseconds());
    CHECK_FALSE((cql::duration{0, std::numeric_limits<std::int32_t>::max(), 0}.to_nanoseconds()));
    CHECK(read<cql::duration>(p::type_id::duration, bound(ninety)) == ninety);
}

TEST_CASE("the value types bind to prepared markers of their CQL type only") {
    auto info = std::make_shared<prepared_info>();
    for (auto t : {p::type_id::varint, p::type_id::decimal, p::type_id::inet, p::type_id::timestamp,
                   p::type_id::date})
        info->variables.push_back({"ks", "t", "c", p::data_type(t)});
    prepared_statement ps(info);
    auto ok = ps.bind(varint(5), *decimal::from_string("1.5"), boost::asio::ip::make_address("::1"),
                      std::chrono::system_clock::now(),
                      std::chrono::year_month_day{std::chrono::year{2024} / 1 / 2});
    CHECK_FALSE(ok.settings().bind_error());
    auto ints = ps.bind(5, 7, boost::asio::ip::make_address("::1"), std::int64_t{0},
                        std::chrono::sys_days{});
    CHECK_FALSE(ints.settings().bind_error());  // integers become varint and decimal
    CHECK(ints.settings().values()[0].data.size() == 1);
    auto wrong =
        ps.bind(varint(5), *decimal::from_string("1.5"), boost::asio::ip::make_address("::1"),
                std::chrono::sys_days{}, std::chrono::sys_days{});
    CHECK(wrong.settings().bind_error_message() ==
          "bind marker 4 (\"c\", timestamp): a std::chrono::sys_days cannot be bound to it");
}
