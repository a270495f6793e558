// Must not compile: BOOST_ASIO_NO_DEPRECATED (defined on the command line) changes the
// signatures of Asio functions, and cql-asio was built without it; our header says so
// (tests/driver/CMakeLists.txt checks the text) rather than the program crashing.
#include "cql/cluster.hpp"

int main() {
    cql::cluster_config cfg;
    return cfg.contact_points.empty() ? 0 : 1;
}
