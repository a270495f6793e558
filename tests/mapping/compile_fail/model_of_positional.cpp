// A model (keys, renames) needs member names: a plain aggregate cannot have one.
// expect: static assertion failed
// expect: cql mapping: only a struct described with BOOST_DESCRIBE_STRUCT has a model
#include <boost/describe/class.hpp>

#include "cql/mapping.hpp"

namespace app {
struct point {
    std::int32_t x;
    std::int32_t y;
};
#ifndef CQL_EXPECT_FAIL
BOOST_DESCRIBE_STRUCT(point, (), (x, y))
#endif
inline void cql_model(cql::model<point>& m) {
    m.partition_key(&point::x);
}
}  // namespace app

const cql::struct_mapping& mapping() {
    return cql::model_of<app::point>().mapping();
}
