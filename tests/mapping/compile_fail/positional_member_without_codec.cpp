// A plain aggregate (mapped by position) with a member that has no CQL codec, bound to a
// statement: the diagnostic names the struct and the member's index.
// expect: static assertion failed: cql mapping: the type of a struct member has no CQL codec
// expect: positional_member_type_has_a_cql_codec<app::pair, 1, std::vector<app::opaque>
#include <vector>

#include "cql/mapping.hpp"

namespace app {
struct opaque {
    opaque() {}
};
struct pair {
    std::int32_t a;
#ifdef CQL_EXPECT_FAIL
    std::vector<opaque> b;
#else
    std::vector<std::int32_t> b;
#endif
};
}  // namespace app

cql::statement make() {
    return cql::statement("INSERT INTO t (k, v) VALUES (1, ?)", app::pair{});
}
