// Values: input = [type option][cell]. read_type_option takes the type from the first
// bytes; the rest is one cell. decode_value and validate_value must agree; a decoded value
// must print (to_cql_literal), re-encode, and decode to a value that re-encodes to the
// same bytes (bytes, not ==, so that a NaN float compares equal to itself).
#include <cstddef>
#include <cstdint>

#include "cql/protocol/types.hpp"
#include "cql/protocol/value.hpp"
#include "fuzz_common.hpp"

using namespace cql::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    byte_reader r(bytes_view(data, size));
    data_type t;
    read_type_option(r, t);
    if (!r.ok()) return 0;
    auto cell = r.rest();

    value v;
    auto decoded = decode_value(t, cell, v);
    auto valid = validate_value(t, cell);
    CQL_FUZZ_CHECK(!decoded == !valid);
    if (decoded) return 0;

    auto text = to_cql_literal(t, v);
    CQL_FUZZ_CHECK(!text.empty());
    // An empty cell of a non-string type decodes as null (value.cpp), and a null is not a
    // cell (it is a [bytes] of length -1 around it): nothing to re-encode.
    if (v.is_null()) {
        CQL_FUZZ_CHECK(cell.empty());
        return 0;
    }
    byte_buffer once;
    CQL_FUZZ_CHECK(!encode_value(t, v, once));
    value again;
    CQL_FUZZ_CHECK(!decode_value(t, once, again));
    byte_buffer twice;
    CQL_FUZZ_CHECK(!encode_value(t, again, twice));
    CQL_FUZZ_CHECK(twice == once);
    (void)compare_values(t, v, again);

    // The type itself round-trips through its [option] encoding.
    byte_buffer opt;
    byte_writer w(opt);
    write_type_option(w, t);
    byte_reader r2(opt);
    data_type t2;
    read_type_option(r2, t2);
    CQL_FUZZ_CHECK(r2.ok() && r2.remaining() == 0);
    CQL_FUZZ_CHECK(t2 == t);
    return 0;
}
