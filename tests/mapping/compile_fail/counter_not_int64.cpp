// model::counter() on a member that is not std::int64_t.
// expect: static assertion failed
// expect: cql mapping: a counter column is read and written as std::int64_t
#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"

namespace app {
struct hits {
    std::string page;
#ifdef CQL_EXPECT_FAIL
    std::int32_t views;
#else
    std::int64_t views;
#endif
};
BOOST_DESCRIBE_STRUCT(hits, (), (page, views))
inline void cql_model(cql::model<hits>& m) {
    m.partition_key(&hits::page).counter(&hits::views);
}
}  // namespace app

const cql::struct_mapping& mapping() {
    return cql::model_of<app::hits>().mapping();
}
