// Must not compile: an unsigned type has no CQL codec; the error is our static_assert's
// sentence, not a page of concept failures (tests/driver/CMakeLists.txt checks the text).
#include "cql/result.hpp"

unsigned read(const cql::row_view& row) {
    return row.get<unsigned>(0);
}
