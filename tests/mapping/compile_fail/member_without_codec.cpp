// A described struct with a member whose type has no CQL codec: reading it as a row must
// not compile, and the diagnostic names the member.
// expect: static assertion failed: cql mapping: the type of a struct member has no CQL codec
// expect: member_type_has_a_cql_codec<&app::bad_row::weird, app::weird_t>
#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"

namespace app {
struct weird_t {
    weird_t() {}  // not an aggregate either: no codec, not a struct to map
};
struct bad_row {
    std::int32_t id;
#ifdef CQL_EXPECT_FAIL
    weird_t weird;
#else
    std::int32_t weird;
#endif
};
BOOST_DESCRIBE_STRUCT(bad_row, (), (id, weird))
}  // namespace app

app::bad_row read(const cql::row_view& row) {
    return row.as<app::bad_row>();
}
