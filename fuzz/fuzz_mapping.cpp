// Mapped structs as user types: input = [type option][cell]. The cell is decoded into
// structs mapped by name (nested, optional, in collections) and by position. Whatever the
// bytes, decoding fails cleanly or succeeds; a value that decoded, whose type the metadata
// check accepts, re-encodes with that type (fields in the type's order) and decodes to the
// same value.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>

#include "cql/mapping/bind.hpp"
#include "cql/values.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;

namespace fz {
struct inner {
    std::optional<std::int32_t> a;
    std::optional<std::string> b;
    friend bool operator==(const inner&, const inner&) = default;
};
BOOST_DESCRIBE_STRUCT(inner, (), (a, b))

struct outer {
    std::optional<inner> x;
    std::vector<inner> xs;
    std::map<std::string, inner> m;
    std::optional<std::int64_t> n;
    friend bool operator==(const outer&, const outer&) = default;
};
BOOST_DESCRIBE_STRUCT(outer, (), (x, xs, m, n))

struct by_position {
    std::int32_t p;
    std::optional<std::string> q;
    friend bool operator==(const by_position&, const by_position&) = default;
};
}  // namespace fz

namespace {

template <class T>
void round_trip(const data_type& t, bytes_view cell) {
    T v{};
    if (cql::values::decode(&t, cell, v)) return;
    std::string why;
    if (!cql::detail::type_fits<T>(t, why)) return;
    byte_buffer once;
    byte_writer w(once);
    CQL_FUZZ_CHECK(!cql::detail::encode_typed(w, v, &t));
    T again{};
    CQL_FUZZ_CHECK(!cql::values::decode(&t, bytes_view(once), again));
    CQL_FUZZ_CHECK(again == v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    byte_reader r(bytes_view(data, size));
    data_type t;
    read_type_option(r, t);
    if (!r.ok()) return 0;
    const auto cell = r.rest();
    round_trip<fz::inner>(t, cell);
    round_trip<fz::outer>(t, cell);
    round_trip<fz::by_position>(t, cell);
    round_trip<std::vector<fz::outer>>(t, cell);
    return 0;
}
