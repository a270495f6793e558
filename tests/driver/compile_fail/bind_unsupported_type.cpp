// Must not compile: an unsigned type has no CQL codec; the error is our static_assert's
// sentence (tests/driver/CMakeLists.txt checks the text).
#include "cql/statement.hpp"

cql::statement bind(unsigned v) {
    return cql::statement("INSERT INTO ks.t (k) VALUES (?)", v);
}
