// The value types of the driver (cql::varint, cql::decimal, inet, the std::chrono codecs):
// input = [mode byte][rest]. Text parsers must accept or refuse without crashing, and what
// they accept must print back to text that parses to the same value; cells must decode or be
// refused, and what decodes must re-encode to a cell that decodes to the same value.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cql/values.hpp"
#include "fuzz_common.hpp"

namespace p = cql::protocol;

namespace {

template <class T>
void cell_round_trip(p::type_id id, p::bytes_view cell) {
    const p::data_type type(id);
    T v{};
    if (cql::values::decode(&type, cell, v)) return;
    p::byte_buffer once;
    p::byte_writer w(once);
    CQL_FUZZ_CHECK(!cql::values::encode(w, v));
    T again{};
    CQL_FUZZ_CHECK(!cql::values::decode(&type, p::bytes_view(once), again));
    p::byte_buffer twice;
    p::byte_writer w2(twice);
    CQL_FUZZ_CHECK(!cql::values::encode(w2, again));
    CQL_FUZZ_CHECK(once == twice);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto mode = data[0] % 10;
    const p::bytes_view rest(data + 1, size - 1);
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (mode) {
        case 0:
            if (auto v = cql::varint::from_string(text)) {
                CQL_FUZZ_CHECK(cql::varint::from_string(v->to_string()) == v);
                CQL_FUZZ_CHECK(cql::varint::from_bytes(v->bytes()) == v);
            }
            break;
        case 1:
            if (auto d = cql::decimal::from_string(text)) {
                auto back = cql::decimal::from_string(d->to_string());
                CQL_FUZZ_CHECK(back == d);
                CQL_FUZZ_CHECK(std::is_eq(compare(*back, *d)));
                (void)d->to_double();
                (void)d->to<std::int64_t>();
            }
            break;
        case 2:
            if (auto a = cql::parse_inet(text))
                CQL_FUZZ_CHECK(cql::parse_inet(cql::to_string(*a)) == a);
            break;
        case 3:
            if (auto v = cql::varint::from_bytes(rest)) {
                CQL_FUZZ_CHECK(cql::varint::from_string(v->to_string()) == v);
                (void)v->to<std::int64_t>();
                (void)v->to<std::uint64_t>();
            }
            cell_round_trip<cql::varint>(p::type_id::varint, rest);
            break;
        case 4:
            cell_round_trip<cql::decimal>(p::type_id::decimal, rest);
            break;
        case 5:
            cell_round_trip<boost::asio::ip::address>(p::type_id::inet, rest);
            break;
        case 6:
            cell_round_trip<std::chrono::system_clock::time_point>(p::type_id::timestamp, rest);
            break;
        case 7:
            cell_round_trip<std::chrono::year_month_day>(p::type_id::date, rest);
            break;
        case 8:
            cell_round_trip<std::chrono::hh_mm_ss<std::chrono::nanoseconds>>(p::type_id::time,
                                                                             rest);
            break;
        default:
            cell_round_trip<cql::duration>(p::type_id::duration, rest);
            break;
    }
    return 0;
}
